"""The `backlog` stream through the real command lines against the fake Jira and the fake Port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli, jira_port
from integration_tests.support.configs import write_config
from integration_tests.support.messages import final_state, of_type, records
from integration_tests.support.port_stub import default_mapping_without

pytestmark = pytest.mark.integration


@pytest.fixture(params=["cloud", "server"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param, generate_dataset(projects=2, issues=120)) as fake:
        yield fake


def _items(messages: list[dict[str, Any]]) -> set[tuple[int, str]]:
    return {
        (r["__boardId"], r["key"])
        for r in records(messages, "backlog")
        if not r.get("_ab_cdc_deleted_at")
    }


def _deleted(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (r["__boardId"], r["id"])
        for r in records(messages, "backlog")
        if r.get("_ab_cdc_deleted_at")
    ]


def _logs(messages: list[dict[str, Any]], text: str) -> list[str]:
    return [
        str(m["log"]["message"])
        for m in of_type(messages, "LOG")
        if text in str(m["log"]["message"])
    ]


def _backlog_requests(jira: FakeJira) -> list[Any]:
    return [r for r in jira.requests_log if r.path.endswith("/backlog")]


def _read(
    cli: SourceCli, jira: FakeJira, state: list[dict[str, Any]] | None = None, **options: Any
) -> list[dict[str, Any]]:
    catalog = configured_catalog("backlog", "issues", incremental=True)
    code, messages, stderr = cli.run("read", jira.source_config(**options), catalog, state)
    assert code == 0, stderr
    return messages


def test_every_boards_backlog_is_read_to_its_end_as_issue_records(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    messages = _read(source_cli, jira, page_size=3)

    expected = jira.backlog.items()
    assert len(expected) > 6  # several pages per board
    assert _items(messages) == expected
    record = records(messages, "backlog")[0]
    issue = next(r for r in records(messages, "issues") if r["id"] == record["id"])
    assert record["fields"]["summary"] == issue["fields"]["summary"]
    assert (record["updated"], record["projectKey"]) == (issue["updated"], issue["projectKey"])
    requests = _backlog_requests(jira)
    api = "/rest/software/1.0/" if jira.deployment == "cloud" else "/rest/agile/1.0/"
    assert requests and all(r.path.startswith(api) for r in requests)
    token = "nextPageToken" if jira.deployment == "cloud" else "startAt"
    assert any(token in r.query for r in requests)


def test_a_kanban_board_without_a_backlog_is_skipped_with_one_line(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    [kanban] = [b for b in jira.agile.boards.values() if b.type == "kanban"]

    messages = _read(source_cli, jira)

    assert [line for line in _logs(messages, f"board {kanban.id} ") if "backlog" in line] == [
        next(line for line in _logs(messages, "has no backlog"))
    ]
    assert kanban.id not in {board for board, _ in _items(messages)}

    jira.backlog.kanban_backlog.add(kanban.id)
    again = _read(source_cli, jira)
    assert {key for board, key in _items(again) if board == kanban.id}


def test_a_board_the_user_may_not_read_is_skipped_and_nothing_of_the_backlog_is_deleted(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    first = _read(source_cli, jira)
    board = jira.agile.scrum_board(jira.dataset.projects[0].key)
    jira.agile.restricted.add(board.id)

    second = _read(source_cli, jira, final_state(first))

    assert len(_logs(second, f"board {board.id} is skipped")) == 1
    assert board.id not in {b for b, _ in _items(second)}
    assert _deleted(second) == []


def test_without_jira_software_the_backlog_is_skipped_and_issues_are_read(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    first = _read(source_cli, jira)
    jira.agile.software = False

    second = _read(source_cli, jira, final_state(first))

    assert records(second, "backlog") == []
    assert _logs(second, "Jira Software is not installed")
    assert _deleted(second) == []
    assert len(records(first, "issues")) == len(jira.dataset.issues)


def test_an_issue_moved_into_a_sprint_leaves_the_backlog_as_a_deletion_record(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    first = _read(source_cli, jira)
    board, key = sorted(_items(first))[0]
    active = next(s.id for s in jira.agile.sprints_of(board) if s.state == "active")
    jira.backlog.move_into_sprint(key, active)

    second = _read(source_cli, jira, final_state(first))

    issue_id = str(jira.dataset.issues[key].id)
    assert _deleted(second) == [(str(board), issue_id)]
    assert _items(second) == _items(first) - {(board, key)}


def test_the_backlog_jql_narrows_every_backlog(source_cli: SourceCli, jira: FakeJira) -> None:
    messages = _read(source_cli, jira, backlog_jql="status = 'In Progress'")

    items = records(messages, "backlog")
    assert items
    assert {r["fields"]["status"]["name"] for r in items} == {"In Progress"}


def test_jira_port_sync_writes_backlog_items_and_deletes_one_that_left(
    tmp_path: Path, jira: FakeJira
) -> None:
    with FakePort(client_secret="port-secret") as port:
        done = jira_port("sync", "--config", write_config(tmp_path, jira, port))
        assert done.returncode == 0, done.stderr
        items = port.entities("jiraBacklogItem")
        expected = {
            f"{board}-{jira.dataset.issues[key].id}": (board, key)
            for board, key in jira.backlog.items()
        }
        assert set(items) == set(expected)
        identifier, (board, key) = sorted(expected.items())[0]
        assert items[identifier]["relations"] == {
            "board": str(board),
            "issue": key,
            "assignee": items[identifier]["relations"]["assignee"],
        }
        active = next(s.id for s in jira.agile.sprints_of(board) if s.state == "active")
        jira.backlog.move_into_sprint(key, active)

        again = jira_port("sync", "--config", write_config(tmp_path, jira, port))
        assert again.returncode == 0, again.stderr
        assert set(port.entities("jiraBacklogItem")) == set(expected) - {identifier}
        assert key in port.entities("jiraIssue")


def test_a_sync_mapping_only_projects_and_issues_sends_no_backlog_request(
    tmp_path: Path, jira: FakeJira
) -> None:
    mapping = default_mapping_without("backlog")
    with FakePort(client_secret="port-secret") as port:
        done = jira_port("sync", "--config", write_config(tmp_path, jira, port, mapping=mapping))

    assert done.returncode == 0, done.stderr
    assert _backlog_requests(jira) == []


def test_the_boards_backlogs_are_read_at_the_same_time_within_num_workers(
    source_cli: SourceCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeJira("cloud", generate_dataset(projects=6, issues=120), latency_ms=150) as jira:
        in_flight, most = 0, 0
        lock = threading.Lock()
        answer = jira.respond

        def counting(request: Any, body: bytes) -> None:
            nonlocal in_flight, most
            backlog = request.path.split("?")[0].endswith("/backlog")
            with lock:
                in_flight += backlog
                most = max(most, in_flight)
            try:
                answer(request, body)
            finally:
                with lock:
                    in_flight -= backlog

        monkeypatch.setattr(jira, "respond", counting)
        config = jira.source_config(num_workers=3)
        code, messages, stderr = source_cli.run("read", config, configured_catalog("backlog"))

    assert code == 0, stderr
    assert len(records(messages, "backlog")) == len(jira.backlog.items())
    assert len(_backlog_requests(jira)) >= 7  # 6 scrum boards and a kanban one
    assert 2 <= most <= 3
