"""`source-jira-port read | destination-port write`: from the fake Jira into the fake Port."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SOURCE_COMMAND
from integration_tests.support.messages import final_state
from source_jira_port.state_keys import MAPPING_FINGERPRINT

pytestmark = pytest.mark.integration

DESTINATION_COMMAND = [str(Path(sys.executable).with_name("destination-port"))]


@pytest.fixture
def fake_port() -> Iterator[FakePort]:
    with FakePort() as port:
        yield port


def _port_config(port: FakePort) -> dict[str, Any]:
    return {
        "port_client_id": "port-client",
        "port_client_secret": "port-secret",
        "port_base_url": port.base_url,
        "delete_missing_entities": True,
    }


def _pipe(
    folder: Path,
    fake: FakeJira,
    port: FakePort,
    catalog: dict[str, Any],
    state: list[dict[str, Any]] | None = None,
    config: dict[str, Any] | None = None,
) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the pipe (`config` overrides source options); return the destination's exit code,
    and both sides' messages."""
    files = {
        "source.json": fake.source_config(**(config or {})),
        "destination.json": _port_config(port),
        "catalog.json": catalog,
        "state.json": state or [],
    }
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content))
    read_args = [
        "read",
        "--config",
        str(folder / "source.json"),
        "--catalog",
        str(folder / "catalog.json"),
    ]
    if state:
        read_args += ["--state", str(folder / "state.json")]
    source = subprocess.Popen([*SOURCE_COMMAND, *read_args], stdout=subprocess.PIPE, text=True)
    tee, echo = folder / "source-output.jsonl", folder / "destination-output.jsonl"
    with tee.open("w") as copy, echo.open("w") as destination_output:
        destination = subprocess.Popen(
            [
                *DESTINATION_COMMAND,
                "write",
                "--config",
                str(folder / "destination.json"),
                "--catalog",
                str(folder / "catalog.json"),
            ],
            stdin=subprocess.PIPE,
            stdout=destination_output,
            text=True,
        )
        assert source.stdout is not None and destination.stdin is not None
        for line in source.stdout:
            copy.write(line)
            try:
                destination.stdin.write(line)
            except BrokenPipeError:
                break
        with contextlib.suppress(BrokenPipeError):
            destination.stdin.close()
        destination.wait(timeout=300)
    source.stdout.close()  # like a shell pipe: a source still writing gets a broken pipe
    source.wait(timeout=60)
    source_messages = [
        json.loads(line) for line in tee.read_text().splitlines() if line.startswith("{")
    ]
    echoed = [json.loads(line) for line in echo.read_text().splitlines() if line.startswith("{")]
    return destination.returncode, source_messages, echoed


