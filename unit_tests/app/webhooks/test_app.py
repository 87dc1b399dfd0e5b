from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from source_jira_port.app.webhooks.app import create_app
from source_jira_port.app.webhooks.applier import WebhookApplier
from source_jira_port.app.webhooks.jira_state import JiraState
from source_jira_port.app.webhooks.metrics import COUNTERS, Metrics
from source_jira_port.app.webhooks.queue import EventQueue
from source_jira_port.app.webhooks.signature import sign
from source_jira_port.port.client import PortClient
from source_jira_port.port.config import PortSettings
from source_jira_port.port.mapping import EntityMapper, load_app_config

_SECRET = "webhook-secret"
_LIMIT = 4096


def _delivery(key: str = "A-1", event: str = "jira:issue_updated") -> bytes:
    issue = {"id": "10001", "key": key, "fields": {"updated": "2024-01-02T03:04:05.678+0000"}}
    return json.dumps({"timestamp": 1, "webhookEvent": event, "issue": issue}).encode()


class App:
    def __init__(self, tmp_path: Path, secret: str | None, mapping: Any = None) -> None:
        self.queue = EventQueue(tmp_path / "queue.sqlite")
        self.metrics = Metrics()
        mapper = EntityMapper(load_app_config(mapping))
        settings = PortSettings.from_config({"port_client_id": "i", "port_client_secret": "s"})
        self.worker = WebhookApplier(
            self.queue,
            PortClient("http://127.0.0.1:9", "i", "s", max_attempts=1),
            jira=JiraState({"jira_url": "http://127.0.0.1:9"}),
            mapper=mapper,
            settings=settings,
            metrics=self.metrics,
            logger=logging.getLogger("test"),
        )
        app = create_app(
            self.queue,
            self.worker,
            self.metrics,
            secret=secret,
            logger=logging.getLogger("test"),
            max_body_bytes=_LIMIT,
            mapped=mapper.kinds(),
        )
        self.http = TestClient(app)  # lifespan not entered: the worker does not run

    def post(self, body: bytes, identifier: str | None = "d1", **headers: str) -> Any:
        if identifier:
            headers["X-Atlassian-Webhook-Identifier"] = identifier
        return self.http.post("/webhooks/jira", content=body, headers=headers)

    def signed(self, body: bytes, identifier: str | None = "d1") -> Any:
        return self.post(body, identifier, **{"X-Hub-Signature": sign(_SECRET, body)})

    def counters(self) -> dict[str, float]:
        return dict(self.http.get("/metrics").json())


@pytest.fixture
def app(tmp_path: Path) -> App:
    return App(tmp_path, _SECRET)


def test_a_signed_delivery_is_queued_and_answered_202(app: App) -> None:
    response = app.signed(_delivery())

    assert response.status_code == 202
    [queued] = app.queue.peek(10)
    assert (queued.event.key, queued.event.name) == ("A-1", "jira:issue_updated")
    assert app.counters() == {
        "counters_since": round(app.metrics.started_at, 3),
        **dict.fromkeys(COUNTERS, 0),
        "received": 1,
        "queued": 1,
        "parked": 0,
    }


def test_queue_depth_and_parked_count_come_from_the_queue_file(tmp_path: Path) -> None:
    first = App(tmp_path, _SECRET)
    first.signed(_delivery("A-1"), "d1")
    first.signed(_delivery("A-2"), "d2")
    first.queue.park({first.queue.peek(1)[0].seq: "invalid"})
    first.queue.close()

    restarted = App(tmp_path, _SECRET)

    counts = restarted.counters()
    assert (counts["queued"], counts["parked"], counts["received"]) == (1, 1, 0)


def test_a_redelivery_is_acknowledged_but_not_queued_again(app: App) -> None:
    app.signed(_delivery())

    response = app.signed(_delivery(), "d1")

    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    assert app.queue.depth() == 1
    assert app.counters()["duplicates"] == 1


@pytest.mark.parametrize("signature", [None, "sha256=00", sign("other-secret", _delivery())])
def test_a_bad_or_missing_signature_is_refused_with_401(app: App, signature: str | None) -> None:
    headers = {"X-Hub-Signature": signature} if signature else {}

    response = app.post(_delivery(), **headers)

    assert response.status_code == 401
    assert app.queue.depth() == 0
    assert app.counters()["rejected"] == 1


