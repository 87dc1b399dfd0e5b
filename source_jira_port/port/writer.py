"""PortWriter: Airbyte messages in, Port bulk upserts out.

A STATE is echoed only after every record before it is in Port (the Airbyte checkpoint rule),
so a crash loses nothing: the next sync resumes from the last echoed state. Records with
`_ab_cdc_deleted_at` set (Airbyte's CDC convention) delete the entity they identify.

A bulk upsert starts as soon as a blueprint has `batch_size` entities, and records keep being
mapped while up to `concurrency` of them run; an entity is never sent while an older version of
it is still in flight, so the latest version is the one Port keeps.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateMessage,
    AirbyteStateStats,
    AirbyteStateType,
    AirbyteStreamStatus,
    AirbyteTraceMessage,
    ConfiguredAirbyteCatalog,
    DestinationSyncMode,
    FailureType,
    StreamDescriptor,
    TraceType,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira_port import cdc
from source_jira_port.port.apply import EntityApplier, EntityOutcome, Outcome
from source_jira_port.port.config import InvalidRecordPolicy, PortSettings
from source_jira_port.port.fingerprint import FingerprintStamp
from source_jira_port.port.inflight import InFlight
from source_jira_port.port.limits import MAX_DELETE_IDS
from source_jira_port.port.mapping import Entity, RecordMappingError
from source_jira_port.port.skipped import RecordKey, SkippedRecords
from source_jira_port.port.stats import WriteStats
from source_jira_port.stream_names import COMPONENTS, RELEASES

# Streams read per project: a complete read may lack a project Jira would not show (it is
# skipped), so what it did not produce is not missing from Jira. Their deletions come from the
# source's deletion records, which spare a skipped project's (source_jira_port/deletions).
_READ_PER_PROJECT: Mapping[str, str] = {
    stream: (
        f"stream {stream} is read per project and may have skipped one Jira would not show; its "
        "deletions come from the source's deletion records instead"
    )
    for stream in (RELEASES, COMPONENTS)
}


@dataclasses.dataclass(frozen=True)
class _Item:
    stream: str
    record_key: str
    entity: Entity

    @property
    def identifier(self) -> str:
        return str(self.entity["identifier"])


_Batch = tuple[str, list[_Item]]


class PortWriter:
    """Writes one sync: upserts entities in concurrent batches, settles them on STATE, reconciles.

    Records become entities and entities reach Port through `applier` (the path the webhook
    applier shares). `stats` (given or new) counts created, updated, deleted and failed entities
    per blueprint. `fingerprints`, when given, stamps the echoed STATEs (`fingerprint.py`).
    """

    def __init__(
        self,
        applier: EntityApplier,
        *,
        settings: PortSettings,
        catalog: ConfiguredAirbyteCatalog,
        logger: logging.Logger,
        stats: WriteStats | None = None,
        fingerprints: FingerprintStamp | None = None,
    ) -> None:
        self._applier = applier
        self._fingerprints = fingerprints
        self.stats = stats if stats is not None else WriteStats()
        self._mapper = applier.mapper
        self._settings = settings
        self._logger = logger
        self._sync_modes = {s.stream.name: s.destination_sync_mode for s in catalog.streams}
        app = self._mapper.app_config
        self._threshold = min(settings.entity_deletion_threshold, app.entity_deletion_threshold)
        # Keyed by identifier: a record seen twice before its batch starts is written once.
        self._pending: dict[str, dict[str, _Item]] = defaultdict(dict)
        self._in_flight_ids: dict[str, set[str]] = defaultdict(set)
        self._pending_deletes: dict[str, set[str]] = defaultdict(set)
        # Those pending only because the issue is outside a resource's JQL: Port may not have
        # them, so they are not counted as deletions.
        self._outside_jql: dict[str, set[str]] = defaultdict(set)
        # Entities whose relation targets were missing, by (blueprint, identifier).
        self._deferred: dict[tuple[str, str], tuple[_Item, EntityOutcome]] = {}
        self._written: dict[str, set[str]] = defaultdict(set)
        # Relation targets sent with create_missing_related_entities, by target blueprint.
        self._referenced: dict[str, set[str]] = defaultdict(set)
        self._relation_targets = {
            identifier: {name: r["target"] for name, r in blueprint.get("relations", {}).items()}
            for identifier, blueprint in applier.validator.blueprints.items()
        }
        self._complete: set[str] = set()
        self._failed: set[str] = set()
        self._unmapped: set[str] = set()
        self._expansions_checked: set[str] = set()
        self._since_state: Counter[str] = Counter()
        self._skipped = 0
        self._skips = SkippedRecords()
        self._executor = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="port")
        self._upserts: InFlight[_Batch, list[EntityOutcome]] = InFlight(
            self._executor, settings.concurrency, self._upsert, self._record_result
        )

    @property
    def mapping_fingerprints(self) -> Mapping[str, str]:
        """Return the fingerprint of each stream the mapping writes (none without a stamp)."""
        return self._fingerprints.fingerprints if self._fingerprints is not None else {}

    def jql_resources(self) -> list[int]:
        """Return the indexes of the mapping's resources that have a `selector.jql`."""
        return sorted(self._mapper.issue_jql())

    def select_by_jql(
        self, matches: Mapping[int, frozenset[str]], known: frozenset[str] | None = None
    ) -> None:
        """Map issues only with the resources whose `selector.jql` matches them (`mapping.py`).

        `known`: the issues written before; only those can lose an entity to a JQL.
        """
        self._mapper.select_by_jql(matches, known)

    def write(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
        """Consume the input messages; yield each STATE once its records are in Port."""
        try:
            for message in messages:
                if message.type == Type.RECORD and message.record is not None:
                    self._add(message.record)
                elif message.type == Type.STATE and message.state is not None:
                    self._commit()
                    state = self._skips.with_pending(message.state)
                    if self._fingerprints is not None:
                        state = self._fingerprints.stamp(state)
                    self.stats.pending_retry = self._skips.pending
                    yield AirbyteMessage(type=Type.STATE, state=self._with_stats(state))
                elif message.type == Type.TRACE and message.trace is not None:
                    self._track_status(message.trace)
            self._commit()
        finally:
            self._executor.shutdown(cancel_futures=True)
        self._count_bare_targets()
        self._reconcile()
        self._logger.info(
            "Port write finished: %d entities written, %d invalid records skipped, %d records "
            "pending retry by the next sync",
            sum(len(identifiers) for identifiers in self._written.values()),
            self._skipped,
            self._skips.pending,
        )

    def _track_status(self, trace: AirbyteTraceMessage) -> None:
        status = trace.stream_status
        if (
            trace.type == TraceType.STREAM_STATUS
            and status is not None
            and status.status == AirbyteStreamStatus.COMPLETE
        ):
            self._complete.add(status.stream_descriptor.name)

    def _add(self, record: AirbyteRecordMessage) -> None:
        stream = record.stream
        self._since_state[stream] += 1
        if stream not in self._sync_modes or stream not in self._mapper.kinds():
            if stream not in self._unmapped:
                self._unmapped.add(stream)
                self._logger.warning(
                    "Records of stream %s are not written: it is not in the catalog or the "
                    "mapping has no resource for it",
                    stream,
                )
            return
        key = RecordKey(record.data)
        self._skips.received(stream, key)
        if record.data.get(cdc.DELETED_AT):
            self._add_deletion(stream, key, record.data)
            return
        if stream not in self._expansions_checked:
            self._expansions_checked.add(stream)
            self._warn_missing_expansions(stream, record.data)
        try:
            entities = self._applier.entities(stream, record.data)
            unselected = self._mapper.unselected_by_jql(stream, record.data)
        except RecordMappingError as error:
            self._reject(stream, key, error.blueprint, str(error), FailureType.config_error)
            return
        for entity in entities:
            item = _Item(stream, key, entity)
            blueprint = entity["blueprint"]
            pending = self._pending[blueprint]
            pending[item.identifier] = item
            self._pending_deletes[blueprint].discard(item.identifier)
            self._deferred.pop((blueprint, item.identifier), None)
            if len(pending) >= self._settings.batch_size:
                self._submit(blueprint)
        # An issue outside a resource's selector.jql loses that resource's entity (if Port has
        # it), unless a resource that matches writes the same one.
        written = {(entity["blueprint"], str(entity["identifier"])) for entity in entities}
        left = [target for target in unselected if target not in written]
        for blueprint, identifier in left:
            self._outside_jql[blueprint].add(identifier)
        self._queue_deletions(left)

    def _warn_missing_expansions(self, stream: str, data: Mapping[str, Any]) -> None:
        missing = self._mapper.missing_expansions(stream, data)
        if missing:
            self._logger.warning(
                "The mapping's %s resources ask Jira to expand %s, but the source's records lack "
                "it: add it to the source's issue_expand option (jira-port sync does this "
                "itself), or the mapping reads null there",
                stream,
                ", ".join(missing),
            )

    def _add_deletion(self, stream: str, key: str, data: Mapping[str, Any]) -> None:
        try:
            targets = self._applier.deletions(stream, data)
        except RecordMappingError as error:
            self._reject(stream, key, error.blueprint, str(error), FailureType.config_error)
            return
        for blueprint, identifier in targets:
            self._outside_jql[blueprint].discard(identifier)
        self._queue_deletions(targets)

    def _queue_deletions(self, targets: Iterable[tuple[str, str]]) -> None:
        for blueprint, identifier in targets:
            self._pending[blueprint].pop(identifier, None)
            self._deferred.pop((blueprint, identifier), None)
            self._pending_deletes[blueprint].add(identifier)
            if len(self._pending_deletes[blueprint]) >= MAX_DELETE_IDS:
                self._delete_pending()

    def _commit(self) -> None:
        """Write everything pending, then retry entities whose relation targets were missing."""
        self._flush()
        while self._deferred:
            deferred, self._deferred = self._deferred, {}
            self._logger.info(
                "Retrying %d entities whose related entities were missing", len(deferred)
            )
            for item, _ in deferred.values():
                self._pending[item.entity["blueprint"]][item.identifier] = item
            self._flush()
            if len(self._deferred) == len(deferred):
                for item, error in self._deferred.values():
                    self._reject_by_port(item, error)
                self._deferred = {}

    def _flush(self) -> None:
        """Delete what is pending deletion, then upsert everything pending and wait for it."""
        self._delete_pending()
        for blueprint in list(self._pending):
            self._submit(blueprint)
        self._upserts.drain()

    def _submit(self, blueprint: str) -> None:
        """Start the bulk upserts of `blueprint`'s pending entities."""
        items = list(self._pending.pop(blueprint, {}).values())
        in_flight = self._in_flight_ids[blueprint]
        if any(item.identifier in in_flight for item in items):
            self._upserts.drain()
        self._note_references(items)
        for chunk in self._applier.chunks([i.entity for i in items]):
            batch = items[chunk.start : chunk.stop]
            in_flight.update(item.identifier for item in batch)
            self._upserts.submit((blueprint, batch))

    def _record_result(self, batch: _Batch, outcomes: list[EntityOutcome]) -> None:
        blueprint, items = batch
        self._in_flight_ids[blueprint].difference_update(item.identifier for item in items)
        counts = self.stats.of(blueprint)
        for item, outcome in zip(items, outcomes, strict=True):
            # This version's outcome replaces an older version's deferral.
            self._deferred.pop((blueprint, item.identifier), None)
            if outcome.done:
                if outcome.outcome == Outcome.CREATED:
                    counts.created += 1
                elif self._was_placeholder(blueprint, item.identifier):
                    counts.placeholders += 1
                else:
                    counts.updated += 1
                self._written[blueprint].add(item.identifier)
            elif outcome.outcome != Outcome.MISSING_TARGET:
                self._reject_by_port(item, outcome)
            elif item.identifier not in self._pending_deletes[blueprint]:
                self._deferred[blueprint, item.identifier] = (item, outcome)

    def _note_references(self, items: list[_Item]) -> None:
        """Remember the relation targets of entities about to be sent, for placeholder counts."""
        if not self._mapper.app_config.create_missing_related_entities:
            return
        for item in items:
            targets = self._relation_targets.get(item.entity["blueprint"], {})
            for name, value in item.entity.get("relations", {}).items():
                target = targets.get(name)
                values = value if isinstance(value, list) else [value]
                if target is not None:
                    self._referenced[target].update(v for v in values if isinstance(v, str))

    def _was_placeholder(self, blueprint: str, identifier: str) -> bool:
        """Whether Port's "updated" entity was a bare relation target this sync made Port create.

        Detection: an entity this sync sent earlier (or alongside) referred to it, and this sync
        had not written it yet. Known limits, as Port says only created-or-not: an entity that
        existed in full before the sync and is referred to before its own record is counted as
        a placeholder (possible on incremental syncs; a first sync into an empty Port is exact);
        a bare entity left by an earlier sync and written now counts as updated.
        """
        return identifier in self._referenced[blueprint] and (
            identifier not in self._written[blueprint]
        )

    def _count_bare_targets(self) -> None:
        """Count the relation targets of blueprints that no stream of the mapping writes.

        Port created them bare (or has them from before); no request is needed. An entity of
        such a blueprint that another tool fills in (Port's Ocean users, say) is counted too.
        """
        written = self._mapper.blueprints()
        for blueprint, identifiers in self._referenced.items():
            if blueprint not in written:
                self.stats.of(blueprint).bare = len(identifiers)

    def _delete_pending(self) -> None:
        """Delete what deletion records named; entities Port does not have are skipped.

        Upserts in flight finish first, so a deletion always lands after them.
        """
        deletes = {bp: sorted(ids) for bp, ids in self._pending_deletes.items() if ids}
        if not deletes:
            return
        self._upserts.drain()
        self._pending_deletes.clear()
        for blueprint, identifiers in deletes.items():
            self._applier.send_deletes(blueprint, identifiers)
            self._written[blueprint].difference_update(identifiers)
            outside = self._outside_jql.pop(blueprint, set())
            deleted = len(set(identifiers) - outside)
            self.stats.of(blueprint).deleted += deleted
            if deleted:
                self._logger.info("Deleted %d %s entities deleted in Jira", deleted, blueprint)

    def _upsert(self, batch: _Batch) -> list[EntityOutcome]:
        blueprint, items = batch
        return self._applier.send_upserts(blueprint, [item.entity for item in items])

    def _reject_by_port(self, item: _Item, outcome: EntityOutcome) -> None:
        status = outcome.status_code or 0
        failure_type = FailureType.config_error if 400 <= status < 500 else FailureType.system_error
        blueprint = item.entity["blueprint"]
        self._reject(item.stream, item.record_key, blueprint, outcome.reason, failure_type)

    def _reject(
        self, stream: str, key: str, blueprint: str, reason: str, failure_type: FailureType
    ) -> None:
        self.stats.of(blueprint).failed += 1
        if self._settings.on_invalid_record == InvalidRecordPolicy.FAIL:
            raise AirbyteTracedException(
                message=f"Record {key} of stream {stream} cannot be written to Port: {reason}",
                failure_type=failure_type,
                stream_descriptor=StreamDescriptor(name=stream),
            )
        self._skipped += 1
        self._failed.add(stream)
        self._skips.skipped(stream, key)
        self._logger.error("Skipped record %s of stream %s: %s", key, stream, reason)

    def _with_stats(self, state: AirbyteStateMessage) -> AirbyteStateMessage:
        if state.type == AirbyteStateType.STREAM and state.stream is not None:
            count = self._since_state.pop(state.stream.stream_descriptor.name, 0)
        else:
            count = sum(self._since_state.values())
            self._since_state.clear()
        return dataclasses.replace(state, destinationStats=AirbyteStateStats(recordCount=count))

    def _reconcile(self) -> None:
        """Delete entities a complete full-refresh sync did not produce, within the threshold."""
        if not self._settings.delete_missing_entities:
            return
        overwrite = frozenset(
            s for s, mode in self._sync_modes.items() if mode == DestinationSyncMode.overwrite
        )
        for blueprint in sorted(self._mapper.blueprints(overwrite)):
            blocker = self._reconcile_blocker(blueprint)
            if blocker:
                self._logger.warning("Not deleting missing %s entities: %s", blueprint, blocker)
                continue
            existing = self._applier.client.list_identifiers(blueprint)
            stale = sorted(set(existing) - self._written[blueprint])
            if not stale:
                continue
            if len(stale) > self._threshold * len(existing):
                self._logger.error(
                    "Not deleting %d of %d %s entities missing from this sync: that is more than "
                    "the deletion threshold (%.0f%%). If Jira really lost them, raise "
                    "entity_deletion_threshold (and the mapping's entityDeletionThreshold).",
                    len(stale),
                    len(existing),
                    blueprint,
                    self._threshold * 100,
                )
                continue
            self._applier.send_deletes(blueprint, stale)
            self.stats.of(blueprint).deleted += len(stale)
            self._logger.info("Deleted %d %s entities missing from Jira", len(stale), blueprint)

    def _reconcile_blocker(self, blueprint: str) -> str | None:
        for stream in sorted(self._mapper.kinds_writing(blueprint)):
            if stream in _READ_PER_PROJECT:
                return _READ_PER_PROJECT[stream]
            if self._sync_modes.get(stream) != DestinationSyncMode.overwrite:
                return f"stream {stream} writes it too and is not synced in overwrite mode"
            if stream not in self._complete:
                return f"the source did not report stream {stream} COMPLETE"
            if stream in self._failed:
                return f"records of stream {stream} failed"
        return None
