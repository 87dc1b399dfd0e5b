"""Records skipped under `on_invalid_record: skip`, remembered in the state until Port takes them.

The writer echoes each STATE of a stream with the ids of the records it skipped so
far under `pending_retry`; the source reads those records again by id on the next sync, before
its first checkpoint of the stream, and so on until Port takes them (a later version is written)
or Jira deletes them (the source no longer finds them). Airbyte persists the states the
destination emits, so this works on the platform and in `jira-port sync` alike.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from airbyte_cdk.models import AirbyteStateBlob, AirbyteStateMessage, AirbyteStateType

from source_jira_port.cdk_compat import state_values
from source_jira_port.state_keys import PENDING_RETRY


class RecordKey(str):
    """The key a record is reported by (its `key`, else its `id`), carrying the record's id.

    A str, so the writer reports it as before; the id is what a retry asks the source for.
    """

    record_id: str | None

    def __new__(cls, data: Mapping[str, Any]) -> RecordKey:
        """Return the key of the record `data`."""
        record_id = data.get("id")
        key = super().__new__(cls, str(data.get("key") or record_id or "<no key or id>"))
        key.record_id = None if record_id is None else str(record_id)
        return key


class SkippedRecords:
    """Ids of the records of each stream whose latest version was skipped.

    `received` is called for every record in arrival order, `skipped` when one is skipped
    (possibly later: Port answers bulk requests in the background). A skip counts only when it
    is of the latest version received, so an older version's late rejection does not undo a
    newer version that Port takes.

    Every stream keeps its list, full refresh ones too: a full refresh of issues saves a cursor
    that later incremental syncs start from. (The source re-reads `projects` in full each sync;
    its list only counts what is pending.)
    """

    def __init__(self) -> None:
        self._latest: dict[str, dict[str, RecordKey]] = defaultdict(dict)
        self._pending: dict[str, set[str]] = defaultdict(set)
        self._echoed: dict[str, int] = {}

    def received(self, stream: str, key: RecordKey) -> None:
        """Note a record of `stream`: a newer version replaces any skipped one."""
        if key.record_id is not None:
            self._latest[stream][key.record_id] = key
            self._pending[stream].discard(key.record_id)

    def skipped(self, stream: str, key: str) -> None:
        """Remember the record `key` (a `RecordKey`) of `stream` for a retry by id."""
        if (
            isinstance(key, RecordKey)
            and key.record_id is not None
            and self._latest.get(stream, {}).get(key.record_id) is key
        ):
            self._pending[stream].add(key.record_id)

    @property
    def pending(self) -> int:
        """How many ids the states echoed so far hold, over all streams."""
        return sum(self._echoed.values())

    def with_pending(self, state: AirbyteStateMessage) -> AirbyteStateMessage:
        """Return the STATE with the ids of its stream's records skipped so far in this sync.

        Call it once every record before the state is settled (written or skipped): the
        versions received so far are forgotten, so memory holds one checkpoint's records. The
        source takes the incoming ids out of the state and reads those records again before
        its first state of the stream, so this sync's skips are the whole list.
        """
        self._latest.clear()
        if state.type != AirbyteStateType.STREAM or state.stream is None:
            return state
        stream = state.stream.stream_descriptor.name
        values = state_values(state.stream.stream_state)
        values.pop(PENDING_RETRY, None)
        ids = sorted(self._pending[stream], key=_id_order)
        self._echoed[stream] = len(ids)
        if ids:
            values[PENDING_RETRY] = ids
        blob = AirbyteStateBlob(values)
        return dataclasses.replace(
            state, stream=dataclasses.replace(state.stream, stream_state=blob)
        )


def _id_order(record_id: str) -> tuple[int, str]:
    return (int(record_id), "") if record_id.isdigit() else (0, record_id)
