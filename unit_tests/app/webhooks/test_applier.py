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
from source_jira_port.app.webhooks.applier import PARK_AFTER_ATTEMPTS, WebhookApplier
from source_jira_port.app.webhooks.events import ISSUES, PROJECTS, Action, Event
from source_jira_port.app.webhooks.jira_state import JiraUnavailableError, Record
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


def _record(key: str, summary: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": key.split("-")[1],
        "key": key,
        "self": f"https://jira.test/rest/api/2/issue/{key}",
        "fields": {"summary": summary, "project": {"key": "A"}, **fields},
    }


def _issue(key: str, version: int, action: Action = Action.UPSERT, **fields: Any) -> Event:
    """An event whose payload says `<key> at <version>`; Jira may have something else."""
    name = "jira:issue_deleted" if action == Action.DELETE else "jira:issue_updated"
    return Event(name, ISSUES, key, action, _record(key, f"{key} at {version}", **fields))


class _Jira:
    """What Jira has now: issues by id, projects by id; `down` fails every read."""

    def __init__(self) -> None:
        self.issue_records: dict[str, Record] = {}
        self.project_records: dict[str, Record] = {}
        self.down = False
        self.refusing: int | None = None  # an HTTP status every read answers
        self.reads: list[list[str]] = []

    def has(self, key: str, summary: str = "current", **fields: Any) -> None:
        record = _record(key, summary, **fields)
        self.issue_records[record["id"]] = record

    def issues(self, ids: list[str]) -> dict[str, Record]:
        self.reads.append(ids)
        if self.down or self.refusing:
            raise JiraUnavailableError(f"HTTP {self.refusing or 503}", self.refusing)
        return {i: self.issue_records[i] for i in ids if i in self.issue_records}

    def project(self, project_id: str) -> Record | None:
        self.reads.append([project_id])
        if self.down:
            raise JiraUnavailableError("HTTP 503")
        return self.project_records.get(project_id)


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
def jira() -> _Jira:
    jira = _Jira()
    jira.has("A-1", status={"name": "Done"})
    jira.has("A-2")
    return jira


def _applier(
    queue: EventQueue, metrics: Metrics, jira: _Jira, logger: logging.Logger
) -> WebhookApplier:
    client = PortClient(_BASE, "id", "secret", max_attempts=1, sleep=lambda _: None)
    settings = PortSettings.from_config({"port_client_id": "id", "port_client_secret": "s"})
    return WebhookApplier(
        queue,
        client,
        jira=jira,
        mapper=EntityMapper(load_app_config()),
        settings=settings,
        metrics=metrics,
        logger=logger,
        backoff_base=0.01,
        backoff_cap=0.02,
        gather_seconds=0.01,
    )


@pytest.fixture
def worker(queue: EventQueue, metrics: Metrics, jira: _Jira) -> WebhookApplier:
    return _applier(queue, metrics, jira, logging.getLogger("test.webhooks"))


def _run_until_drained(worker: WebhookApplier, queue: EventQueue) -> bool:
    """Run the worker thread until the queue is empty (5 s at most); whether it still runs."""
    worker.start()
    try:
        worker.notify()
        deadline = time.monotonic() + 5
        while queue.depth() and time.monotonic() < deadline:
            time.sleep(0.01)
        return worker.alive
    finally:
        worker.stop()


def _sent(port: rm.Mocker, url: str) -> list[Any]:
    return [r.json()["entities"] for r in port.request_history if r.url.startswith(url)]


def _counts(metrics: Metrics, *names: str) -> tuple[int, ...]:
    snapshot = metrics.snapshot()
    return tuple(snapshot[name] for name in names)


def test_an_update_writes_the_issue_as_jira_has_it_not_the_payload(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics, jira: _Jira
) -> None:
    port.post(_ISSUES_BULK, **_OK)
    queue.enqueue(_issue("A-1", 100, status={"name": "Open"}), "d1")

    assert worker.drain_once() == (1, False)

    [[entity]] = _sent(port, _ISSUES_BULK)
    assert (entity["identifier"], entity["properties"]["status"]) == ("A-1", "Done")
    assert entity["title"] == "current"
    assert jira.reads == [["1"]]
    assert port.request_history[-1].qs["merge"] == ["true"]
    assert queue.depth() == 0
    assert _counts(metrics, "applied", "retried") == (1, 0)
    assert queue.parked_count() == 0


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
    assert _counts(metrics, "applied", "retried") == (1, 1)
    assert queue.parked_count() == 0


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


