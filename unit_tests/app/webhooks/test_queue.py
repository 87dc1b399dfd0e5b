from __future__ import annotations

from pathlib import Path

import pytest

from source_jira_port.app.webhooks.events import ISSUES, Action, Event
from source_jira_port.app.webhooks.queue import EventQueue


def _event(key: str = "A-1", version: int = 100, action: Action = Action.UPSERT) -> Event:
    record = {"key": key, "fields": {"summary": f"v{version}"}}
    return Event("jira:issue_updated", ISSUES, key, action, version, record)


@pytest.fixture
def queue(tmp_path: Path) -> EventQueue:
    return EventQueue(tmp_path / "queue.sqlite")


def test_events_come_back_oldest_first_with_their_record(queue: EventQueue) -> None:
    first, second = _event("A-1", 200), _event("A-2", 100, Action.DELETE)
    queue.enqueue(first, "d1")
    queue.enqueue(second, "d2")

    assert [q.event for q in queue.peek(10)] == [first, second]
    assert queue.depth() == 2


def test_a_seen_delivery_identifier_is_not_queued_again(queue: EventQueue) -> None:
    assert queue.enqueue(_event(), "d1")
    assert not queue.enqueue(_event(version=101), "d1")

    assert [q.event.version for q in queue.peek(10)] == [100]


def test_deliveries_without_identifier_are_always_queued(queue: EventQueue) -> None:
    assert queue.enqueue(_event(), None)
    assert queue.enqueue(_event(), None)

    assert queue.depth() == 2


def test_identifiers_are_forgotten_after_the_dedupe_window(tmp_path: Path) -> None:
    now = [1000.0]
    queue = EventQueue(tmp_path / "q.sqlite", dedupe_seconds=60, clock=lambda: now[0])
    queue.enqueue(_event(), "d1")

    now[0] += 61

    assert queue.enqueue(_event(), "d1")


def test_finish_removes_the_events_it_names(queue: EventQueue) -> None:
    queue.enqueue(_event("A-1"), "d1")
    queue.enqueue(_event("A-2"), "d2")
    [first, _] = queue.peek(10)

    queue.finish([first.seq])

    assert [q.event.key for q in queue.peek(10)] == ["A-2"]


def test_failed_attempts_are_counted(queue: EventQueue) -> None:
    queue.enqueue(_event(), "d1")
    [item] = queue.peek(1)

    queue.count_attempt([item.seq])
    queue.count_attempt([item.seq])

    assert queue.peek(1)[0].attempts == 2


def test_everything_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite"
    queue = EventQueue(path)
    queue.enqueue(_event("A-1", 100), "d1")
    queue.enqueue(_event("A-2", 100), "d2")
    queue.finish([queue.peek(1)[0].seq])
    queue.close()

    reopened = EventQueue(path)

    assert [q.event.key for q in reopened.peek(10)] == ["A-2"]
    assert not reopened.enqueue(_event("A-2", 100), "d2")