def test_the_signature_covers_the_raw_body(app: App) -> None:
    body = _delivery()
    reformatted = json.dumps(json.loads(body), indent=2).encode()

    response = app.post(reformatted, **{"X-Hub-Signature": sign(_SECRET, body)})

    assert response.status_code == 401


def test_without_a_secret_unsigned_deliveries_are_accepted(tmp_path: Path) -> None:
    assert App(tmp_path, None).post(_delivery()).status_code == 202


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"webhookEvent": "jira:issue_updated", "timestamp": 1}']
)
def test_malformed_deliveries_get_400(app: App, body: bytes) -> None:
    response = app.signed(body)

    assert response.status_code == 400
    assert app.counters()["rejected"] == 1


def test_a_body_over_the_limit_gets_413_even_without_content_length(app: App) -> None:
    big = b"x" * (_LIMIT + 1)

    declared = app.signed(big)
    streamed = app.http.post(
        "/webhooks/jira", content=(big[i : i + 1000] for i in range(0, len(big), 1000))
    )

    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert app.counters()["rejected"] == 2


def test_other_event_types_are_acknowledged_and_ignored(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "test"):
        response = app.signed(_delivery(event="comment_created" + "x" * 3000))

    assert response.status_code == 200
    assert app.queue.depth() == 0
    assert app.counters()["ignored"] == 1
    [line] = [r.getMessage() for r in caplog.records if "Ignored" in r.getMessage()]
    assert "comment_createdxxx" in line
    assert len(line) < 300


def test_events_of_a_stream_the_mapping_does_not_map_are_acknowledged_and_ignored(
    tmp_path: Path,
) -> None:
    only_issues = (
        "resources:\n- kind: issues\n  selector: {query: 'true'}\n  port:\n    entity:\n"
        "      mappings: {identifier: .key, blueprint: '\"jiraIssue\"', properties: {}}\n"
    )
    app = App(tmp_path, _SECRET, only_issues)
    user = {"timestamp": 1, "webhookEvent": "user_updated", "user": {"accountId": "a1"}}
    project = {"timestamp": 1, "webhookEvent": "project_updated", "project": {"id": 1, "key": "A"}}

    answers = [
        app.signed(json.dumps(body).encode(), d) for d, body in [("d1", user), ("d2", project)]
    ]

    assert [(a.status_code, a.json()) for a in answers] == [(200, {"status": "ignored"})] * 2
    assert (app.queue.depth(), app.counters()["ignored"]) == (0, 2)
    assert app.signed(_delivery(), identifier="d3").status_code == 202


@pytest.mark.parametrize(
    "key", ["a-1", "A-1 OR 1=1", "../A-1", "A" * 3000 + "-1", "A-1\nFORGED log line"]
)
def test_a_key_that_is_not_a_jira_key_is_refused_and_logged_capped(
    app: App, caplog: pytest.LogCaptureFixture, key: str
) -> None:
    with caplog.at_level(logging.WARNING, "test"):
        response = app.signed(_delivery(key))

    assert response.status_code == 400
    assert app.queue.depth() == 0
    assert app.counters()["rejected"] == 1
    assert all(len(r.getMessage()) < 300 and "\n" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("identifier", ["x" * 129, "d 1", "d\t1"])
def test_a_delivery_identifier_that_is_not_one_is_refused_before_it_is_logged(
    app: App, caplog: pytest.LogCaptureFixture, identifier: str
) -> None:
    body = _delivery()
    headers = {"X-Hub-Signature": sign(_SECRET, body), "X-Atlassian-Webhook-Identifier": identifier}
    with caplog.at_level(logging.WARNING, "test"):
        response = app.http.post("/webhooks/jira", content=body, headers=headers)

    assert response.status_code == 400
    assert app.queue.depth() == 0
    assert identifier not in caplog.text


def test_health_reports_the_worker_and_the_queue(app: App) -> None:
    assert app.http.get("/healthz").status_code == 503  # lifespan not started

    with app.http as running:
        health = running.get("/healthz")

    assert health.status_code == 200
    assert health.json() == {"status": "ok", "queued": 0, "port": "ok"}
    assert not app.worker.alive