def test_an_entity_port_refuses_is_parked_and_logged_with_its_key(
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
    [parked] = queue.parked()
    assert (parked.event.key, parked.attempts) == ("A-1", 1)
    assert "HTTP 422" in parked.reason
    assert _counts(metrics, "applied", "retried") == (0, 0)
    assert "issues A-1" in caplog.text and "HTTP 422" in caplog.text


@pytest.mark.parametrize("status", [401, 403])
def test_a_port_permission_error_is_retried_then_parked(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics, status: int
) -> None:
    port.post(_ISSUES_BULK, status_code=status, json={"ok": False, "error": "forbidden"})
    queue.enqueue(_issue("A-1", 100), "d1")

    for _ in range(PARK_AFTER_ATTEMPTS - 1):
        assert worker.drain_once() == (0, True)
    assert queue.parked_count() == 0
    assert worker.drain_once() == (1, False)

    assert queue.depth() == 0
    [parked] = queue.parked()
    assert (parked.event.key, parked.attempts) == ("A-1", PARK_AFTER_ATTEMPTS)
    assert parked.reason.startswith("Port")


def test_a_jira_permission_error_is_retried_then_parked(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, jira: _Jira
) -> None:
    jira.refusing = 403
    queue.enqueue(_issue("A-1", 100), "d1")

    for _ in range(PARK_AFTER_ATTEMPTS - 1):
        assert worker.drain_once() == (0, True)
    assert worker.drain_once() == (1, False)

    [parked] = queue.parked()
    assert "cannot read Jira" in parked.reason
    assert _sent(port, _ISSUES_BULK) == []


def test_jira_down_is_never_parked(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, jira: _Jira
) -> None:
    jira.down = True
    queue.enqueue(_issue("A-1", 100), "d1")

    for _ in range(PARK_AFTER_ATTEMPTS + 2):
        assert worker.drain_once() == (0, True)

    assert (queue.depth(), queue.parked_count()) == (1, 0)


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
    assert _counts(metrics, "applied") == (1,)
    assert [p.event.key for p in queue.parked()] == ["A-2"]


def test_events_of_one_issue_in_a_batch_cost_one_read_and_one_write(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics, jira: _Jira
) -> None:
    port.post(_ISSUES_BULK, **_OK)
    for version in (300, 100, 200):
        queue.enqueue(_issue("A-1", version), f"d{version}")
    queue.enqueue(_issue("A-2", 100), "other")

    worker.drain_once()

    assert jira.reads == [["1", "2"]]
    [entities] = _sent(port, _ISSUES_BULK)
    assert sorted(e["identifier"] for e in entities) == ["A-1", "A-2"]
    assert queue.depth() == 0
    assert _counts(metrics, "applied", "coalesced") == (4, 2)


def test_an_update_of_an_issue_jira_no_longer_has_deletes_it(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics, jira: _Jira
) -> None:
    port.post(_ISSUES_DELETE, json={"ok": True, "deletedEntities": ["A-1"]})
    port.post(_ISSUES_BULK, **_OK)
    del jira.issue_records["1"]
    queue.enqueue(_issue("A-1", 400), "late update")

    worker.drain_once()

    assert [r.json() for r in port.request_history if r.url.startswith(_ISSUES_DELETE)] == [
        {"entities": ["A-1"]}
    ]
    assert _sent(port, _ISSUES_BULK) == []
    assert _counts(metrics, "applied", "deleted") == (0, 1)


def test_an_issue_moved_to_another_project_leaves_its_old_key(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics, jira: _Jira
) -> None:
    port.post(_ISSUES_DELETE, json={"ok": True, "deletedEntities": ["A-1"]})
    port.post(_ISSUES_BULK, **_OK)
    jira.issue_records["1"] = _record("B-1", "moved")  # same id 1, now in project B
    queue.enqueue(_issue("A-1", 100), "before the move")
    queue.enqueue(_issue("B-1", 200), "the move")

    assert worker.drain_once() == (2, False)

    assert [[e["identifier"] for e in sent] for sent in _sent(port, _ISSUES_BULK)] == [["B-1"]]
    assert [r.json() for r in port.request_history if r.url.startswith(_ISSUES_DELETE)] == [
        {"entities": ["A-1"]}
    ]
    assert _counts(metrics, "applied", "deleted") == (2, 0)


def test_a_delete_event_of_an_issue_jira_still_has_writes_it(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    port.post(_ISSUES_BULK, **_OK)
    queue.enqueue(_issue("A-1", 500, Action.DELETE), "forged or stale delete")

    worker.drain_once()

    [[entity]] = _sent(port, _ISSUES_BULK)
    assert entity["identifier"] == "A-1"
    assert _counts(metrics, "applied", "deleted") == (1, 0)


def test_jira_unavailable_keeps_the_events_and_writes_nothing(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics, jira: _Jira
) -> None:
    port.post(_ISSUES_BULK, **_OK)
    jira.down = True
    queue.enqueue(_issue("A-1", 100), "d1")

    assert worker.drain_once() == (0, True)
    assert _sent(port, _ISSUES_BULK) == []
    assert queue.peek(1)[0].attempts == 1

    jira.down = False
    assert worker.drain_once() == (1, False)
    assert queue.depth() == 0
    assert _counts(metrics, "applied", "retried") == (1, 1)


def test_deleting_what_port_does_not_have_counts_as_applied(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    not_found = {"status_code": 404, "json": {"ok": False, "error": "not_found"}}
    port.post(_ISSUES_DELETE, **not_found)
    one = port.delete(f"{_BASE}/v1/blueprints/jiraIssue/entities/A-3", **not_found)
    queue.enqueue(_issue("A-3", 500, Action.DELETE), "d1")

    assert worker.drain_once() == (1, False)
    assert one.called  # the bulk 404 is retried entity by entity, where 404 means gone
    assert _counts(metrics, "deleted", "retried") == (1, 0)


def test_a_deletion_needs_only_the_key_like_the_syncs_deletion_records(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    port.post(_ISSUES_DELETE, json={"ok": True, "deletedEntities": ["A-3"]})
    bare = {"id": "3", "key": "A-3"}
    queue.enqueue(Event("jira:issue_deleted", ISSUES, "A-3", Action.DELETE, bare), "d1")

    assert worker.drain_once() == (1, False)

    assert [r.json() for r in port.request_history if r.url.startswith(_ISSUES_DELETE)] == [
        {"entities": ["A-3"]}
    ]
    assert _counts(metrics, "deleted") == (1,)
    assert queue.parked_count() == 0


def test_a_project_is_written_as_jira_has_it_and_deleted_once_gone(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics, jira: _Jira
) -> None:
    port.post(_PROJECTS_BULK, **_OK)
    port.post(f"{_BASE}/v1/blueprints/jiraProject/bulk/entities/delete", json={"ok": True})
    jira.project_records["1"] = {
        "id": "1",
        "key": "A",
        "name": "Alpha",
        "projectTypeKey": "software",
        "self": "https://jira.test/rest/api/2/project/1",
    }
    delivered = {"id": "1", "key": "A", "name": "Old name"}
    queue.enqueue(Event("project_updated", PROJECTS, "A", Action.UPSERT, delivered), "d1")
    queue.enqueue(
        Event("project_updated", PROJECTS, "B", Action.UPSERT, {"id": "2", "key": "B"}), "d2"
    )

    worker.drain_once()

    [[entity]] = _sent(port, _PROJECTS_BULK)
    assert (entity["title"], entity["properties"]["projectType"]) == ("Alpha", "software")
    assert _counts(metrics, "applied", "deleted") == (1, 1)


def test_the_worker_thread_backs_off_and_applies_after_recovery(
    port: rm.Mocker, queue: EventQueue, worker: WebhookApplier, metrics: Metrics
) -> None:
    port.post(_ISSUES_BULK, [{"status_code": 502}, {"status_code": 502}, _OK])
    queue.enqueue(_issue("A-1", 100), "d1")

    assert _run_until_drained(worker, queue)

    assert queue.depth() == 0
    assert _counts(metrics, "applied", "retried") == (1, 2)


class _RaisingHandler(logging.Handler):
    """A log handler whose emit raises, as a broken custom handler or closed stream does."""

    def emit(self, record: logging.LogRecord) -> None:
        raise OSError("the log stream is closed")


def test_the_worker_thread_survives_a_log_handler_that_raises(
    port: rm.Mocker, queue: EventQueue, metrics: Metrics, jira: _Jira
) -> None:
    logger = logging.getLogger("test.webhooks.raising")
    logger.addHandler(_RaisingHandler())
    logger.propagate = False
    worker = _applier(queue, metrics, jira, logger)
    port.post(_ISSUES_BULK, [{"status_code": 502}, _OK])
    queue.enqueue(_issue("A-1", 100), "d1")  # its retry logs a warning, which raises

    assert _run_until_drained(worker, queue)

    assert queue.depth() == 0
    assert _counts(metrics, "applied") == (1,)
