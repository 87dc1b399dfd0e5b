"""Tests of the fake Jira's worklog endpoints over HTTP: paging by since, limits, visibility."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import (
    CLOUD_API_TOKEN,
    CLOUD_EMAIL,
    SERVER_PASSWORD,
    SERVER_USERNAME,
    FakeJira,
)
from integration_tests.fakes.jira_worklogs import LIST_LIMIT, PAGE_LIMIT, RECENT_MS

pytestmark = pytest.mark.integration


@pytest.fixture(params=["cloud", "server"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param, generate_dataset(projects=1, issues=5)) as fake:
        yield fake.with_worklogs()


def _call(jira: FakeJira, method: str, path: str, **kwargs: Any) -> requests.Response:
    version = "3" if jira.deployment == "cloud" else "2"
    auth = (
        (CLOUD_EMAIL, CLOUD_API_TOKEN)
        if jira.deployment == "cloud"
        else (SERVER_USERNAME, SERVER_PASSWORD)
    )
    url = f"{jira.base_url}/rest/api/{version}/{path}"
    return requests.request(method, url, auth=auth, timeout=10, **kwargs)


def test_updated_pages_hold_1000_oldest_first_and_the_next_starts_at_until(jira: FakeJira) -> None:
    old = int(time.time() * 1000) - 10 * RECENT_MS
    issue = next(iter(jira.dataset.issues))
    with jira.lock:
        jira.worklogs.worklogs.clear()  # only these
        for n in range(PAGE_LIMIT + 5):
            jira.worklogs.add(issue, at_ms=old + n // 2)  # two worklogs a millisecond

    first = _call(jira, "GET", "worklog/updated", params={"since": old}).json()
    second = _call(jira, "GET", "worklog/updated", params={"since": first["until"]}).json()

    assert len(first["values"]) == PAGE_LIMIT and first["lastPage"] is False
    times = [v["updatedTime"] for v in first["values"]]
    assert times == sorted(times) and first["until"] == times[-1]
    assert first["nextPage"].endswith(f"worklog/updated?since={first['until']}")
    # `since` is inclusive: the last millisecond of a page comes again on the next one.
    assert second["values"][0]["updatedTime"] == first["until"]
    assert second["lastPage"] is True


def test_the_minute_before_the_request_and_restricted_worklogs_are_not_listed(
    jira: FakeJira,
) -> None:
    now = int(time.time() * 1000)
    issue = next(iter(jira.dataset.issues))
    with jira.lock:
        jira.worklogs.worklogs.clear()
        listed = jira.worklogs.add(issue, at_ms=now - 2 * RECENT_MS)
        jira.worklogs.add(issue, at_ms=now - 2 * RECENT_MS, restricted=True)
        jira.worklogs.add(issue, at_ms=now)

    page = _call(jira, "GET", "worklog/updated", params={"since": 0}).json()
    bodies = _call(jira, "POST", "worklog/list", json={"ids": list(jira.worklogs.worklogs)})

    assert [v["worklogId"] for v in page["values"]] == [listed.id]
    assert {b["id"] for b in bodies.json()} == {str(w) for w in jira.worklogs.worklogs} - {
        str(listed.id + 1)
    }


def test_list_refuses_more_than_1000_ids_or_none(jira: FakeJira) -> None:
    for ids in (list(range(1, LIST_LIMIT + 2)), []):
        answer = _call(jira, "POST", "worklog/list", json={"ids": ids})
        assert answer.status_code == 400
        assert answer.json()["errorMessages"]
    assert _call(jira, "POST", "worklog/list", json={"ids": [1] * LIST_LIMIT}).status_code == 200


def test_deleted_worklogs_are_listed_by_deletion_time_and_leave_the_list(jira: FakeJira) -> None:
    at = int(time.time() * 1000) - 2 * RECENT_MS
    with jira.lock:
        gone = next(iter(jira.worklogs.worklogs))
        jira.worklogs.delete(gone, at_ms=at)

    page = _call(jira, "GET", "worklog/deleted", params={"since": at}).json()
    bodies = _call(jira, "POST", "worklog/list", json={"ids": [gone]}).json()

    assert page["values"] == [{"worklogId": gone, "updatedTime": at, "properties": []}]
    assert bodies == []


def test_worklog_endpoints_need_credentials(jira: FakeJira) -> None:
    version = "3" if jira.deployment == "cloud" else "2"
    answer = requests.get(f"{jira.base_url}/rest/api/{version}/worklog/updated", timeout=10)

    assert answer.status_code == 401
