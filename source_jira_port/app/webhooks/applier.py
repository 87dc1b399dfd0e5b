"""WebhookApplier: drains the event queue into Port through the sync writer's `EntityApplier`.

Per batch, only the newest event of each key is written, and only when it is newer than
what Port got last; older ones are counted `stale`. Nothing leaves the queue on a transient
failure (Port unreachable, 5xx, 429, auth, a missing blueprint): the worker backs off and
tries again. Only what Port or the mapping refuses for good (a 4xx about the entity itself)
is dropped, counted `rejected` and logged with its key.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

from source_jira_port.app.webhooks.events import Action
from source_jira_port.app.webhooks.metrics import Metrics
from source_jira_port.app.webhooks.queue import EntityKey, EventQueue, QueuedEvent
from source_jira_port.port.apply import EntityApplier, EntityOutcome, Outcome
from source_jira_port.port.blueprints import BlueprintSetupError
from source_jira_port.port.client import PortClient
from source_jira_port.port.config import PortSettings
from source_jira_port.port.mapping import Entity, EntityMapper, RecordMappingError
from source_jira_port.port.transport import PortApiError

_BATCH_EVENTS = 200
_IDLE_SECONDS = 5.0
# Outcomes that leave the event queued for another attempt; any other failure is for good.
_KEEP_QUEUED = frozenset({Outcome.RETRY, Outcome.NO_BLUEPRINT})


@dataclasses.dataclass
class _Pass:
    """What one pass over a batch decided, by queue sequence number."""

    stale: list[int] = dataclasses.field(default_factory=list)
    rejected: dict[int, str] = dataclasses.field(default_factory=dict)
    retry: dict[int, str] = dataclasses.field(default_factory=dict)
    attempted: list[QueuedEvent] = dataclasses.field(default_factory=list)


class WebhookApplier:
    """A background thread applying queued events to Port, with capped exponential backoff."""

    def __init__(
        self,
        queue: EventQueue,
        client: PortClient,
        *,
        mapper: EntityMapper,
        settings: PortSettings,
        metrics: Metrics,
        logger: logging.Logger,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
    ) -> None:
        self._queue = queue
        self._client = client
        self._mapper = mapper
        self._settings = settings
        self._metrics = metrics
        self._logger = logger
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._applier: EntityApplier | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.backing_off = False

    def start(self) -> None:
        """Start the worker thread."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="webhook-applier", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current batch; queued events stay for the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def alive(self) -> bool:
        """Whether the worker thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def notify(self) -> None:
        """Wake the worker: an event was queued."""
        self._wake.set()

    def drain_once(self) -> tuple[int, bool]:
        """Apply one batch; return (events handled, whether some must be retried)."""
        self._wake.clear()
        queued = self._queue.peek(_BATCH_EVENTS)
        if not queued:
            return 0, False
        outcome = _Pass()
        try:
            applier = self._prepare()
        except (PortApiError, BlueprintSetupError) as error:
            outcome.retry = {q.seq: f"cannot prepare Port blueprints: {error}" for q in queued}
        else:
            self._apply(queued, applier, outcome)
        return self._settle(queued, outcome)

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                handled, retry = self.drain_once()
            except Exception:  # the worker must outlive any bug or disk error; events stay queued
                self._logger.exception("Webhook worker failed; the queued events stay queued")
                handled, retry = 0, True
            failures = failures + 1 if retry else 0
            self.backing_off = retry
            if retry:
                self._stopping.wait(self._delay(failures))
            elif not handled:
                self._wake.wait(_IDLE_SECONDS)

    def _delay(self, failures: int) -> float:
        return float(min(self._backoff_cap, self._backoff_base * 2 ** (failures - 1)))

    def _prepare(self) -> EntityApplier:
        """Ensure the mapping's blueprints exist (once, and again after a missing blueprint)."""
        if self._applier is None:
            self._applier = EntityApplier.prepare(
                self._client, self._mapper, None, settings=self._settings, logger=self._logger
            )
        return self._applier

    def _apply(self, queued: list[QueuedEvent], applier: EntityApplier, out: _Pass) -> None:
        upserts: list[tuple[QueuedEvent, Entity]] = []
        deletes: list[tuple[QueuedEvent, tuple[str, str]]] = []
        out.attempted = self._newest(queued, out)
        for item in out.attempted:
            event = item.event
            try:
                if event.action == Action.DELETE:
                    targets = applier.deletions(event.kind, event.record)
                    deletes.extend((item, target) for target in targets)
                else:
                    entities = applier.entities(event.kind, event.record)
                    upserts.extend((item, self._outgoing(item, entity)) for entity in entities)
            except RecordMappingError as error:
                out.rejected[item.seq] = str(error)
        self._settle_outcomes(upserts, applier.upsert([entity for _, entity in upserts]), out)
        self._settle_outcomes(deletes, applier.delete([target for _, target in deletes]), out)

    def _newest(self, queued: list[QueuedEvent], out: _Pass) -> list[QueuedEvent]:
        """Return the newest event per key, if newer than Port's; the others are stale."""
        applied = self._queue.applied_versions((q.event.kind, q.event.key) for q in queued)
        newest: dict[EntityKey, QueuedEvent] = {}
        for item in queued:
            key = (item.event.kind, item.event.key)
            current = newest.get(key)
            if item.event.version <= applied.get(key, -1):
                out.stale.append(item.seq)
            elif current is None or item.event.version >= current.event.version:
                if current is not None:
                    out.stale.append(current.seq)
                newest[key] = item
            else:
                out.stale.append(item.seq)
        return list(newest.values())

    def _outgoing(self, item: QueuedEvent, entity: Entity) -> Entity:
        """Partial deliveries leave out what they lack, so a merge keeps Port's values."""
        if not (item.event.partial and self._mapper.app_config.enable_merge_entity):
            return entity
        return {
            **entity,
            "properties": _without_nulls(entity.get("properties", {})),
            "relations": _without_nulls(entity.get("relations", {})),
        }

    def _settle_outcomes(
        self, items: list[tuple[QueuedEvent, Any]], outcomes: list[EntityOutcome], out: _Pass
    ) -> None:
        for (queued, _), outcome in zip(items, outcomes, strict=True):
            if outcome.outcome in _KEEP_QUEUED:
                out.retry[queued.seq] = outcome.reason
            elif not outcome.done:
                out.rejected[queued.seq] = outcome.reason
            if outcome.outcome == Outcome.NO_BLUEPRINT:
                self._applier = None  # a blueprint is gone: ensure them again first

    def _settle(self, queued: list[QueuedEvent], out: _Pass) -> tuple[int, bool]:
        """Record the pass in the queue, the counters and the log."""
        by_seq = {q.seq: q for q in queued}
        for seq, reason in out.rejected.items():
            event = by_seq[seq].event
            self._logger.error(
                "Rejected %s for %s %s: %s", event.name, event.kind, event.key, reason
            )
        applied = [q for q in out.attempted if q.seq not in out.retry and q.seq not in out.rejected]
        self._queue.finish(
            [*out.stale, *out.rejected, *(q.seq for q in applied)],
            {(q.event.kind, q.event.key): q.event.version for q in applied},
        )
        if out.retry:
            self._queue.count_attempt(out.retry)
            attempts = max(by_seq[seq].attempts for seq in out.retry) + 1
            self._logger.warning(
                "Port write failed for %d events (attempt %d: %s); they stay queued",
                len(out.retry),
                attempts,
                next(iter(out.retry.values())),
            )
        self._metrics.add("applied", len(applied))
        self._metrics.add("stale", len(out.stale))
        self._metrics.add("rejected", len(out.rejected))
        self._metrics.add("retried", len(out.retry))
        return len(queued) - len(out.retry), bool(out.retry)


def _without_nulls(values: Any) -> dict[str, Any]:
    return {name: value for name, value in dict(values).items() if value is not None}