def _states(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stream states, without the mapping fingerprint the writer stamps on echoed ones."""
    return [
        {
            "stream": m["state"]["stream"]["stream_descriptor"]["name"],
            **{
                key: value
                for key, value in m["state"]["stream"]["stream_state"].items()
                if key != MAPPING_FINGERPRINT
            },
        }
        for m in messages
        if m["type"] == "STATE"
    ]


def _served(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest issue record the source emitted for each key."""
    issues = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    return {issue["key"]: issue for issue in issues if issue.get("fields")}


# The fake's legacy Server user keys Port refuses, as the default mapping escapes them.
_ESCAPED_KEYS = {"edsger dijkstra": "edsger=20dijkstra", "f.allen=ibm#1": "f.allen=3Dibm=231"}


def _user_identifier(user: dict[str, Any] | None) -> str | None:
    """The jiraUser a person relates to: the Cloud accountId, else the Server user key."""
    if user is None:
        return None
    identity = user.get("accountId") or user["key"]
    return _ESCAPED_KEYS.get(identity, identity)


def _assert_port_equals_jira(
    fake: FakeJira, port: FakePort, served: dict[str, dict[str, Any]]
) -> None:
    """Port holds exactly Jira's issues and projects; user fields are checked against `served`."""
    site = fake.base_url
    issues = port.entities("jiraIssue")
    assert set(issues) == set(fake.dataset.issues)
    for key, issue in fake.dataset.issues.items():
        entity = issues[key]
        properties = entity["properties"]
        assert entity["title"] == issue.summary
        assert properties["status"] == issue.status.name
        assert properties["issueType"] == issue.issuetype.name
        assert properties["priority"] == issue.priority.name
        assert properties["components"] == [c.name for c in issue.components]
        assert properties["url"] == f"{site}/browse/{key}"
        assert entity["relations"]["project"] == issue.project_key
        # Server shows `parent` on sub-tasks only (epics link by a custom field there).
        assert entity["relations"]["parentIssue"] == (
            served[key]["fields"].get("parent") or {}
        ).get("key")
        assert sorted(entity["relations"]["subtasks"]) == sorted(issue.subtask_keys)
        for field in ("assignee", "reporter"):
            relation = entity["relations"][field]
            assert relation == _user_identifier(served[key]["fields"][field])
        assert properties["creator"] == served[key]["fields"]["creator"].get("emailAddress")
    projects = port.entities("jiraProject")
    assert set(projects) == {p.key for p in fake.dataset.projects}
    for project in fake.dataset.projects:
        assert projects[project.key]["title"] == project.name
        assert projects[project.key]["properties"]["url"] == f"{site}/projects/{project.key}"


def test_full_sync_lands_every_project_and_issue_in_port(
    tmp_path: Path, fake_jira: FakeJira, fake_port: FakePort
) -> None:
    code, source_messages, echoed = _pipe(
        tmp_path, fake_jira, fake_port, configured_catalog("projects", "issues", incremental=True)
    )

    assert code == 0
    _assert_port_equals_jira(fake_jira, fake_port, _served(source_messages))
    assert _states(echoed) == _states(source_messages)
    assert echoed, "the destination echoes the source's checkpoints"


def test_incremental_sync_brings_jira_changes_into_port(
    tmp_path: Path, fake_jira: FakeJira, fake_port: FakePort
) -> None:
    catalog = configured_catalog("projects", "issues", incremental=True)
    _, first_read, first_echoed = _pipe(tmp_path, fake_jira, fake_port, catalog)
    changed = sorted(fake_jira.dataset.issues)[:5]
    for key in changed:
        fake_jira.update_issue(key, summary=f"renamed {key}", status="Done")
    added = fake_jira.add_issue(fake_jira.dataset.projects[1].key, summary="added later")["key"]

    code, second_read, echoed = _pipe(
        tmp_path, fake_jira, fake_port, catalog, final_state(first_echoed)
    )

    assert code == 0
    read_again = _served(second_read)
    assert set(changed) | {added} <= set(read_again)
    assert len(read_again) < len(fake_jira.dataset.issues) / 2
    _assert_port_equals_jira(fake_jira, fake_port, _served(first_read) | read_again)
    assert fake_port.entities("jiraIssue")[changed[0]]["properties"]["status"] == "Done"
    assert _states(echoed) == _states(second_read)


def test_crash_mid_write_then_resume_from_the_last_echoed_state(
    tmp_path: Path, fake_jira: FakeJira, fake_port: FakePort
) -> None:
    catalog = configured_catalog("projects", "issues", incremental=True)
    fake_port.fail(500, times=None, path="/entities/bulk$", after=4, headers={"Retry-After": "0"})
    small_windows = {"page_size": 10}  # windows of a few pages: checkpoints before the crash

    code, crashed_read, echoed = _pipe(
        tmp_path, fake_jira, fake_port, catalog, config=small_windows
    )

    assert code != 0
    assert len(fake_port.entities("jiraIssue")) < len(fake_jira.dataset.issues)
    echoed_states = _states(echoed)
    assert echoed_states == _states(crashed_read)[: len(echoed_states)]
    assert any(state["stream"] == "issues" for state in echoed_states)

    fake_port.clear_faults()
    code, resumed_read, _ = _pipe(
        tmp_path, fake_jira, fake_port, catalog, final_state(echoed), small_windows
    )

    assert code == 0
    _assert_port_equals_jira(fake_jira, fake_port, _served(crashed_read) | _served(resumed_read))


def test_full_refresh_removes_what_jira_deleted(
    tmp_path: Path, fake_jira: FakeJira, fake_port: FakePort
) -> None:
    catalog = configured_catalog("projects", "issues")
    assert _pipe(tmp_path, fake_jira, fake_port, catalog)[0] == 0
    gone = next(key for key, issue in fake_jira.dataset.issues.items() if not issue.subtask_keys)
    fake_jira.delete_issue(gone)

    code, second_read, _ = _pipe(tmp_path, fake_jira, fake_port, catalog)

    assert code == 0
    assert gone not in fake_port.entities("jiraIssue")
    _assert_port_equals_jira(fake_jira, fake_port, _served(second_read))


def _standalone(fake: FakeJira, count: int, skip: int = 0) -> list[str]:
    """Keys of issues that are nobody's parent or sub-task: deleting them changes no other."""
    linked = {i.parent_key for i in fake.dataset.issues.values()}
    keys = [
        key
        for key, issue in fake.dataset.issues.items()
        if not issue.subtask_keys and issue.parent_key is None and key not in linked
    ]
    return keys[skip : skip + count]


def _deletions(messages: list[dict[str, Any]], stream: str) -> set[str]:
    return {
        m["record"]["data"]["key"]
        for m in messages
        if m["type"] == "RECORD"
        and m["record"]["stream"] == stream
        and m["record"]["data"].get("_ab_cdc_deleted_at")
    }


def test_port_equals_jira_after_the_sync_that_follows_any_change(
    tmp_path: Path, fake_jira: FakeJira, fake_port: FakePort
) -> None:
    """Bulk edits, lagging search, updates and deletions mid-read; deletions, a move and a
    deleted project between syncs: after the next incremental sync, Port is Jira."""
    catalog = configured_catalog("projects", "issues", incremental=True)
    mid_read, between = _standalone(fake_jira, 2), _standalone(fake_jira, 3, skip=2)
    doomed_project = fake_jira.dataset.projects[-1].key
    cluster_at = datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    for key in sorted(fake_jira.dataset.issues)[20:50]:  # three pages at one millisecond
        fake_jira.update_issue(key, at=cluster_at, labels=["bulk-edited"])
    fake_jira.index_delay_ms = 1000  # search lags a second behind writes
    options = {"page_size": 10}

    def change_mid_read(fake: FakeJira) -> None:
        for key in mid_read:
            fake.delete_issue(key)
        fake.update_issue(between[0], summary="updated mid-read")
        fake.add_issue(fake.dataset.projects[0].key, summary="added mid-read")

    # The 5th search: past the first sync's planning probes (oldest, newest), into the read.
    fake_jira.after_searches(5, change_mid_read)
    code, first_read, first_echoed = _pipe(tmp_path, fake_jira, fake_port, catalog, config=options)
    assert code == 0
    # Whatever the read saw of the deleted issues is gone again once the sweep ran.
    assert not set(mid_read) & set(fake_port.entities("jiraIssue"))

    for key in between:
        fake_jira.delete_issue(key)
    [moving] = _standalone(fake_jira, 1, skip=5)
    moved = fake_jira.move_issue(moving, fake_jira.dataset.projects[0].key)
    fake_jira.delete_project(doomed_project)
    time.sleep(1.1)  # what the search has not indexed yet is left to the next sync
    code, second_read, echoed = _pipe(
        tmp_path, fake_jira, fake_port, catalog, final_state(first_echoed), options
    )

    assert code == 0
    deleted = _deletions(second_read, "issues")
    assert {*between, moving} & set(_served(first_read)) <= deleted  # all that reached Port
    assert not deleted & set(fake_jira.dataset.issues)
    assert moved in fake_port.entities("jiraIssue")
    assert _deletions(second_read, "projects") == {doomed_project}
    _assert_port_equals_jira(fake_jira, fake_port, _served(first_read) | _served(second_read))
    assert _states(echoed) == _states(second_read)

    code, third_read, _ = _pipe(
        tmp_path, fake_jira, fake_port, catalog, final_state(echoed), options
    )

    assert code == 0
    assert _deletions(third_read, "issues") == _deletions(third_read, "projects") == set()
    _assert_port_equals_jira(
        fake_jira, fake_port, _served(first_read) | _served(second_read) | _served(third_read)
    )


@pytest.mark.parametrize("every", [0, 2])
def test_the_sweep_runs_every_nth_sync_or_never(
    tmp_path: Path, fake_jira: FakeJira, fake_port: FakePort, every: int
) -> None:
    catalog = configured_catalog("projects", "issues", incremental=True)
    overrides = {"deletion_sweep_every": every}
    code, _, echoed = _pipe(tmp_path, fake_jira, fake_port, catalog, config=overrides)
    assert code == 0
    [gone] = _standalone(fake_jira, 1)
    fake_jira.delete_issue(gone)

    found = []
    for _ in range(2):
        sweeps_before = _sweeps(fake_jira)
        code, read, echoed = _pipe(
            tmp_path, fake_jira, fake_port, catalog, final_state(echoed), config=overrides
        )
        assert code == 0
        found.append((_sweeps(fake_jira) > sweeps_before, gone in _deletions(read, "issues")))

    # every=2: the first sync skipped the sweep, so the second sweep finds the deletion.
    assert found == (
        [(False, False), (False, False)] if every == 0 else [(True, True), (False, False)]
    )
    assert (gone in fake_port.entities("jiraIssue")) is (every == 0)


def _sweeps(fake: FakeJira) -> int:
    return sum(
        1
        for request in fake.requests_log
        if "ORDER BY id ASC" in (request.query.get("jql") or [""])[0]
    )
