"""The receiver's counters, shared by the HTTP handlers and the worker thread."""

from __future__ import annotations

import threading
from collections import Counter

COUNTERS = ("received", "applied", "rejected", "retried", "duplicates", "ignored", "stale")


class Metrics:
    """Thread-safe event counters since the process started.

    received: deliveries POSTed; applied: events written to Port; rejected: deliveries refused
    (signature, JSON, size) plus events Port or the mapping refused for good; retried: events
    kept after a transient Port failure, per attempt; duplicates: redelivered identifiers;
    ignored: event types this receiver does not handle; stale: events older than what Port has.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

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
