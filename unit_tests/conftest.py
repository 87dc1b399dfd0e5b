"""Config builders and a read helper shared by the unit tests."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder

from source_jira_port import rate_limit
from source_jira_port.source import SourceJiraPort

CLOUD_URL = "https://acme.atlassian.net"
SERVER_URL = "https://jira.example.com/jira"
SECRET = "s3cr3t-value-never-logged"


def cloud_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "jira_url": CLOUD_URL,
        "deployment": "cloud",
        "credentials": {"auth_type": "api_token", "email": "bot@example.com", "api_token": SECRET},
        "start_date": "2024-01-01T00:00:00Z",
    }
    return config | overrides


def server_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "jira_url": SERVER_URL,
        "deployment": "server",
        "credentials": {"auth_type": "basic", "username": "bot", "password": SECRET},
        "start_date": "2024-01-01T00:00:00Z",
    }
    return config | overrides


def read_stream(
    config: dict[str, Any],
    stream: str,
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: dict[str, Any] | None = None,
) -> EntrypointOutput:
    catalog = CatalogBuilder().with_stream(stream, sync_mode).build()
    state_messages = StateBuilder().with_stream_state(stream, state).build() if state else None
    source = SourceJiraPort(catalog=catalog, config=config, state=state_messages)
    return read(source, config, catalog, state_messages)


def query(request: Any) -> dict[str, list[str]]:
    """Query parameters of a requests-mock request, case preserved."""
    return parse_qs(urlsplit(request.url).query)


def issue(number: int, updated: str, project: str = "PROJ") -> dict[str, Any]:
    return {
        "id": str(10000 + number),
        "key": f"{project}-{number}",
        "self": f"{CLOUD_URL}/rest/api/3/issue/{10000 + number}",
        "fields": {
            "summary": f"Issue {number}",
            "updated": updated,
            "created": updated,
            "project": {"id": "100", "key": project, "name": project},
        },
    }


@pytest.fixture(autouse=True)
def _own_rate_limit_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no site paused: the tests share site URLs, not their 429s."""
    monkeypatch.setattr(rate_limit, "_PAUSES", {})


@pytest.fixture
def backoff_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record backoff waits (0.5 s or more) instead of sleeping; shorter sleeps are real polling."""
    waits: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if seconds >= 0.5:
            waits.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return waits
