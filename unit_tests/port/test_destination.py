from __future__ import annotations

import logging
from typing import Any

import pytest
import requests_mock as rm
from airbyte_cdk.models import DestinationSyncMode, Status

from integration_tests.support.records import mock_port_api
from source_jira_port.port.destination import DestinationPort

_BASE = "https://port.test"
_SECRET = "very-secret-value"
_CONFIG = {"port_client_id": "id", "port_client_secret": _SECRET, "port_base_url": _BASE}
_LOGGER = logging.getLogger("airbyte")


@pytest.fixture
def port(requests_mock: rm.Mocker) -> rm.Mocker:
    return mock_port_api(requests_mock, _BASE)


def _check(config: dict[str, Any]) -> tuple[Status, str]:
    status = DestinationPort().check(_LOGGER, config)
    return status.status, status.message or ""


def test_spec_exposes_the_config_and_sync_modes() -> None:
    spec = DestinationPort().spec(_LOGGER)

    assert spec.connectionSpecification["required"] == ["port_client_id", "port_client_secret"]
    assert spec.supported_destination_sync_modes == [
        DestinationSyncMode.overwrite,
        DestinationSyncMode.append,
        DestinationSyncMode.append_dedup,
    ]


def test_check_succeeds_with_a_token_and_existing_blueprints(port: rm.Mocker) -> None:
    assert _check(_CONFIG) == (Status.SUCCEEDED, "")


def test_check_succeeds_when_missing_blueprints_can_be_created(port: rm.Mocker) -> None:
    port.get(f"{_BASE}/v1/blueprints/jiraIssue", status_code=404, json={"ok": False})

    assert _check(_CONFIG)[0] == Status.SUCCEEDED
    assert not any(r.method == "POST" and r.path == "/v1/blueprints" for r in port.request_history)


def test_check_fails_when_blueprints_are_missing_and_may_not_be_created(port: rm.Mocker) -> None:
    port.get(f"{_BASE}/v1/blueprints/jiraIssue", status_code=404, json={"ok": False})

    status, message = _check({**_CONFIG, "create_missing_blueprints": False})

    assert status == Status.FAILED
    assert "jiraIssue do not exist in Port" in message


def test_check_fails_on_bad_credentials_with_a_region_hint(requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        f"{_BASE}/v1/auth/access_token",
        status_code=401,
        json={"ok": False, "error": "invalid_credentials", "message": "bad creds"},
    )

    status, message = _check(_CONFIG)

    assert status == Status.FAILED
    assert "did not accept the credentials" in message and "api.us.getport.io" in message
    assert _SECRET not in message


def test_check_fails_on_an_invalid_mapping() -> None:
    status, message = _check({**_CONFIG, "mapping": "resources: [{kind: issues}]"})

    assert status == Status.FAILED
    assert "'port' is a required property" in message


def test_check_fails_on_invalid_config_without_calling_port(requests_mock: rm.Mocker) -> None:
    status, message = _check({**_CONFIG, "batch_size": 50})

    assert status == Status.FAILED and "batch_size" in message
    assert requests_mock.call_count == 0
