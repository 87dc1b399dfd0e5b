"""A durable event queue in SQLite, with what it needs for dedupe.

Two tables: `events` (accepted, not yet in Port) and `deliveries` (delivery identifiers seen
recently, to drop Jira's retries). No ordering is kept: the applier writes what Jira has at
apply time, whatever order events come in. An event is committed (fsynced) before the receiver
acknowledges it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from source_jira_port.app.webhooks.events import Action, Event

# Jira retries a delivery for about 30 minutes; identifiers are kept well beyond that.
DEDUPE_SECONDS = 24 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    action TEXT NOT NULL,
    version INTEGER NOT NULL,
    record TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, received_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_by_age ON deliveries (received_at);
DROP TABLE IF EXISTS applied;
"""


@dataclasses.dataclass(frozen=True)
class QueuedEvent:
    """An event waiting for Port: its queue position and how many attempts failed."""

    seq: int
    event: Event
    attempts: int


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
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the file; accepted events stay in it for the next start."""
        with self._lock:
            self._db.close()

    def enqueue(self, event: Event, delivery_id: str | None) -> bool:
        """Store `event`; False (and nothing stored) when `delivery_id` was seen already."""
        now = self._clock()
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "DELETE FROM deliveries WHERE received_at < ?", (now - self._dedupe_seconds,)
            )
            if delivery_id is not None:
                inserted = self._db.execute(
                    "INSERT OR IGNORE INTO deliveries VALUES (?, ?)", (delivery_id, now)
                )
                if inserted.rowcount == 0:
                    return False
            self._db.execute(
                "INSERT INTO events (name, kind, key, action, version, record) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    event.name,
                    event.kind,
                    event.key,
                    event.action.value,
                    event.version,
                    json.dumps(event.record, separators=(",", ":")),
                ),
            )
        return True

    def peek(self, limit: int) -> list[QueuedEvent]:
        """Return up to `limit` waiting events, oldest first, without removing them."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, name, kind, key, action, version, record, attempts FROM events "
                "ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            QueuedEvent(
                seq,
                Event(name, kind, key, Action(action), version, json.loads(record)),
                attempts,
            )
            for seq, name, kind, key, action, version, record, attempts in rows
        ]

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

    def depth(self) -> int:
        """Return how many events wait for Port."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
