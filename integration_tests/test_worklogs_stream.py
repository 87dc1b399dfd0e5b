"""The incremental `worklogs` stream through the real command lines against the fakes."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.jira_worklogs import RECENT_MS
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli, jira_port
from integration_tests.support.configs import PORT_SECRET, write_config
from integration_tests.support.messages import final_state, records

pytestmark = pytest.mark.integration

_CATALOG = configured_catalog("worklogs", incremental=True)


@pytest.fixture(params=["cloud", "server"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param, generate_dataset(projects=3, issues=60)) as fake:
        yield fake.with_worklogs()


def _now() -> int:
    return int(time.time() * 1000)


def _worklog_requests(fake: FakeJira, since: int = 0) -> Counter[str]:
    """Requests to the worklog endpoints and the issue search, from `since` in the log."""
    counted: Counter[str] = Counter()
    for request in fake.requests_log[since:]:
        name = request.path.split("/rest/api/")[-1][2:]
        if name.startswith("worklog/") or name.startswith("search"):
            counted[name] += 1
    return counted


def _visible(fake: FakeJira) -> dict[str, str]:
    """Worklog id -> issue key of every worklog the bot may see."""
    keys = {issue.id: issue.key for issue in fake.dataset.issues.values()}
    return {
        str(w.id): keys[w.issue_id] for w in fake.worklogs.worklogs.values() if not w.restricted
    }


def test_read_to_the_end_then_only_changes_and_deletions(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    config = jira.source_config()
    code, messages, stderr = source_cli.run("read", config, _CATALOG)

    assert code == 0, stderr
    first = records(messages, "worklogs")
    assert {r["id"]: r["__issueKey"] for r in first} == _visible(jira)
    assert len(first) < len(jira.worklogs.worklogs)  # restricted worklogs are left out
    state = final_state(messages)
    newest = max(w.updated for w in jira.worklogs.worklogs.values() if not w.restricted)
    assert state[0]["stream"]["stream_state"]["updatedTime"] == newest

    now = _now()
    with jira.lock:
        changed, deleted, *_ = (w for w in jira.worklogs.worklogs.values() if not w.restricted)
        jira.worklogs.update(changed.id, at_ms=now - 2 * RECENT_MS, seconds=7200)
        jira.worklogs.delete(deleted.id, at_ms=now - 2 * RECENT_MS)
        issue = next(iter(jira.dataset.issues))
        added = jira.worklogs.add(issue, at_ms=now - 90_000)
        too_new = jira.worklogs.add(issue, at_ms=now)  # Jira leaves out the last minute
    logged = len(jira.requests_log)

    code, messages, stderr = source_cli.run("read", config, _CATALOG, state)

    assert code == 0, stderr
    second = records(messages, "worklogs")
    upserts = {r["id"] for r in second if "_ab_cdc_deleted_at" not in r}
    # `since` is inclusive: the worklogs of the cursor's millisecond come again (duplicates).
    at_cursor = {str(w.id) for w in jira.worklogs.worklogs.values() if w.updated == newest}
    assert upserts - at_cursor == {str(changed.id), str(added.id)}
    assert len(at_cursor) == 1
    assert next(r for r in second if r["id"] == str(changed.id))["timeSpentSeconds"] == 7200
    assert [r["id"] for r in second if "_ab_cdc_deleted_at" in r] == [str(deleted.id)]
    assert str(too_new.id) not in {r["id"] for r in second}
    # Nothing else is read again: one page of each list, one list call, one issue search.
    assert _worklog_requests(jira, logged) == {
        "worklog/updated": 1,
        "worklog/list": 1,
        "worklog/deleted": 1,
        "search/jql" if jira.deployment == "cloud" else "search": 1,
    }

    with jira.lock:
        jira.worklogs.clock = lambda: _now() + 2 * RECENT_MS  # a minute and more later
    code, messages, stderr = source_cli.run("read", config, _CATALOG, final_state(messages))

    assert code == 0, stderr
    third = {r["id"] for r in records(messages, "worklogs") if "_ab_cdc_deleted_at" not in r}
    assert str(too_new.id) in third
    assert str(changed.id) not in third


def test_worklogs_of_issues_outside_the_projects_option_are_not_emitted(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    project = jira.dataset.projects[0].key
    code, messages, stderr = source_cli.run(
        "read", jira.source_config(projects=[project]), _CATALOG
    )

    assert code == 0, stderr
    expected = {i: key for i, key in _visible(jira).items() if key.startswith(f"{project}-")}
    assert expected
    assert {r["id"]: r["__issueKey"] for r in records(messages, "worklogs")} == expected


def _mapping(kinds: tuple[str, ...]) -> str:
    default = (
        Path(__file__).parents[1] / "source_jira_port/port/defaults/port-app-config.yaml"
    ).read_text()
    document: dict[str, Any] = yaml.safe_load(default)
    document["resources"] = [r for r in document["resources"] if r["kind"] in kinds]
    return yaml.safe_dump(document)


def test_jira_port_sync_writes_worklogs_related_to_issues_and_authors_then_changes(
    tmp_path: Path, jira: FakeJira
) -> None:
    mapping = _mapping(("projects", "users", "issues", "worklogs"))
    with FakePort(client_secret=PORT_SECRET) as port:
        path = write_config(tmp_path, jira, port, mapping=mapping)

        done = jira_port("sync", "--config", path)

        assert done.returncode == 0, done.stderr
        worklogs = port.entities("jiraWorklog")
        assert {i: w["relations"]["issue"] for i, w in worklogs.items()} == _visible(jira)
        issues, users = set(port.entities("jiraIssue")), set(port.entities("jiraUser"))
        for worklog in worklogs.values():
            assert worklog["relations"]["issue"] in issues  # relations resolve
            assert worklog["relations"]["author"] in users

        now = _now()
        with jira.lock:
            changed, deleted, *_ = (w for w in jira.worklogs.worklogs.values() if not w.restricted)
            jira.worklogs.update(changed.id, at_ms=now - 2 * RECENT_MS, seconds=5400)
            jira.worklogs.delete(deleted.id, at_ms=now - 2 * RECENT_MS)
        logged = len(jira.requests_log)

        again = jira_port("sync", "--config", path)

        assert again.returncode == 0, again.stderr
        worklogs = port.entities("jiraWorklog")
        assert str(deleted.id) not in worklogs
        assert worklogs[str(changed.id)]["properties"]["timeSpentSeconds"] == 5400
        assert worklogs[str(changed.id)]["properties"]["timeSpent"] == "1h 30m"
        requests = _worklog_requests(jira, logged)
        assert (requests["worklog/updated"], requests["worklog/list"]) == (1, 1)
        assert requests["worklog/deleted"] == 1


def test_a_sync_that_maps_only_projects_and_issues_sends_no_worklog_request(
    tmp_path: Path, jira: FakeJira
) -> None:
    with FakePort(client_secret=PORT_SECRET) as port:
        path = write_config(tmp_path, jira, port, mapping=_mapping(("projects", "issues")))

        done = jira_port("sync", "--config", path)

        assert done.returncode == 0, done.stderr
        assert port.entities("jiraIssue")
        assert not [r for r in jira.requests_log if "/worklog" in r.path]


def test_discover_offers_worklogs_incremental_on_updated_time(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    code, messages, _ = source_cli.run("discover", jira.source_config())

    assert code == 0
    [catalog] = [m["catalog"] for m in messages if m["type"] == "CATALOG"]
    [worklogs] = [s for s in catalog["streams"] if s["name"] == "worklogs"]
    assert worklogs["source_defined_primary_key"] == [["id"]]
    assert worklogs["default_cursor_field"] == ["updatedTime"]
    assert worklogs["supported_sync_modes"] == ["full_refresh", "incremental"]
