"""WebhookApplier: drains the event queue into Port, writing what Jira has now.

An event only names an issue or project. Per batch, the applier reads the current state of
every issue and project its events name from Jira (`JiraState`: one search per 50-100 issues,
with the sync's fields, transformations and scope), then upserts what Jira returns and deletes
what it does not (deleted, or out of the sync's projects and jql), through the sync writer's
`EntityApplier`. All events of one issue in a batch cost one read and one write (`coalesced`
counts the extra ones). The payload's fields and `updated` decide nothing, so no order of
deliveries, retries and syncs leaves Port older than Jira.

Nothing leaves the queue on a transient failure (Jira or Port unreachable, 5xx, 429, auth, a
missing blueprint): the worker backs off and tries again. Only what Port or the mapping refuses
for good (a 4xx about the entity itself) is dropped, counted `rejected` and logged with its key.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any, Protocol

from source_jira_port.app.webhooks.jira_state import JiraUnavailableError, Record
from source_jira_port.app.webhooks.metrics import Metrics
from source_jira_port.app.webhooks.queue import EventQueue, QueuedEvent
from source_jira_port.port.apply import EntityApplier, EntityOutcome, Outcome
from source_jira_port.port.blueprints import BlueprintSetupError
from source_jira_port.port.client import PortClient
from source_jira_port.port.config import PortSettings
from source_jira_port.port.mapping import EntityMapper, RecordMappingError
from source_jira_port.port.transport import PortApiError
from source_jira_port.stream_names import ISSUES

_BATCH_EVENTS = 200
_IDLE_SECONDS = 5.0
# After the queue ran dry, the next event waits this long for the rest of its burst (a bulk
# edit, a transition with its side effects), so the burst costs one read of Jira.
GATHER_SECONDS = 0.5
# Outcomes that leave the event queued for another attempt; any other failure is for good.
_KEEP_QUEUED = frozenset({Outcome.RETRY, Outcome.NO_BLUEPRINT})
_Source = tuple[str, str]  # (stream, Jira id)


class CurrentState(Protocol):
    """Where the applier reads what Jira has now (`JiraState`)."""

    def issues(self, ids: list[str]) -> dict[str, Record]:
        """Return the issues records of `ids` in scope now, by id."""

    def project(self, project_id: str) -> Record | None:
        """Return the projects record of `project_id`, None once it is gone."""


@dataclasses.dataclass
class _Pass:
    """What one pass over a batch decided, by queue sequence number."""

    coalesced: int = 0
    rejected: dict[int, str] = dataclasses.field(default_factory=dict)
    retry: dict[int, str] = dataclasses.field(default_factory=dict)
    upserted: set[int] = dataclasses.field(default_factory=set)
    deleted: set[int] = dataclasses.field(default_factory=set)


class WebhookApplier:
    """A background thread applying queued events to Port, with capped exponential backoff."""

    def __init__(
        self,
        queue: EventQueue,
        client: PortClient,
        *,
        jira: CurrentState,
        mapper: EntityMapper,
        settings: PortSettings,
        metrics: Metrics,
        logger: logging.Logger,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        self._queue = queue
        self._client = client
        self._jira = jira
        self._mapper = mapper
        self._settings = settings
        self._metrics = metrics
        self._logger = logger
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._gather_seconds = gather_seconds
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
            elif handled < _BATCH_EVENTS and self._wake.wait(_IDLE_SECONDS):
                self._stopping.wait(self._gather_seconds)

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
        by_source: dict[_Source, list[QueuedEvent]] = {}
        for item in queued:
            by_source.setdefault((item.event.kind, item.event.jira_id), []).append(item)
        out.coalesced = len(queued) - len(by_source)
        try:
            current = self._current(list(by_source))
        except JiraUnavailableError as error:
            out.retry = {q.seq: f"cannot read Jira: {error}" for q in queued}
            return
        upserts: list[tuple[list[QueuedEvent], Any]] = []
        deletes: list[tuple[list[QueuedEvent], Any]] = []
        for source, items in by_source.items():
            kind = source[0]
            record = current.get(source)
            try:
                if record is None:
                    gone = applier.deletions(kind, items[-1].event.record)
                    deletes.extend((items, target) for target in gone)
                    out.deleted.update(q.seq for q in items)
                else:
                    upserts.extend((items, entity) for entity in applier.entities(kind, record))
                    out.upserted.update(q.seq for q in items)
            except RecordMappingError as error:
                out.rejected.update((q.seq, str(error)) for q in items)
        self._settle_outcomes(upserts, applier.upsert([entity for _, entity in upserts]), out)
        self._settle_outcomes(deletes, applier.delete([target for _, target in deletes]), out)

    def _current(self, sources: list[_Source]) -> dict[_Source, Record]:
        """Read from Jira what `sources` are now; a source left out is gone (or out of scope)."""
        issue_ids = [jira_id for kind, jira_id in sources if kind == ISSUES]
        current = {
            (ISSUES, jira_id): record
            for jira_id, record in (self._jira.issues(issue_ids) if issue_ids else {}).items()
        }
        for kind, jira_id in sources:
            if kind != ISSUES and (project := self._jira.project(jira_id)) is not None:
                current[kind, jira_id] = project
        return current

    def _settle_outcomes(
        self, items: list[tuple[list[QueuedEvent], Any]], outcomes: list[EntityOutcome], out: _Pass
    ) -> None:
        for (queued, _), outcome in zip(items, outcomes, strict=True):
            if outcome.outcome in _KEEP_QUEUED:
                out.retry.update((q.seq, outcome.reason) for q in queued)
            elif not outcome.done:
                out.rejected.update((q.seq, outcome.reason) for q in queued)
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
        failed = out.retry.keys() | out.rejected.keys()
        self._queue.finish([q.seq for q in queued if q.seq not in out.retry])
        if out.retry:
            self._queue.count_attempt(out.retry)
            attempts = max(by_seq[seq].attempts for seq in out.retry) + 1
            self._logger.warning(
                "Applying %d events failed (attempt %d: %s); they stay queued",
                len(out.retry),
                attempts,
                next(iter(out.retry.values())),
            )
        else:
            self._metrics.add("coalesced", out.coalesced)
        self._metrics.add("applied", len(out.upserted - failed))
        self._metrics.add("deleted", len(out.deleted - failed))
        self._metrics.add("rejected", len(out.rejected))
        self._metrics.add("retried", len(out.retry))
        return len(queued) - len(out.retry), bool(out.retry)
