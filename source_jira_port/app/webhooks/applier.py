"""WebhookApplier: drains the event queue into Port, writing what Jira has now.

An event only names an issue, project or user. Per batch, the applier reads the current state
of every issue, project and user its events name from Jira (`JiraState`: one search per 50-100
issues, with the sync's fields, transformations and scope; one request per project or user),
then upserts what Jira returns and deletes what it does not (deleted, or out of the sync's
projects and jql), through the sync writer's `EntityApplier`. An issue resource with a
`selector.jql` maps the issue only while its JQL matches it (one id-bound search per such
resource and batch), and deletes its entity otherwise. All events of one issue in a batch cost
one read and one write (`coalesced` counts the extra ones). The payload's fields and `updated`
decide nothing, so no order of deliveries, retries and syncs leaves Port older than Jira.

Nothing leaves the queue on a transient failure (Jira or Port unreachable, 5xx, 429, a missing
blueprint): the worker backs off and tries again. What cannot be applied is parked (the queue's
`parked` table, `jira-port webhooks failed`, `replay`), logged with its key and reason: at once
when Port or the mapping refuses the entity for good (a 4xx about the entity itself), after
`PARK_AFTER_ATTEMPTS` attempts when Jira or Port answers a permission error (401, 403). A user
Jira Cloud does not find is deleted only if the account may browse users (`browses_users`):
Cloud hides every user from one that may not, so the event is parked instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from source_jira_port.app.webhooks.events import record_key
from source_jira_port.app.webhooks.jira_state import JiraUnavailableError, Record
from source_jira_port.app.webhooks.logtext import capped
from source_jira_port.app.webhooks.metrics import Metrics
from source_jira_port.app.webhooks.queue import EventQueue, QueuedEvent
from source_jira_port.port.apply import EntityApplier, EntityOutcome, Outcome
from source_jira_port.port.blueprints import BlueprintSetupError
from source_jira_port.port.client import PortClient
from source_jira_port.port.config import PortSettings
from source_jira_port.port.mapping import Entity, EntityMapper, RecordMappingError
from source_jira_port.port.transport import PortApiError
from source_jira_port.stream_names import ISSUES, USERS

_BATCH_EVENTS = 200
_IDLE_SECONDS = 5.0
# After the queue ran dry, the next event waits this long for the rest of its burst (a bulk
# edit, a transition with its side effects), so the burst costs one read of Jira.
GATHER_SECONDS = 0.5
# Outcomes that leave the event queued for another attempt; any other failure is for good.
_KEEP_QUEUED = frozenset({Outcome.RETRY, Outcome.NO_BLUEPRINT})
# Statuses that retrying alone will not fix (credentials or permissions): parked after a few tries.
PERMISSION_STATUSES = frozenset({401, 403})
PARK_AFTER_ATTEMPTS = 5
# Why a user deletion is parked when the account may not browse users.
_USERS_HIDDEN = (
    "not deleted from Port: Jira Cloud answers 'no such user' for every user to an account "
    "without the 'Browse users and groups' global permission (USER_PICKER), and the Jira "
    "account lacks it. Grant it, then run jira-port webhooks replay"
)
_Source = tuple[str, str]  # (stream, Jira id)


class CurrentState(Protocol):
    """Where the applier reads what Jira has now (`JiraState`)."""

    def issues(self, ids: list[str]) -> dict[str, Record]:
        """Return the issues records of `ids` in scope now, by id."""

    def project(self, project_id: str) -> Record | None:
        """Return the projects record of `project_id`, None once it is gone."""

    def user(self, identity: str) -> Record | None:
        """Return the users record of `identity` (accountId or key), None once it is gone."""

    def browses_users(self) -> bool:
        """Whether a user that `user` does not find is gone, not hidden from the Jira account."""

    def issue_jql_matches(
        self, ids: list[str], jql_by_resource: dict[int, str]
    ) -> dict[int, frozenset[str]]:
        """Return, by resource index, which of `ids` the resource's `selector.jql` matches."""


