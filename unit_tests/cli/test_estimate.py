from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
import requests
import requests_mock as rm

from source_jira_port.cli.estimate import count_issues, estimate_issues, issues_jql

_SITE = "https://acme.atlassian.net"
_CLOUD = {
    "jira_url": _SITE,
    "deployment": "cloud",
    "credentials": {"auth_type": "api_token", "email": "bot@acme.com", "api_token": "tok"},
}
_SERVER = {
    "jira_url": "https://jira.example.com/jira",
    "deployment": "server",
    "credentials": {"auth_type": "personal_access_token", "personal_access_token": "pat"},
}
_2000 = "updated >= 946684800000"


@pytest.mark.parametrize(
    ("extra", "cursor", "jql"),
    [
        ({}, None, _2000),
        ({"start_date": "2024-01-01T00:00:00Z"}, None, "updated >= 1704067200000"),
        (
            {"projects": ["PLAT", "MOB"], "jql": "status != Done"},
            None,
            f'project in ("PLAT", "MOB") AND (status != Done) AND {_2000}',
        ),
        # The cursor less the search index delay (default 60 s) and the lookback.
        ({}, "2024-06-05T10:00:00.123000+0200", "updated >= 1717574340123"),
        (
            {"search_index_delay_seconds": 0},
            "2024-06-05T10:00:00.123000+0200",
            "updated >= 1717574400123",
        ),
        (
            {"lookback_window_minutes": 60},
            "2024-06-05T10:00:00.123000+0200",
            "updated >= 1717570740123",
        ),
        # The cursor never goes back before start_date.
        (
            {"start_date": "2024-06-05T09:00:00Z", "lookback_window_minutes": 600},
            "2024-06-05T10:00:00.000000+0000",
            "updated >= 1717578000000",
        ),
    ],
)
def test_the_jql_is_the_syncs_lower_bound(
    extra: dict[str, Any], cursor: str | None, jql: str
) -> None:
    assert issues_jql({**_CLOUD, **extra}, cursor) == jql


def test_cloud_asks_the_approximate_count_with_the_sources_basic_auth(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.post(f"{_SITE}/rest/api/3/search/approximate-count", json={"count": 153})

    assert count_issues(_CLOUD, "updated >= 0") == 153

    request = requests_mock.last_request
    assert request.json() == {"jql": "updated >= 0"}
    expected = base64.b64encode(b"bot@acme.com:tok").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_server_asks_search_for_no_issues_and_reads_total(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        "https://jira.example.com/jira/rest/api/2/search",
        json={"startAt": 0, "maxResults": 0, "total": 42, "issues": []},
    )

    assert count_issues(_SERVER, "updated >= 0") == 42

    request = requests_mock.last_request
    assert request.qs == {"jql": ["updated >= 0"], "maxresults": ["0"], "fields": ["id"]}
    assert request.headers["Authorization"] == "Bearer pat"


def test_oauth_goes_through_the_gateway(requests_mock: rm.Mocker) -> None:
    config = {
        **_CLOUD,
        "credentials": {"auth_type": "oauth2", "access_token": "at", "cloud_id": "c-1"},
    }
    url = "https://api.atlassian.com/ex/jira/c-1/rest/api/3/search/approximate-count"
    requests_mock.post(url, json={"count": 1})

    assert count_issues(config, "updated >= 0") == 1
    assert requests_mock.last_request.headers["Authorization"] == "Bearer at"


@pytest.mark.parametrize(
    "response",
    [
        {"status_code": 404, "json": {"errorMessages": ["no"]}},
        {"status_code": 200, "json": {"unexpected": 1}},
        {"status_code": 200, "text": "<html>"},
    ],
)
def test_a_failed_count_means_no_eta_and_a_warning(
    requests_mock: rm.Mocker, caplog: pytest.LogCaptureFixture, response: dict[str, Any]
) -> None:
    requests_mock.post(f"{_SITE}/rest/api/3/search/approximate-count", **response)

    assert estimate_issues(_CLOUD, None, logging.getLogger("test")) is None
    assert "No ETA: Jira did not count the issues to sync" in caplog.text


def test_an_unreachable_jira_means_no_eta(requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        f"{_SITE}/rest/api/3/search/approximate-count", exc=requests.exceptions.ConnectTimeout
    )

    assert estimate_issues(_CLOUD, None, logging.getLogger("test")) is None
