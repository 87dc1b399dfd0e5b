from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import requests_mock as rm

from integration_tests.support.records import FIXTURES, mock_port_api
from source_jira_port.app.webhooks.applier import WebhookApplier
from source_jira_port.app.webhooks.events import ISSUES, PROJECTS, Action, Event
from source_jira_port.app.webhooks.metrics import Metrics
from source_jira_port.app.webhooks.queue import EventQueue
from source_jira_port.port.client import PortClient
from source_jira_port.port.config import PortSettings
from source_jira_port.port.mapping import EntityMapper, load_app_config

_BASE = "https://port.test"
_ISSUES_BULK = f"{_BASE}/v1/blueprints/jiraIssue/entities/bulk"
_PROJECTS_BULK = f"{_BASE}/v1/blueprints/jiraProject/entities/bulk"
_ISSUES_DELETE = f"{_BASE}/v1/blueprints/jiraIssue/bulk/entities/delete"
_OK = {"json": {"ok": True, "entities": [], "errors": []}}


def _issue(key: str, version: int, action: Action = Action.UPSERT, **fields: Any) -> Event:
    record = {
        "key": key,
        "self": f"https://jira.test/rest/api/2/issue/{key}",
        "fields": {"summary": f"{key} at {version}", "project": {"key": "A"}, **fields},
    }
    name = "jira:issue_deleted" if action == Action.DELETE else "jira:issue_updated"
    return Event(name, ISSUES, key, action, version, record)


@pytest.fixture
def port(requests_mock: rm.Mocker) -> rm.Mocker:
    return mock_port_api(requests_mock, _BASE)


@pytest.fixture
def queue(tmp_path: Path) -> EventQueue:
    return EventQueue(tmp_path / "queue.sqlite")


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def worker(queue: EventQueue, metrics: Metrics) -> WebhookApplier:
    client = PortClient(_BASE, "id", "secret", max_attempts=1, sleep=lambda _: None)
    settings = PortSettings.from_config({"port_client_id": "id", "port_client_secret": "s"})
    return WebhookApplier(
        queue,
        client,
        mapper=EntityMapper(load_app_config()),
        settings=settings,
        metrics=metrics,
        logger=logging.getLogger("test.webhooks"),
        backoff_base=0.01,
        backoff_cap=0.02,
    )


def _sent(port: rm.Mocker, url: str) -> list[Any]:
    return [r.json()["entities"] for r in port.request_history if r.url.startswith(url)]


def _counts(metrics: Metrics, *names: str) -> tuple[int, ...]:
    snapshot = metrics.snapshot()
    return tuple(snapshot[name] for name in names)


