"""A durable event queue in SQLite, with what it needs for dedupe and parked events.

Three tables: `events` (accepted, not yet in Port), `parked` (events that cannot be applied,
with the reason, until `replay` puts them back) and `deliveries` (delivery identifiers seen
recently, to drop Jira's retries). No ordering is kept: the applier writes what Jira has at
apply time, whatever order events come in. An event is committed (fsynced) before the receiver
acknowledges it. `PRAGMA user_version` numbers the schema; an older queue file is migrated on
open, keeping its events.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from source_jira_port.app.webhooks.events import Action, Event

# Jira retries a delivery for about 30 minutes; identifiers are kept well beyond that.
DEDUPE_SECONDS = 24 * 3600
_SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    action TEXT NOT NULL,
    record TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS parked (
    seq INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    action TEXT NOT NULL,
    record TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    parked_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, received_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_by_age ON deliveries (received_at);
DROP TABLE IF EXISTS applied;
"""
# Version 1 (unnumbered) had `events.version`, the delivery's timestamp, written and never read.
_COPY_V1_EVENTS = """
INSERT INTO events (seq, name, kind, key, action, record, attempts)
    SELECT seq, name, kind, key, action, record, attempts FROM events_v1;
DROP TABLE events_v1
"""


@dataclasses.dataclass(frozen=True)
class QueuedEvent:
    """An event waiting for Port: its queue position and how many attempts failed."""

    seq: int
    event: Event
    attempts: int


@dataclasses.dataclass
class _Pending:
    """An event waiting for its group's commit, then its outcome."""

    event: Event
    delivery_id: str | None
    done: bool = False
    stored: bool = False
    error: Exception | None = None


@dataclasses.dataclass(frozen=True)
class ParkedEvent:
    """An event that could not be applied: its former queue position, attempts and why."""

    seq: int
    event: Event
    attempts: int
    reason: str
    parked_at: float  # epoch seconds


class EventQueue:
    """The queue file; safe to share between the HTTP handlers and the worker thread."""

    def __init__(
        self,
        path: Path,
        *,
        dedupe_seconds: float = DEDUPE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._dedupe_seconds = dedupe_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._migrate()

    def _migrate(self) -> None:
        """Create the tables, or bring an older queue file to this schema with its events."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
            if "version" in columns:
                self._db.execute("ALTER TABLE events RENAME TO events_v1")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
            if "version" in columns:
                for statement in _COPY_V1_EVENTS.split(";"):
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION:d}")

    def close(self) -> None:
        """Close the file; accepted events stay in it for the next start."""
        with self._lock:
            self._db.close()

    def enqueue(self, event: Event, delivery_id: str | None) -> bool:
        """Store `event`; False (and nothing stored) when `delivery_id` was seen already.

        Group commit: events enqueued while another commit runs wait for the lock, and the
        first to get it commits all of them in one transaction (one fsync for the group).
        Each returns only once its own event is committed, or raises what the commit raised.
        """
        mine = _Pending(event, delivery_id)
        with self._pending_lock:
            self._pending.append(mine)
        with self._lock:
            if not mine.done:
                with self._pending_lock:
                    group, self._pending = self._pending, []
                self._commit(group)
        if mine.error is not None:
            raise mine.error
        return mine.stored

    def _commit(self, group: list[_Pending]) -> None:
        """Store a group of pending events in one transaction; mark each done."""
        now = self._clock()
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "DELETE FROM deliveries WHERE received_at < ?", (now - self._dedupe_seconds,)
                )
                for pending in group:
                    pending.stored = self._insert(pending, now)
        except Exception as error:  # every event of the group failed with it
            for pending in group:
                pending.stored, pending.error = False, error
        for pending in group:
            pending.done = True

    def _insert(self, pending: _Pending, now: float) -> bool:
        if pending.delivery_id is not None:
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO deliveries VALUES (?, ?)", (pending.delivery_id, now)
            )
            if inserted.rowcount == 0:
                return False
        event = pending.event
        self._db.execute(
            "INSERT INTO events (name, kind, key, action, record) VALUES (?, ?, ?, ?, ?)",
            (
                event.name,
                event.kind,
                event.key,
                event.action.value,
                json.dumps(event.record, separators=(",", ":")),
            ),
        )
        return True

    def peek(self, limit: int) -> list[QueuedEvent]:
        """Return up to `limit` waiting events, oldest first, without removing them."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, name, kind, key, action, record, attempts FROM events "
                "ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [QueuedEvent(row[0], _event(row[1:6]), row[6]) for row in rows]

    def finish(self, seqs: Iterable[int]) -> None:
        """Remove events `seqs` (applied, or refused for good), in one transaction."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM events WHERE seq = ?", [(s,) for s in seqs])

    def count_attempt(self, seqs: Iterable[int]) -> None:
        """Note a failed attempt for events `seqs`, which stay queued."""
        with self._lock, self._db:
            self._db.executemany(
                "UPDATE events SET attempts = attempts + 1 WHERE seq = ?", [(s,) for s in seqs]
            )

    def park(self, reasons: Mapping[int, str]) -> None:
        """Move events `reasons` (seq -> why) out of the queue into `parked`, in one transaction."""
        now = self._clock()
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for seq, reason in reasons.items():
                self._db.execute(
                    "INSERT OR REPLACE INTO parked "
                    "(seq, name, kind, key, action, record, attempts, reason, parked_at) "
                    "SELECT seq, name, kind, key, action, record, attempts + 1, ?, ? FROM events "
                    "WHERE seq = ?",
                    (reason, now, seq),
                )
                self._db.execute("DELETE FROM events WHERE seq = ?", (seq,))

    def parked(self) -> list[ParkedEvent]:
        """Return the parked events, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, name, kind, key, action, record, attempts, reason, parked_at "
                "FROM parked ORDER BY seq"
            ).fetchall()
        return [ParkedEvent(row[0], _event(row[1:6]), row[6], row[7], row[8]) for row in rows]

    def replay(self, seqs: Iterable[int] | None = None) -> list[int]:
        """Put parked events `seqs` (None: all) back at the end of the queue; return those moved.

        A replayed event starts with no failed attempts and gets a new queue position.
        """
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if seqs is None:
                wanted = [row[0] for row in self._db.execute("SELECT seq FROM parked ORDER BY seq")]
            else:
                wanted = sorted(set(seqs))
            moved = []
            for seq in wanted:
                copied = self._db.execute(
                    "INSERT INTO events (name, kind, key, action, record) "
                    "SELECT name, kind, key, action, record FROM parked WHERE seq = ?",
                    (seq,),
                )
                if copied.rowcount:
                    self._db.execute("DELETE FROM parked WHERE seq = ?", (seq,))
                    moved.append(seq)
            return moved

    def depth(self) -> int:
        """Return how many events wait for Port."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def parked_count(self) -> int:
        """Return how many events are parked."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM parked").fetchone()[0])


def _event(row: tuple[str, str, str, str, str]) -> Event:
    name, kind, key, action, record = row
    return Event(name, kind, key, Action(action), json.loads(record))
