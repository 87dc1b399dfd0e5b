"""The webhook applier and the sync's writer share one write path: same records, same requests."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests_mock as rm

from integration_tests.support.catalogs import catalog
from integration_tests.support.messages import record, state
from integration_tests.support.records import make_issue, mock_port_api
from source_jira_port.app.webhooks.applier import WebhookApplier
from source_jira_port.app.webhooks.events import ISSUES, Action, Event
from source_jira_port.app.webhooks.metrics import Metrics
from source_jira_port.app.webhooks.queue import EventQueue
from source_jira_port.port.client import PortClient
from source_jira_port.port.config import PortSettings
from source_jira_port.port.destination import open_writer
from source_jira_port.port.mapping import EntityMapper, load_app_config

_BASE = "https://port.test"
_SETTINGS = PortSettings.from_config(
    {
        "port_client_id": "id",
        "port_client_secret": "secret",
        "port_base_url": _BASE,
        "on_invalid_record": "skip",
    }
)
_KEYS = [f"ACME-{n}" for n in range(1, 26)]  # more than one bulk request
_GONE = "ACME-99"
_WRITES = ("/entities/bulk", "/bulk/entities/delete")


def _issue(key: str) -> dict[str, Any]:
    return {**make_issue(key), "id": key.split("-")[1]}


class _Jira:
    """Jira has every issue of `_KEYS`, as the sync read them."""

    def issues(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        current = {issue["id"]: issue for issue in map(_issue, _KEYS)}
        return {i: current[i] for i in ids if i in current}

    def project(self, project_id: str) -> None:
        raise AssertionError(f"no project event here ({project_id})")


@pytest.fixture
def port(requests_mock: rm.Mocker) -> rm.Mocker:
    mock_port_api(requests_mock, _BASE)
    requests_mock.post(
        f"{_BASE}/v1/blueprints/jiraIssue/entities/bulk",
        json={"ok": True, "entities": [], "errors": []},
    )
    requests_mock.post(
        f"{_BASE}/v1/blueprints/jiraIssue/bulk/entities/delete",
        json={"ok": True, "deletedEntities": [_GONE]},
    )
    return requests_mock


def _through_the_writer(port: rm.Mocker) -> list[tuple[str, str, str]]:
    start = len(port.request_history)
    deletion = {
        "id": _GONE.split("-")[1],
        "key": _GONE,
        "_ab_cdc_deleted_at": "2026-01-01T00:00:00Z",
    }
    messages = [
        *(record("issues", _issue(key)) for key in _KEYS),
        record("issues", deletion),
        state("issues", {}),
    ]
    logger = logging.getLogger("test.writer")
    with open_writer(_SETTINGS, catalog(("issues", "append_dedup")), logger) as writer:
        list(writer.write(messages))
    return _writes(port, start)


def _through_the_webhook_applier(port: rm.Mocker, tmp_path: Path) -> list[tuple[str, str, str]]:
    start = len(port.request_history)
    queue = EventQueue(tmp_path / "queue.sqlite")
    for key in _KEYS:
        queue.enqueue(Event("jira:issue_updated", ISSUES, key, Action.UPSERT, _issue(key)), key)
    gone = Event("jira:issue_deleted", ISSUES, _GONE, Action.DELETE, _issue(_GONE))
    queue.enqueue(gone, _GONE)
    applier = WebhookApplier(
        queue,
        PortClient(_BASE, "id", "secret", max_attempts=1),
        jira=_Jira(),
        mapper=EntityMapper(load_app_config()),
        settings=_SETTINGS,
        metrics=Metrics(),
        logger=logging.getLogger("test.webhooks"),
    )
    assert applier.drain_once() == (len(_KEYS) + 1, False)
    queue.close()
    return _writes(port, start)


def _writes(port: rm.Mocker, start: int) -> list[tuple[str, str, str]]:
    """The upserts and deletes sent to Port since `start`: method, URL with query, body."""
    return sorted(
        (request.method, request.url, request.text)
        for request in port.request_history[start:]
        if request.path.endswith(_WRITES)
    )


def test_the_same_records_make_the_same_port_requests(port: rm.Mocker, tmp_path: Path) -> None:
    by_writer = _through_the_writer(port)
    by_webhooks = _through_the_webhook_applier(port, tmp_path)

    assert by_webhooks == by_writer
    assert [urlsplit(url).path for _, url, _ in by_writer] == [
        "/v1/blueprints/jiraIssue/bulk/entities/delete",
        "/v1/blueprints/jiraIssue/entities/bulk",  # 20 entities
        "/v1/blueprints/jiraIssue/entities/bulk",  # 5
    ]


def test_an_entity_port_refuses_is_reported_for_the_same_reason(
    port: rm.Mocker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    details = {"errors": [{"instancePath": "/properties/url", "message": "must match format"}]}

    def refuse_acme_2(request: Any, context: Any) -> dict[str, Any]:
        keys = [entity["identifier"] for entity in request.json()["entities"]]
        refusals = [
            {
                "index": index,
                "identifier": key,
                "statusCode": 422,
                "error": "entity_does_not_match_blueprint",
                "message": "The entity does not match",
                "details": details,
            }
            for index, key in enumerate(keys)
            if key == "ACME-2"
        ]
        context.status_code = 207 if refusals else 200
        return {"ok": True, "entities": [], "errors": refusals}

    port.post(f"{_BASE}/v1/blueprints/jiraIssue/entities/bulk", json=refuse_acme_2)
    reason = (
        "Port rejected entity ACME-2 of blueprint jiraIssue (HTTP 422 "
        "entity_does_not_match_blueprint): The entity does not match: property url: must match "
        "format"
    )

    with caplog.at_level(logging.ERROR):
        _through_the_writer(port)
        _through_the_webhook_applier(port, tmp_path)

    by_writer = [r.message for r in caplog.records if r.name == "test.writer"]
    by_webhooks = [r.message for r in caplog.records if r.name == "test.webhooks"]
    assert by_writer == [f"Skipped record ACME-2 of stream issues: {reason}"]
    assert by_webhooks == [
        "Parked jira:issue_updated for issues ACME-2 (jira-port webhooks failed lists it, replay "
        f"retries it): {reason}"
    ]