def test_an_update_is_mapped_upserted_and_remembered(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    port.post(_ISSUES_BULK, **_OK)
    queue.enqueue(_issue("A-1", 100, status={"name": "Done"}), "d1")

    assert worker.drain_once() == (1, False)

    [[entity]] = _sent(port, _ISSUES_BULK)
    assert (entity["identifier"], entity["properties"]["status"]) == ("A-1", "Done")
    assert port.request_history[-1].qs["merge"] == ["true"]
    assert queue.depth() == 0
    assert queue.applied_versions([(ISSUES, "A-1")]) == {(ISSUES, "A-1"): 100}
    assert _counts(metrics, "applied", "retried", "rejected") == (1, 0, 0)


@pytest.mark.parametrize(
    "failure",
    [{"status_code": 503}, {"status_code": 429}, {"exc": requests.ConnectionError}],
)
def test_a_transient_port_failure_keeps_the_event_until_port_recovers(
    port: rm.Mocker,
    queue: EventQueue,
    worker: WebhookApplier,
    metrics: Metrics,
    failure: dict[str, Any],
) -> None:
    port.post(_ISSUES_BULK, [failure, _OK])
    queue.enqueue(_issue("A-1", 100), "d1")

    assert worker.drain_once() == (0, True)
    assert queue.peek(1)[0].attempts == 1
    assert worker.drain_once() == (1, False)

    assert queue.depth() == 0
    assert _counts(metrics, "applied", "retried", "rejected") == (1, 1, 0)


def test_blueprints_unavailable_keeps_the_events(
    requests_mock: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    requests_mock.post(f"{_BASE}/v1/auth/access_token", status_code=503)
    queue.enqueue(_issue("A-1", 100), "d1")

    assert worker.drain_once() == (0, True)

    assert queue.depth() == 1
    assert _counts(metrics, "retried") == (1,)


def test_a_blueprint_the_mapping_does_not_fit_keeps_the_events_unwritten(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    old_issue = json.loads((FIXTURES / "blueprints_before_jira_user.json").read_text())
    old_issue = next(b for b in old_issue if b["identifier"] == "jiraIssue")
    port.get(f"{_BASE}/v1/blueprints/jiraIssue", json={"blueprint": old_issue})
    queue.enqueue(_issue("A-1", 100), "d1")

    assert worker.drain_once() == (0, True)

    assert queue.depth() == 1
    assert _sent(port, _ISSUES_BULK) == []
    assert _counts(metrics, "retried") == (1,)


def test_an_entity_port_refuses_is_rejected_and_logged_with_its_key(
    port: rm.Mocker,
    queue: EventQueue,
    worker: WebhookApplier,
    metrics: Metrics,
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = {"identifier": "A-1", "index": 0, "statusCode": 422, "error": "invalid_request"}
    port.post(_ISSUES_BULK, status_code=207, json={"ok": True, "entities": [], "errors": [error]})
    queue.enqueue(_issue("A-1", 100), "d1")

    with caplog.at_level(logging.ERROR):
        assert worker.drain_once() == (1, False)

    assert queue.depth() == 0
    assert queue.applied_versions([(ISSUES, "A-1")]) == {}
    assert _counts(metrics, "applied", "rejected") == (0, 1)
    assert "issues A-1" in caplog.text and "HTTP 422" in caplog.text


def test_a_bulk_refused_as_a_whole_is_retried_entity_by_entity(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    def answer(request: Any, context: Any) -> dict[str, Any]:
        entities = request.json()["entities"]
        if any(e["identifier"] == "A-2" for e in entities):
            context.status_code = 422
            return {"ok": False, "error": "invalid_request", "message": "bad"}
        return {"ok": True, "entities": [], "errors": []}

    port.post(_ISSUES_BULK, json=answer)
    queue.enqueue(_issue("A-1", 100), "d1")
    queue.enqueue(_issue("A-2", 100), "d2")

    worker.drain_once()

    assert [len(sent) for sent in _sent(port, _ISSUES_BULK)] == [2, 1, 1]
    assert queue.applied_versions([(ISSUES, "A-1"), (ISSUES, "A-2")]) == {(ISSUES, "A-1"): 100}
    assert _counts(metrics, "applied", "rejected") == (1, 1)


def test_an_event_older_than_what_port_has_is_stale(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    port.post(_ISSUES_BULK, **_OK)
    queue.enqueue(_issue("A-1", 200), "d1")
    worker.drain_once()
    queue.enqueue(_issue("A-1", 100), "d2")  # delivered late
    queue.enqueue(_issue("A-1", 200), "d3")  # same version again

    worker.drain_once()

    assert len(_sent(port, _ISSUES_BULK)) == 1
    assert _counts(metrics, "applied", "stale") == (1, 2)


def test_only_the_newest_event_of_a_key_in_a_batch_is_written(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    port.post(_ISSUES_BULK, **_OK)
    for version in (300, 100, 200):
        queue.enqueue(_issue("A-1", version), f"d{version}")

    worker.drain_once()

    [[entity]] = _sent(port, _ISSUES_BULK)
    assert entity["title"] == "A-1 at 300"
    assert queue.depth() == 0
    assert _counts(metrics, "applied", "stale") == (1, 2)


def test_a_delete_is_not_undone_by_an_older_update(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    port.post(_ISSUES_DELETE, json={"ok": True, "deletedEntities": ["A-1"]})
    port.post(_ISSUES_BULK, **_OK)
    queue.enqueue(_issue("A-1", 500, Action.DELETE), "d1")
    worker.drain_once()
    queue.enqueue(_issue("A-1", 400), "d2")

    worker.drain_once()

    assert [r.json() for r in port.request_history if r.url.startswith(_ISSUES_DELETE)] == [
        {"entities": ["A-1"]}
    ]
    assert _sent(port, _ISSUES_BULK) == []
    assert _counts(metrics, "applied", "stale") == (1, 1)


def test_deleting_what_port_does_not_have_counts_as_applied(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    not_found = {"status_code": 404, "json": {"ok": False, "error": "not_found"}}
    port.post(_ISSUES_DELETE, **not_found)
    one = port.delete(f"{_BASE}/v1/blueprints/jiraIssue/entities/A-1", **not_found)
    queue.enqueue(_issue("A-1", 500, Action.DELETE), "d1")

    assert worker.drain_once() == (1, False)
    assert one.called  # the bulk 404 is retried entity by entity, where 404 means gone
    assert _counts(metrics, "applied", "retried") == (1, 0)


def test_a_deletion_needs_only_the_key_like_the_syncs_deletion_records(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    port.post(_ISSUES_DELETE, json={"ok": True, "deletedEntities": ["A-1"]})
    bare = Event("jira:issue_deleted", ISSUES, "A-1", Action.DELETE, 500, {"key": "A-1"})
    queue.enqueue(bare, "d1")

    assert worker.drain_once() == (1, False)

    assert [r.json() for r in port.request_history if r.url.startswith(_ISSUES_DELETE)] == [
        {"entities": ["A-1"]}
    ]
    assert _counts(metrics, "applied", "rejected") == (1, 0)


def test_a_project_delivery_leaves_out_what_it_lacks(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier
) -> None:
    port.post(_PROJECTS_BULK, **_OK)
    record = {
        "id": "1",
        "key": "A",
        "name": "Alpha",
        "self": "https://jira.test/rest/api/2/project/1",
    }
    queue.enqueue(Event("project_updated", PROJECTS, "A", Action.UPSERT, 1, record), "d1")

    worker.drain_once()

    [[entity]] = _sent(port, _PROJECTS_BULK)
    assert entity["properties"] == {"url": "https://jira.test/projects/A"}  # no projectType


def test_the_worker_thread_backs_off_and_applies_after_recovery(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    port.post(_ISSUES_BULK, [{"status_code": 502}, {"status_code": 502}, _OK])
    queue.enqueue(_issue("A-1", 100), "d1")

    worker.start()
    try:
        worker.notify()
        deadline = time.monotonic() + 5
        while queue.depth() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()

    assert queue.depth() == 0
    assert _counts(metrics, "applied", "retried") == (1, 2)
