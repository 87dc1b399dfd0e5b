from __future__ import annotations

from typing import Any

import pytest
import requests_mock as rm

from source_jira_port.app.webhooks.events import WEBHOOK_EVENTS
from source_jira_port.app.webhooks.register import (
    ADMIN_API,
    DATA_CENTER_10_API,
    RegistrationError,
    register_webhook,
)

_SITE = "https://jira.example.com/jira"
_URL = "https://hooks.example.com/webhooks/jira"
_SECRET = "hook-secret-value"
_JIRA = {
    "jira_url": f"{_SITE}/rest/api/2",
    "credentials": {"auth_type": "personal_access_token", "personal_access_token": "pat"},
}


def _server_info(requests_mock: rm.Mocker, numbers: list[int], kind: str = "Server") -> None:
    requests_mock.get(
        f"{_SITE}/rest/api/2/serverInfo",
        json={"deploymentType": kind, "versionNumbers": numbers, "version": "x"},
    )


@pytest.mark.parametrize(
    ("numbers", "kind", "path"),
    [
        ([9, 12, 2], "Server", ADMIN_API),
        ([8, 20, 0], "Server", ADMIN_API),
        ([10, 3, 1], "Server", DATA_CENTER_10_API),
        ([11, 0, 0], "Server", DATA_CENTER_10_API),
        ([1001, 0, 0], "Cloud", ADMIN_API),
    ],
)
def test_the_api_follows_the_deployment_and_version(
    requests_mock: rm.Mocker, numbers: list[int], kind: str, path: str
) -> None:
    _server_info(requests_mock, numbers, kind)
    requests_mock.get(_SITE + path, json=[])
    requests_mock.post(_SITE + path, status_code=201, json={"name": "n", "url": _URL})

    registration = register_webhook(_JIRA, _URL, secret=_SECRET, jql="project = BSD")

    assert (registration.created, registration.api_path) == (True, path)
    create = requests_mock.request_history[-1]
    assert create.headers["Authorization"] == "Bearer pat"
    body = create.json()
    assert (body["url"], body["events"], body["excludeBody"]) == (_URL, list(WEBHOOK_EVENTS), False)
    assert body["filters"] == {"issue-related-events-section": "project = BSD"}
    if path == DATA_CENTER_10_API:
        assert "secret" not in body  # Data Center 10 ignores it there
        assert body["configuration"] == {"EXCLUDE_BODY": "false", "SECRET": _SECRET}
    else:
        assert body["secret"] == _SECRET


def test_an_existing_webhook_for_the_url_is_kept(requests_mock: rm.Mocker) -> None:
    _server_info(requests_mock, [9, 4, 0])
    existing = {
        "self": f"{_SITE}{ADMIN_API}/3",
        "url": f"{_URL}/",
        "events": list(WEBHOOK_EVENTS),
        "filters": {"issue-related-events-section": ""},
        "secret": "echoed",
    }
    requests_mock.get(_SITE + ADMIN_API, json=[{"url": "https://elsewhere.example"}, existing])
    create = requests_mock.post(_SITE + ADMIN_API, status_code=201, json={})

    registration = register_webhook(_JIRA, _URL)

    assert not registration.created
    assert not registration.differs
    assert registration.webhook["self"].endswith("/3")
    assert "secret" not in registration.webhook
    assert not create.called


def test_an_existing_webhook_with_another_filter_is_reported(requests_mock: rm.Mocker) -> None:
    _server_info(requests_mock, [10, 0, 0])
    existing = {"id": 4, "url": _URL, "events": list(WEBHOOK_EVENTS), "filters": {}}
    requests_mock.get(_SITE + DATA_CENTER_10_API, json=[existing])

    assert register_webhook(_JIRA, _URL, jql="project = X").differs


def test_basic_credentials_are_sent_as_basic_auth(requests_mock: rm.Mocker) -> None:
    _server_info(requests_mock, [1001], "Cloud")
    requests_mock.get(_SITE + ADMIN_API, json=[])
    requests_mock.post(_SITE + ADMIN_API, status_code=201, json={})
    jira = {
        "jira_url": _SITE,
        "credentials": {"auth_type": "api_token", "email": "a@b.c", "api_token": "tok"},
    }

    register_webhook(jira, _URL)

    assert requests_mock.request_history[-1].headers["Authorization"] == "Basic YUBiLmM6dG9r"


def test_oauth_credentials_cannot_register_admin_webhooks() -> None:
    jira = {"jira_url": _SITE, "credentials": {"auth_type": "oauth2", "access_token": "t"}}

    with pytest.raises(RegistrationError, match="OAuth"):
        register_webhook(jira, _URL)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, {"errorMessages": ["Forbidden"]}, "HTTP 403 .*Forbidden.*administrator"),
        (404, "<html/>", "HTTP 404 .*no such webhook API"),
        (400, {"errorMessages": [], "errors": {"url": "Invalid URL"}}, "Invalid URL"),
    ],
)
def test_jira_errors_name_the_cause(
    requests_mock: rm.Mocker, status: int, body: Any, expected: str
) -> None:
    _server_info(requests_mock, [9, 0, 0])
    kwargs = {"json": body} if isinstance(body, dict) else {"text": body}
    requests_mock.get(_SITE + ADMIN_API, status_code=status, **kwargs)

    with pytest.raises(RegistrationError, match=expected) as raised:
        register_webhook(_JIRA, _URL, secret=_SECRET)

    assert _SECRET not in str(raised.value)


def test_a_refused_registration_logs_no_secret(
    requests_mock: rm.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    _server_info(requests_mock, [9, 0, 0])
    requests_mock.get(_SITE + ADMIN_API, json=[])
    requests_mock.post(_SITE + ADMIN_API, status_code=400, json={"errorMessages": ["Bad URL"]})

    with pytest.raises(RegistrationError, match="Bad URL"):
        register_webhook(_JIRA, _URL, secret=_SECRET)

    assert "Request (body)" in caplog.text  # the CDK logs the refused request's body
    assert _SECRET not in caplog.text
