"""The `boards`, `sprints` and `epics` streams through the real command lines, on both flavours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from integration_tests.fakes.jira_data import EPIC, Deployment, generate_dataset, to_epoch_ms
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli, jira_port
from integration_tests.support.configs import PORT_SECRET, write_config
from integration_tests.support.messages import of_type, records

pytestmark = pytest.mark.integration

AGILE = "/rest/agile/1.0/"


@pytest.fixture(params=["cloud", "server"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    deployment: Deployment = request.param
    with FakeJira(deployment, generate_dataset(projects=3, issues=200)) as fake:
        yield fake


def _agile_requests(fake: FakeJira) -> list[tuple[str, dict[str, list[str]]]]:
    return [(r.path, r.query) for r in fake.requests_log if r.path.startswith(AGILE)]


def _statuses(messages: list[dict[str, Any]], stream: str) -> list[str]:
    return [
        m["trace"]["stream_status"]["status"]
        for m in of_type(messages, "TRACE")
        if m["trace"].get("stream_status", {}).get("stream_descriptor", {}).get("name") == stream
    ]


def _logs(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m["log"]["message"]) for m in of_type(messages, "LOG")]


def test_read_lists_every_board_sprint_and_epic_once(source_cli: SourceCli, jira: FakeJira) -> None:
    agile = jira.agile
    for n in range(55):  # two pages of boards: Jira serves at most 50 a page
        agile.add_board(f"Kanban {n}", "kanban", jira.dataset.projects[0].key)
    shared = next(s for s in agile.sprints.values() if s.shared_with)

    code, messages, _ = source_cli.run(
        "read", jira.source_config(), configured_catalog("boards", "sprints", "epics")
    )

    assert code == 0
    boards = records(messages, "boards")
    assert sorted(b["id"] for b in boards) == sorted(agile.boards)
    assert {b["location"]["projectKey"] for b in boards} == {p.key for p in jira.dataset.projects}
    sprints = records(messages, "sprints")
    assert sorted(s["id"] for s in sprints) == sorted(agile.sprints)  # the shared one once
    assert {s["state"] for s in sprints} == {"future", "active", "closed"}
    [shared_record] = [s for s in sprints if s["id"] == shared.id]
    assert shared_record["originBoardId"] == shared.origin_board
    epics = records(messages, "epics")
    expected = {i.id: i.project_key for i in jira.dataset.issues.values() if i.issuetype == EPIC}
    assert expected
    assert {e["id"]: e["key"].split("-")[0] for e in epics} == expected
    boards_of = {
        key: {str(b.id) for b in agile.boards.values() if b.project_key == key}
        for key in set(expected.values())
    }
    assert all(e["__boardId"] in boards_of[expected[e["id"]]] for e in epics)  # one of its boards
    requested = _agile_requests(jira)
    board_pages = [
        params.get("startAt", ["0"])[0] for path, params in requested if path.endswith("/board")
    ]
    assert sorted(board_pages) == ["0"] * 3 + ["50"] * 3  # the list, and as two streams' parent
    kanban = {b.id for b in agile.boards.values() if b.type == "kanban"}
    sprint_boards = {int(p.split("/")[5]) for p, _ in requested if p.endswith("/sprint")}
    assert sprint_boards == set(agile.boards) - kanban  # no request for a kanban board
    for stream in ("boards", "sprints", "epics"):
        assert _statuses(messages, stream)[-1] == "COMPLETE"


def test_projects_option_leaves_out_the_boards_of_other_projects(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    key = jira.dataset.projects[1].key
    jira.agile.add_board("Personal", "kanban", None)  # located on a user: no project

    code, messages, _ = source_cli.run(
        "read", jira.source_config(projects=[key]), configured_catalog("boards", "sprints")
    )

    assert code == 0
    assert [b["location"]["projectKey"] for b in records(messages, "boards")] == [key]
    board = jira.agile.scrum_board(key)
    assert {s["id"] for s in records(messages, "sprints")} == {
        s.id for s in jira.agile.sprints_of(board.id)
    }


def test_without_jira_software_each_agile_stream_is_skipped_with_one_line(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    jira.agile.software = False

    code, messages, _ = source_cli.run(
        "read", jira.source_config(), configured_catalog("projects", "boards", "sprints", "epics")
    )

    assert code == 0
    assert records(messages, "projects")
    for stream in ("boards", "sprints", "epics"):
        assert not records(messages, stream)
        lines = [line for line in _logs(messages) if line.startswith(f"Stream {stream} ")]
        assert len(lines) == 1 and "Jira Software is not installed" in lines[0], lines
        assert _statuses(messages, stream)[-1] == "INCOMPLETE"  # so nothing is deleted
    assert _statuses(messages, "projects")[-1] == "COMPLETE"


def _sync(path: Path) -> str:
    done = jira_port("sync", "--verbose", "--config", path)  # the skip lines are INFO
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_sync_writes_agile_entities_with_relations_and_follows_changes(
    tmp_path: Path, jira: FakeJira, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cache").mkdir()  # the CDK's parent cache must not serve the second sync
    monkeypatch.setenv("REQUEST_CACHE_PATH", str(tmp_path / "cache"))
    agile = jira.agile
    with FakePort(client_secret=PORT_SECRET) as port:
        path = write_config(tmp_path, jira, port)
        _sync(path)

        boards = port.entities("jiraBoard")
        assert set(boards) == {str(b) for b in agile.boards}
        assert {b["relations"]["project"] for b in boards.values()} <= set(
            port.entities("jiraProject")
        )
        sprints = port.entities("jiraSprint")
        assert set(sprints) == {str(s) for s in agile.sprints}
        assert all(s["relations"]["board"] in boards for s in sprints.values())
        epics = port.entities("jiraEpic")
        assert epics and all(e["relations"]["board"] in boards for e in epics.values())
        in_sprints = [
            i for i in port.entities("jiraIssue").values() if i["relations"].get("sprints")
        ]
        assert in_sprints
        assert all(set(i["relations"]["sprints"]) <= set(sprints) for i in in_sprints)
        future = next(s for s in agile.sprints.values() if s.state == "future")
        active = next(s for s in agile.sprints.values() if s.state == "active")
        assert sprints[str(future.id)]["properties"]["state"] == "future"

        now = to_epoch_ms(datetime.now(UTC))
        agile.set_sprint_state(active.id, "closed", now)
        agile.set_sprint_state(future.id, "active", now)
        gone_board = agile.add_board("Doomed", "kanban", jira.dataset.projects[2].key)
        _sync(path)
        assert str(gone_board.id) in port.entities("jiraBoard")
        deleted_sprint = next(s for s in agile.sprints.values() if s.state == "closed")
        agile.delete_sprint(deleted_sprint.id)
        agile.delete_board(gone_board.id)
        _sync(path)

        sprints = port.entities("jiraSprint")
        assert sprints[str(future.id)]["properties"]["state"] == "active"
        assert sprints[str(active.id)]["properties"]["state"] == "closed"
        assert str(deleted_sprint.id) not in sprints
        assert str(gone_board.id) not in port.entities("jiraBoard")


def test_skipped_parts_delete_nothing(tmp_path: Path, jira: FakeJira) -> None:
    with FakePort(client_secret=PORT_SECRET) as port:
        path = write_config(tmp_path, jira, port)
        _sync(path)
        before = {bp: set(port.entities(bp)) for bp in ("jiraBoard", "jiraSprint", "jiraEpic")}
        board = jira.agile.scrum_board(jira.dataset.projects[0].key)
        jira.agile.restricted.add(board.id)

        stderr = _sync(path)

        assert f"board {board.id} is skipped" in stderr
        after = {bp: set(port.entities(bp)) for bp in before}
        assert after == before
        jira.agile.restricted.clear()
        jira.agile.software = False

        stderr = _sync(path)

        assert "Jira Software is not installed" in stderr
        assert {bp: set(port.entities(bp)) for bp in before} == before
        assert port.entities("jiraIssue")


def test_a_mapping_of_projects_and_issues_sends_no_agile_request(
    tmp_path: Path, jira: FakeJira
) -> None:
    defaults = Path(__file__).parents[1] / "source_jira_port/port/defaults/port-app-config.yaml"
    mapping = yaml.safe_load(defaults.read_text())
    mapping["resources"] = [r for r in mapping["resources"] if r["kind"] in ("projects", "issues")]
    with FakePort(client_secret=PORT_SECRET) as port:
        path = write_config(tmp_path, jira, port, mapping=yaml.safe_dump(mapping))

        _sync(path)

        assert port.entities("jiraIssue")
        assert _agile_requests(jira) == []
