"""The receiver's counters, shared by the HTTP handlers and the worker thread.

The counters are per process: they start at zero with `jira-port webhooks serve` (`/metrics`
says since when). What must survive a restart is read from the queue file instead: `queued`
(events waiting) and `parked` (events that could not be applied).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

COUNTERS = (
    "received",
    "applied",
    "deleted",
    "coalesced",
    "rejected",
    "retried",
    "duplicates",
    "ignored",
)


class Metrics:
    """Thread-safe event counters since the process started (`started_at`, epoch seconds).

    received: deliveries POSTed; applied: events whose issue, project or user Jira still has,
    written to Port as Jira has it; deleted: events whose issue, project or user Jira no longer
    has (or no longer in scope), deleted from Port; coalesced: events that shared another
    event's read and write in a batch (also counted as applied or deleted); rejected: deliveries
    refused (signature, JSON, size, a key or id that is not Jira's); retried: events kept after
    a failed attempt, per attempt; duplicates: redelivered identifiers; ignored: event types this
    receiver does not handle, and events of streams the mapping does not map.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self.started_at = time.time()

    def add(self, name: str, count: int = 1) -> None:
        """Increase counter `name` (one of `COUNTERS`)."""
        if name not in COUNTERS:
            raise ValueError(f"unknown counter {name}")
        with self._lock:
            self._counts[name] += count

    def snapshot(self) -> dict[str, int]:
        """Return every counter, zeros included."""
        with self._lock:
            return {name: self._counts[name] for name in COUNTERS}
