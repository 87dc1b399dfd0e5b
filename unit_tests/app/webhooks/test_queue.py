from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from source_jira_port.app.webhooks.events import ISSUES, Action, Event
from source_jira_port.app.webhooks.queue import EventQueue


def _event(key: str = "A-1", version: int = 100, action: Action = Action.UPSERT) -> Event:
    record = {"key": key, "fields": {"summary": f"v{version}"}}
    return Event("jira:issue_updated", ISSUES, key, action, record)


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

    assert [q.event.record["fields"]["summary"] for q in queue.peek(10)] == ["v100"]


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


def test_parked_events_leave_the_queue_with_their_reason_and_survive_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue.sqlite"
    queue = EventQueue(path, clock=lambda: 1700000000.0)
    queue.enqueue(_event("A-1"), "d1")
    queue.enqueue(_event("A-2"), "d2")
    [first, second] = queue.peek(10)
    queue.count_attempt([first.seq])

    queue.park({first.seq: "Port rejected A-1 (HTTP 422)"})
    queue.close()
    reopened = EventQueue(path)

    assert [q.seq for q in reopened.peek(10)] == [second.seq]
    [parked] = reopened.parked()
    assert (parked.seq, parked.event, parked.attempts) == (first.seq, _event("A-1"), 2)
    assert (parked.reason, parked.parked_at) == ("Port rejected A-1 (HTTP 422)", 1700000000.0)
    assert (reopened.depth(), reopened.parked_count()) == (1, 1)


def test_replay_puts_the_named_parked_events_back_at_the_end_with_no_attempts(
    queue: EventQueue,
) -> None:
    for n in (1, 2, 3):
        queue.enqueue(_event(f"A-{n}"), f"d{n}")
    seqs = [q.seq for q in queue.peek(10)]
    queue.park({seqs[0]: "invalid", seqs[1]: "invalid"})

    assert queue.replay([seqs[1], 999]) == [seqs[1]]

    assert [q.event.key for q in queue.peek(10)] == ["A-3", "A-2"]
    assert [q.attempts for q in queue.peek(10)] == [0, 0]
    assert [p.event.key for p in queue.parked()] == ["A-1"]
    assert queue.replay() == [seqs[0]]
    assert (queue.depth(), queue.parked_count()) == (3, 0)


def test_a_queue_file_with_the_old_version_column_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, kind TEXT NOT NULL,
            key TEXT NOT NULL, action TEXT NOT NULL, version INTEGER NOT NULL,
            record TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE deliveries (id TEXT PRIMARY KEY, received_at REAL NOT NULL);
        INSERT INTO events (name, kind, key, action, version, record, attempts)
            VALUES ('jira:issue_updated', 'issues', 'A-7', 'upsert', 5, '{"key": "A-7"}', 3);
        INSERT INTO deliveries VALUES ('d7', 1e12);
        """
    )
    old.close()

    queue = EventQueue(path)
    queue.enqueue(_event("A-8"), "d8")

    [kept, new] = queue.peek(10)
    assert (kept.event.key, kept.event.record, kept.attempts) == ("A-7", {"key": "A-7"}, 3)
    assert new.event.key == "A-8" and new.seq > kept.seq
    assert not queue.enqueue(_event("A-7"), "d7")
    queue.close()
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(events)")}
    assert "version" not in columns


def test_concurrent_enqueues_each_get_their_own_answer(queue: EventQueue) -> None:
    identifiers = [f"d{n % 40}" for n in range(80)]  # every identifier twice

    with ThreadPoolExecutor(16) as pool:
        stored = list(
            pool.map(lambda d: queue.enqueue(_event(d.replace("d", "A-")), d), identifiers)
        )

    assert sum(stored) == 40
    assert sorted(q.event.key for q in queue.peek(100)) == sorted(f"A-{n}" for n in range(40))


def test_a_failed_commit_raises_in_every_enqueue_of_its_group(queue: EventQueue) -> None:
    queue.close()

    with pytest.raises(sqlite3.ProgrammingError):
        queue.enqueue(_event(), "d1")
