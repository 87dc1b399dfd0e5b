from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
import requests
import requests_mock as rm

from source_jira_port.estimate import count_issues, estimate_issues
from source_jira_port.jira_client import JiraClient

_SITE = "https://acme.atlassian.net"
_CLOUD = {
    "jira_url": _SITE,
    "api_base": _SITE,
    "resolved_deployment": "cloud",
    "credentials": {"auth_type": "api_token", "email": "bot@acme.com", "api_token": "tok"},
}
_SERVER = {
    "jira_url": "https://jira.example.com/jira",
    "api_base": "https://jira.example.com/jira",
    "resolved_deployment": "server",
    "credentials": {"auth_type": "personal_access_token", "personal_access_token": "pat"},
}


def _count(config: dict[str, Any], jql: str) -> int:
    return count_issues(JiraClient(config), config, jql)


def _estimate(config: dict[str, Any]) -> int | None:
    return estimate_issues(JiraClient(config), config, None, logging.getLogger("test"))


def test_cloud_asks_the_approximate_count_with_the_sources_basic_auth(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.post(f"{_SITE}/rest/api/3/search/approximate-count", json={"count": 153})

    assert _count(_CLOUD, "updated >= 0") == 153

    request = requests_mock.last_request
    assert request.json() == {"jql": "updated >= 0"}
    expected = base64.b64encode(b"bot@acme.com:tok").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_server_asks_search_for_no_issues_and_reads_total(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        "https://jira.example.com/jira/rest/api/2/search",
        json={"startAt": 0, "maxResults": 0, "total": 42, "issues": []},
    )

    assert _count(_SERVER, "updated >= 0") == 42

    request = requests_mock.last_request
    assert request.qs == {"jql": ["updated >= 0"], "maxresults": ["0"], "fields": ["id"]}
    assert request.headers["Authorization"] == "Bearer pat"


def test_oauth_goes_through_the_gateway(requests_mock: rm.Mocker) -> None:
    gateway = "https://api.atlassian.com/ex/jira/c-1"
    config = {
        **_CLOUD,
        "api_base": gateway,
        "credentials": {"auth_type": "oauth2", "access_token": "at", "cloud_id": "c-1"},
    }
    url = f"{gateway}/rest/api/3/search/approximate-count"
    requests_mock.post(url, json={"count": 1})

    assert _count(config, "updated >= 0") == 1
    assert requests_mock.last_request.headers["Authorization"] == "Bearer at"


@pytest.mark.parametrize(
    ("response", "warning"),
    [
        ({"status_code": 404, "json": {"errorMessages": ["no"]}}, "No ETA: Jira has nothing at"),
        ({"status_code": 200, "json": {"unexpected": 1}}, "No ETA: Jira did not count"),
        ({"status_code": 200, "text": "<html>"}, "No ETA: Jira did not count"),
    ],
)
def test_a_failed_count_means_no_eta_and_a_warning(
    requests_mock: rm.Mocker,
    caplog: pytest.LogCaptureFixture,
    response: dict[str, Any],
    warning: str,
) -> None:
    requests_mock.post(f"{_SITE}/rest/api/3/search/approximate-count", **response)

    assert _estimate(_CLOUD) is None
    assert warning in caplog.text


def test_an_unreachable_jira_means_no_eta(requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        f"{_SITE}/rest/api/3/search/approximate-count", exc=requests.exceptions.ConnectTimeout
    )

    assert _estimate(_CLOUD) is None