@dataclasses.dataclass
class _Pass:
    """What one pass over a batch decided, by queue sequence number."""

    coalesced: int = 0
    park: dict[int, str] = dataclasses.field(default_factory=dict)
    retry: dict[int, str] = dataclasses.field(default_factory=dict)
    refused: set[int] = dataclasses.field(default_factory=set)  # retried for a permission error
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
        self._senders = self._new_senders()
        self.backing_off = False

    def start(self) -> None:
        """Start the worker thread."""
        self._stopping.clear()
        self._senders = self._new_senders()
        self._thread = threading.Thread(target=self._run, name="webhook-applier", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current batch; queued events stay for the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._senders.shutdown()

    def _new_senders(self) -> ThreadPoolExecutor:
        """Return the threads that send a batch's bulk upserts to Port, `concurrency` at once."""
        return ThreadPoolExecutor(self._settings.concurrency, thread_name_prefix="webhook-port")

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
        cached = self._applier is not None
        outcome = self._pass(queued)
        if outcome.park and cached:
            # Refused against blueprints read earlier: read them again (they may have been fixed,
            # and the events replayed) and try those events once more before parking them.
            self._applier = None
            again = self._pass([q for q in queued if q.seq in outcome.park])
            outcome.upserted = (outcome.upserted - outcome.park.keys()) | again.upserted
            outcome.deleted = (outcome.deleted - outcome.park.keys()) | again.deleted
            outcome.retry |= again.retry
            outcome.refused |= again.refused
            outcome.park = again.park
        return self._settle(queued, outcome)

    def _pass(self, queued: list[QueuedEvent]) -> _Pass:
        outcome = _Pass()
        try:
            applier = self._prepare()
        except (PortApiError, BlueprintSetupError) as error:
            outcome.retry = {q.seq: f"cannot prepare Port blueprints: {error}" for q in queued}
            if getattr(error, "status_code", None) in PERMISSION_STATUSES:
                outcome.refused = set(outcome.retry)
        else:
            self._apply(queued, applier, outcome)
        return outcome

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                handled, retry = self.drain_once()
            except Exception:  # the worker must outlive any bug or disk error; events stay queued
                # A log handler may be what raised: the worker outlives that too.
                with contextlib.suppress(Exception):
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
            hidden = self._hidden_users(list(by_source), current)
        except JiraUnavailableError as error:
            out.retry = {q.seq: f"cannot read Jira: {error}" for q in queued}
            if error.status in PERMISSION_STATUSES:
                out.refused = set(out.retry)
            return
        upserts: list[tuple[list[QueuedEvent], Any]] = []
        deletes: list[tuple[list[QueuedEvent], Any]] = []
        for source, items in by_source.items():
            kind = source[0]
            record = current.get(source)
            if source in hidden:
                out.park.update((q.seq, _USERS_HIDDEN) for q in items)
                continue
            try:
                if record is None:
                    gone = applier.deletions(kind, items[-1].event.record)
                    deletes.extend((items, target) for target in gone)
                    out.deleted.update(q.seq for q in items)
                else:
                    entities = applier.entities(kind, record)
                    upserts.extend((items, entity) for entity in entities)
                    moved = _old_keys(applier, kind, items, record, entities)
                    deletes.extend((items, target) for target in moved)
                    left = _left_jql(self._mapper, kind, record, entities)
                    deletes.extend((items, target) for target in left)
                    out.upserted.update(q.seq for q in items)
            except RecordMappingError as error:
                out.park.update((q.seq, str(error)) for q in items)
        self._settle_outcomes(upserts, self._upsert(applier, [e for _, e in upserts]), out)
        self._settle_outcomes(deletes, applier.delete([target for _, target in deletes]), out)

    def _upsert(self, applier: EntityApplier, entities: list[Entity]) -> list[EntityOutcome]:
        """Upsert in bulk-sized slices, up to `concurrency` requests at once (as the writer)."""
        size = self._settings.batch_size
        slices = [entities[start : start + size] for start in range(0, len(entities), size)]
        if len(slices) <= 1:
            return applier.upsert(entities)
        return [outcome for part in self._senders.map(applier.upsert, slices) for outcome in part]

    def _current(self, sources: list[_Source]) -> dict[_Source, Record]:
        """Read from Jira what `sources` are now; a source left out is gone (or out of scope)."""
        issue_ids = [jira_id for kind, jira_id in sources if kind == ISSUES]
        issues = self._jira.issues(issue_ids) if issue_ids else {}
        current: dict[_Source, Record] = {(ISSUES, jira_id): r for jira_id, r in issues.items()}
        if issues and (jql_by_resource := self._mapper.issue_jql()):
            # Each issue resource maps only the issues its `selector.jql` matches now.
            matches = self._jira.issue_jql_matches(list(issues), jql_by_resource)
            self._mapper.select_by_jql(matches)
        for kind, jira_id in sources:
            if kind == ISSUES:
                continue
            read = self._jira.user if kind == USERS else self._jira.project
            if (record := read(jira_id)) is not None:
                current[kind, jira_id] = record
        return current

    def _hidden_users(self, sources: list[_Source], current: dict[_Source, Record]) -> set[_Source]:
        """Return the users Jira did not find that it may only hide from the account."""
        missing = {source for source in sources if source[0] == USERS and source not in current}
        return missing if missing and not self._jira.browses_users() else set()

    def _settle_outcomes(
        self, items: list[tuple[list[QueuedEvent], Any]], outcomes: list[EntityOutcome], out: _Pass
    ) -> None:
        for (queued, _), outcome in zip(items, outcomes, strict=True):
            if outcome.outcome in _KEEP_QUEUED:
                out.retry.update((q.seq, outcome.reason) for q in queued)
                if outcome.status_code in PERMISSION_STATUSES:
                    out.refused.update(q.seq for q in queued)
            elif not outcome.done:
                out.park.update((q.seq, outcome.reason) for q in queued)
            if outcome.outcome == Outcome.NO_BLUEPRINT:
                self._applier = None  # a blueprint is gone: ensure them again first

    def _settle(self, queued: list[QueuedEvent], out: _Pass) -> tuple[int, bool]:
        """Record the pass in the queue, then the counters, then the log."""
        by_seq = {q.seq: q for q in queued}
        for seq in out.refused & out.retry.keys():
            if by_seq[seq].attempts + 1 >= PARK_AFTER_ATTEMPTS:
                out.park[seq] = out.retry.pop(seq)
        failed = out.retry.keys() | out.park.keys()
        self._queue.park(out.park)
        self._queue.finish([q.seq for q in queued if q.seq not in failed])
        if out.retry:
            self._queue.count_attempt(out.retry)
        else:
            self._metrics.add("coalesced", out.coalesced)
        self._metrics.add("applied", len(out.upserted - failed))
        self._metrics.add("deleted", len(out.deleted - failed))
        self._metrics.add("retried", len(out.retry))
        for seq, reason in out.park.items():
            event = by_seq[seq].event
            self._logger.error(
                "Parked %s for %s %s (jira-port webhooks failed lists it, replay retries it): %s",
                event.name,
                event.kind,
                capped(event.key),
                reason,
            )
        if out.retry:
            attempts = max(by_seq[seq].attempts for seq in out.retry) + 1
            self._logger.warning(
                "Applying %d events failed (attempt %d: %s); they stay queued",
                len(out.retry),
                attempts,
                next(iter(out.retry.values())),
            )
        return len(queued) - len(out.retry), bool(out.retry)


def _left_jql(
    mapper: EntityMapper, kind: str, record: Record, entities: list[Entity]
) -> list[tuple[str, str]]:
    """Return the entities of the resources whose `selector.jql` no longer matches `record`."""
    written = {(entity["blueprint"], entity["identifier"]) for entity in entities}
    return [target for target in mapper.unselected_by_jql(kind, record) if target not in written]


def _old_keys(
    applier: EntityApplier,
    kind: str,
    items: list[QueuedEvent],
    record: Record,
    entities: list[Entity],
) -> list[tuple[str, str]]:
    """Return what the events' old keys name in Port, for a record Jira has under a new key.

    An issue moved to another project keeps its id and gets a new key (so does a project whose
    key is changed); as the sync does (deletions/tracker.py), the old key's entities go.
    """
    written = {(entity["blueprint"], entity["identifier"]) for entity in entities}
    current = record_key(kind, record)
    old = {q.event.key: q.event.record for q in items if q.event.key != current}
    return [
        target
        for previous in old.values()
        for target in applier.deletions(kind, previous)
        if target not in written
    ]
