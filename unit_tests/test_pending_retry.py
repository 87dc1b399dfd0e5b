"""Issues the destination skipped are read again by id, before the first issues state."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode, Type

from integration_tests.support.configs import CLOUD_URL, SERVER_URL, cloud_config, server_config
from integration_tests.support.reads import query, read_stream
from integration_tests.support.records import search_issue
from source_jira_port.cdk_compat import state_values

_SEARCH = {
    "cloud": f"{CLOUD_URL}/rest/api/3/search/jql",
    "server": f"{SERVER_URL}/rest/api/2/search",
}
_CONFIG = {"cloud": cloud_config, "server": server_config}
_BY_ID = re.compile(r"\(id = \d+(?: OR id = \d+)*\)")
_NOW = datetime.now(UTC)
_RECENT = (_NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class FakeSearch:
    """Jira's search for `id = …` queries: 400 when an id does not exist, as Jira's validator.

    Jira's `IssueIdValidator` answers a query naming a missing (or invisible) issue id with 400
    "A value with ID '…' does not exist for the field 'id'."; other queries find nothing.
    """

    def __init__(self, existing: dict[str, dict[str, Any]], deployment: str) -> None:
        self.existing = existing
        self.deployment = deployment
        self.by_id: list[list[str]] = []

    def __call__(self, request: Any, context: Any) -> dict[str, Any]:
        jql = query(request)["jql"][0]
        clause = _BY_ID.search(jql)
        if clause is None:
            return self._page([])
        ids = re.findall(r"id = (\d+)", clause[0])
        self.by_id.append(ids)
        missing = [i for i in ids if i not in self.existing]
        if missing:
            context.status_code = 400
            return {
                "errorMessages": [
                    f"A value with ID '{i}' does not exist for the field 'id'." for i in missing
                ],
                "errors": {},
            }
        return self._page([self.existing[i] for i in ids])

    def _page(self, issues: list[dict[str, Any]]) -> dict[str, Any]:
        if self.deployment == "cloud":
            return {"issues": issues, "isLast": True}
        return {"issues": issues, "startAt": 0, "maxResults": 100, "total": len(issues)}


def _issues(*numbers: int) -> dict[str, dict[str, Any]]:
    return {str(10000 + n): search_issue(n, _RECENT) for n in numbers}


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_pending_ids_are_read_again_before_the_first_issues_state(
    requests_mock: Any, deployment: str
) -> None:
    search = FakeSearch(_issues(1, 2), deployment)
    endpoint = requests_mock.get(_SEARCH[deployment], json=search)
    state = {"updated": _RECENT, "pending_retry": ["10001", "10002"]}

    output = read_stream(
        _CONFIG[deployment](projects=["PROJ"]), "issues", SyncMode.incremental, state=state
    )

    assert search.by_id == [["10001", "10002"]]
    [by_id] = [r for r in endpoint.request_history if _BY_ID.search(query(r)["jql"][0])]
    assert query(by_id)["jql"][0].startswith('project in ("PROJ") AND (id = 10001 OR id = 10002)')
    assert query(by_id)["fields"] == ["*all"]
    kinds = [(m.type, m.record.data["id"] if m.record else None) for m in output._messages]
    first_state = next(i for i, (kind, _) in enumerate(kinds) if kind == Type.STATE)
    before = [record_id for kind, record_id in kinds[:first_state] if kind == Type.RECORD]
    assert before == ["10001", "10002"]
    assert output.records[0].record.data["projectKey"] == "PROJ"  # the issues stream's records
    for message in output.state_messages:
        assert "pending_retry" not in state_values(message.state.stream.stream_state)


def test_a_query_naming_a_deleted_id_is_split_until_that_id_stands_alone(
    requests_mock: Any,
) -> None:
    search = FakeSearch(_issues(1, 2, 4), "cloud")
    requests_mock.get(_SEARCH["cloud"], json=search)
    state = {"updated": _RECENT, "pending_retry": ["10001", "10002", "10003", "10004"]}

    output = read_stream(
        cloud_config(deletion_sweep_every=0), "issues", SyncMode.incremental, state=state
    )

    assert sorted(r.record.data["id"] for r in output.records) == ["10001", "10002", "10004"]
    assert search.by_id == [
        ["10001", "10002", "10003", "10004"],
        ["10001", "10002"],
        ["10003", "10004"],
        ["10003"],
        ["10004"],
    ]


def test_ids_are_queried_100_at_a_time(requests_mock: Any) -> None:
    numbers = range(1, 251)
    search = FakeSearch(_issues(*numbers), "cloud")
    requests_mock.get(_SEARCH["cloud"], json=search)
    state = {"updated": _RECENT, "pending_retry": [str(10000 + n) for n in numbers]}

    output = read_stream(
        cloud_config(deletion_sweep_every=0), "issues", SyncMode.incremental, state=state
    )

    assert [len(ids) for ids in search.by_id] == [100, 100, 50]
    assert len(output.records) == 250


def test_what_is_not_an_issue_id_never_reaches_the_jql(
    requests_mock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    search = FakeSearch(_issues(1), "cloud")
    requests_mock.get(_SEARCH["cloud"], json=search)
    state = {"updated": _RECENT, "pending_retry": ["10001", "1) OR (project = SECRET"]}

    read_stream(cloud_config(), "issues", SyncMode.incremental, state=state)

    assert search.by_id == [["10001"]]
    assert "besides issue ids" in caplog.text


def test_full_refresh_reads_no_ids_again(requests_mock: Any) -> None:
    search = FakeSearch(_issues(1), "cloud")
    requests_mock.get(_SEARCH["cloud"], json=search)

    read_stream(cloud_config(), "issues", SyncMode.full_refresh, state={"pending_retry": ["10001"]})

    assert search.by_id == []
