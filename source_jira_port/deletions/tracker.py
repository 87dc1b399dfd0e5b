"""Deletion detection: Jira's deletions as Airbyte CDC deletion records.

Jira's search never mentions deleted issues, so the source remembers what it has emitted (the
`KnownSet`, kept in the issues stream's state under `deletion_detection`) and compares it with
what Jira has now:

- issues: when the `issues` stream completes, every Nth sync, a sweep lists the ids in scope;
  each known id missing from it becomes a deletion record;
- listed streams (`listed.py`: projects, users): such a stream reads everything in scope each
  sync, so each known record it did not read becomes a deletion record when it completes;
  records of a project the read skipped (releases, components: `unread.py`) stay known;
- moves: a record whose id is known under another key (an issue moved to another project, a
  project whose key is changed) is preceded by a deletion record of the old key.

A deletion record carries the id, the last key (or label) read and `_ab_cdc_deleted_at`
(Airbyte's CDC convention; an issue's `updated` is the detection time, so deduplicating
destinations keep the deletion). A listed stream's id goes under its primary key field (a Cloud
user's `accountId`, a Server user's `key`), as its records have it.
The known set is updated in the state message that follows the deletion records, so a sync
that dies before that state is committed detects the same deletions again: nothing is lost.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateStats,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    Type,
)

from source_jira_port.cdc import DELETED_AT, UPDATED_AT
from source_jira_port.cdk_compat import state_values
from source_jira_port.deletions.known import KnownSet
from source_jira_port.deletions.listed import LISTED_STREAMS, KeyFields, key_values, record_id
from source_jira_port.deletions.unread import unread_scopes
from source_jira_port.issue_query import JIRA_TIME_FORMAT
from source_jira_port.issues_state import (
    issues_blob,
    reads_issues_incrementally,
    take_from_issues_state,
    with_blob,
)
from source_jira_port.stream_names import ISSUES
from source_jira_port.stream_status import stream_status

STATE_KEY = "deletion_detection"
# Re-encoding the known set costs about 2 s per million issues; between checkpoints that come
# faster than ten times that, only the latest checkpoint is passed on.
_ENCODE_COST_FACTOR = 10

Sweep = Callable[[], Mapping[str, str | None]]


def split_state(
    state: list[AirbyteStateMessage] | None,
) -> tuple[list[AirbyteStateMessage] | None, KnownSet | None]:
    """Take the known set out of the incoming state; the CDK gets the rest unchanged.

    An unreadable known set is dropped with a warning: detection starts again from what this
    sync reads (deletions of issues not read since then are found by a full refresh only).
    """
    cleaned, value = take_from_issues_state(state, STATE_KEY)
    if value is None:
        return cleaned, None
    try:
        return cleaned, KnownSet.from_state(value)
    except (ValueError, KeyError, TypeError) as error:
        logging.getLogger("airbyte").warning(
            "Ignoring the saved deletion detection state (%s): deletions of issues not "
            "read again are only found by a full refresh",
            error,
        )
        return cleaned, None


class DeletionTracker:
    """Passes a sync's messages through, adding deletion records and the known set to the state.

    `every` is the sweep interval in syncs (1 = every sync). `sweep` lists the issue ids in
    scope now; it raises the manifest's errors, which fail the sync after the last checkpoint.
    `id_fields` names the primary key field of each listed stream (`listed.listed_id_fields`).
    `run` is the read's run id, under which it records the scopes it skipped (`unread.py`).
    """

    def __init__(
        self,
        known: KnownSet | None,
        *,
        every: int,
        sweep: Sweep,
        id_fields: Mapping[str, KeyFields],
        logger: logging.Logger,
        run: str | None = None,
    ) -> None:
        self._known = known if known is not None else KnownSet()
        self._every = every
        self._sweep = sweep
        self._id_fields: dict[str, KeyFields] = {ISSUES: ("id",), **id_fields}
        self._logger = logger
        self._run = run
        self._listed_read: dict[str, dict[str, str]] = {stream: {} for stream in id_fields}
        self._cursor_state: AirbyteStateMessage | None = None
        self._unsent_records = 0.0
        self._held = False
        self._encoded: dict[str, Any] | None = None
        self._next_encode_at = 0.0

    @staticmethod
    def applies_to(catalog: ConfiguredAirbyteCatalog, every: int) -> bool:
        """Whether a sync of `catalog` can track deletions: issues read incrementally, on."""
        return every > 0 and reads_issues_incrementally(catalog)

    def track(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
        """Yield `messages` with deletion records before each stream's COMPLETE status."""
        try:
            yield from self._track(messages)
        except Exception:
            if self._held and self._cursor_state is not None:
                yield self._checkpoint()  # a checkpoint held back is still safe; then fail
            raise
        if self._held and self._cursor_state is not None:
            yield self._checkpoint()

    def _track(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
        for message in messages:
            if message.type == Type.RECORD and message.record is not None:
                yield from self._old_key_deletion(message.record)
                self._remember(message.record)
                yield message
            elif message.type == Type.STATE and issues_blob(message.state) is not None:
                assert message.state is not None
                self._take_checkpoint(message.state)
                if self._encode_is_affordable():
                    yield self._checkpoint()
            elif self._completes(message, ISSUES):
                if self._cursor_state is not None:
                    if self._held:
                        yield self._checkpoint()  # the read is safe before the sweep starts
                    yield from self._issue_deletions()
                    yield self._checkpoint()
                yield message
            elif (listed := self._completed_listed_stream(message)) is not None:
                yield from self._listed_deletions(listed)
                yield message
            else:
                yield message

    def _old_key_deletion(self, record: AirbyteRecordMessage) -> Iterator[AirbyteMessage]:
        """Delete the old key of an id read under a new one, just before the new one.

        An issue moved to another project keeps its id and gets a new key (so does a project
        whose key is changed). The deletion is timed a millisecond before the record's
        `updated`, so destinations that deduplicate by id keep the record.
        """
        data = record.data
        if data.get(DELETED_AT):
            return
        if record.stream == ISSUES:
            known, key_field = self._known.issues, "key"
        elif record.stream in self._id_fields and LISTED_STREAMS[record.stream].label_is_identity:
            known = self._known.listed.get(record.stream, {})
            key_field = LISTED_STREAMS[record.stream].label
        else:
            return
        known_id = record_id(data, self._id_fields[record.stream])
        old_key = known.get(known_id)
        if old_key is not None and old_key != data[key_field]:
            at = None
            if data.get("updated"):
                updated = datetime.strptime(data["updated"], JIRA_TIME_FORMAT)
                at = updated - timedelta(milliseconds=1)
            yield self._deletion(record.stream, known_id, old_key, at)

    def _remember(self, record: AirbyteRecordMessage) -> None:
        data = record.data
        if data.get(DELETED_AT):
            return
        if record.stream == ISSUES:
            self._known.issues[str(data["id"])] = str(data["key"])
            self._encoded = None
        elif record.stream in self._listed_read:
            label = data.get(LISTED_STREAMS[record.stream].label)
            known_id = record_id(data, self._id_fields[record.stream])
            self._listed_read[record.stream][known_id] = "" if label is None else str(label)

    def _take_checkpoint(self, state: AirbyteStateMessage) -> None:
        counted = state.sourceStats.recordCount if state.sourceStats else None
        self._unsent_records += counted or 0
        self._cursor_state = state
        self._held = True

    def _encode_is_affordable(self) -> bool:
        return self._encoded is not None or time.monotonic() >= self._next_encode_at

    def _checkpoint(self) -> AirbyteMessage:
        """Return the latest issues state with the known set and the records it covers."""
        assert self._cursor_state is not None
        if self._encoded is None:
            started = time.monotonic()
            self._encoded = self._known.to_state()
            cost = time.monotonic() - started
            self._next_encode_at = time.monotonic() + _ENCODE_COST_FACTOR * cost
        blob = issues_blob(self._cursor_state)
        assert blob is not None
        values = {**state_values(blob), STATE_KEY: self._encoded}
        state = with_blob(self._cursor_state, AirbyteStateBlob(values))
        state = dataclasses.replace(
            state, sourceStats=AirbyteStateStats(recordCount=self._unsent_records)
        )
        self._unsent_records = 0
        self._held = False
        return AirbyteMessage(type=Type.STATE, state=state)

    def _issue_deletions(self) -> Iterator[AirbyteMessage]:
        self._known.syncs_since_sweep += 1
        if self._known.syncs_since_sweep < self._every:
            self._encoded = None
            return
        current = self._sweep()
        deleted = sorted(set(self._known.issues) - set(current), key=int)
        for issue_id in deleted:
            yield self._deletion(ISSUES, issue_id, self._known.issues[issue_id])
        keys = self._known.issues
        # The key last read wins: an old key must stay known until the issue is read under its
        # new one (then `_old_key_deletion` removes it from Port). Cloud may list ids alone.
        self._known.issues = {
            issue_id: key
            for issue_id, key in ((i, keys.get(i) or k) for i, k in current.items())
            if key
        }
        rekeyed = sum(1 for i, k in current.items() if k and keys.get(i, k) != k)
        if rekeyed:
            self._logger.warning(
                "%d issues have new keys that no sync has read yet (a project key renamed?): "
                "their old keys leave Port when they are next updated, or with a full refresh",
                rekeyed,
            )
        self._known.syncs_since_sweep = 0
        self._encoded = None
        self._logger.info(
            "Deletion sweep: %d issues in scope, %d deleted since the last sweep",
            len(current),
            len(deleted),
        )

    def _listed_deletions(self, stream: str) -> Iterator[AirbyteMessage]:
        known = self._known.listed.get(stream, {})
        read = self._listed_read[stream]
        if LISTED_STREAMS[stream].label_is_scope:
            skipped = unread_scopes(self._run, stream)
            for record_id, label in known.items():
                if label in skipped:
                    read.setdefault(record_id, label)
        # Numeric ids (projects) in numeric order: by length, then as text.
        for known_id in sorted(set(known) - set(read), key=lambda i: (len(i), i)):
            yield self._deletion(stream, known_id, known[known_id])
        if self._known.listed.get(stream) != read:
            self._known.listed[stream] = dict(read)
            self._encoded = None
            self._held = True

    def _deletion(
        self, stream: str, known_id: str, key: str, at: datetime | None = None
    ) -> AirbyteMessage:
        """Return a deletion record, at `at` or now."""
        at = at or datetime.now(UTC)
        iso = at.isoformat(timespec="milliseconds")
        key_field = LISTED_STREAMS[stream].label if stream in LISTED_STREAMS else "key"
        data = {
            **key_values(known_id, self._id_fields[stream]),
            key_field: key,
            DELETED_AT: iso,
            UPDATED_AT: iso,
        }
        if stream == ISSUES:
            data["updated"] = at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + at.strftime("%z")
        self._unsent_records += 1
        self._held = True
        return AirbyteMessage(
            type=Type.RECORD,
            record=AirbyteRecordMessage(
                stream=stream, data=data, emitted_at=int(time.time() * 1000)
            ),
        )

    def _completed_listed_stream(self, message: AirbyteMessage) -> str | None:
        """Return the listed stream that `message` says is complete, or None."""
        return next((s for s in self._listed_read if self._completes(message, s)), None)

    @staticmethod
    def _completes(message: AirbyteMessage, stream: str) -> bool:
        return stream_status(message) == (stream, AirbyteStreamStatus.COMPLETE)
