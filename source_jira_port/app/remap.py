"""Mapping changes take effect: `jira-port sync` re-reads the streams whose mapping changed.

Each incremental stream's saved state carries the fingerprint of the mapping and blueprints its
records were written with (`port/fingerprint.py`). When the writer's differs, or the state has
none (saved by an earlier version), the stream's cursor is dropped, so the source reads every
record of it again and the writer re-maps them. The rest of its state stays: the deletion
detection's known set (a re-read still finds deletions) and the ids pending retry.

The re-read stream's STATEs keep the fingerprint it had until the sync completes
(`RemapPlan.in_progress`): a sync that dies half way re-reads the stream again next time, and
the new fingerprint is saved only once every re-mapped record is in Port.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from airbyte_cdk.models import AirbyteStateBlob, AirbyteStateMessage

from source_jira_port.cdk_compat import state_values
from source_jira_port.deletions.tracker import STATE_KEY as KNOWN_SET
from source_jira_port.port.fingerprint import saved_fingerprint, with_fingerprint
from source_jira_port.state_keys import MAPPING_FINGERPRINT, PENDING_RETRY

# What a re-read keeps of a stream's state: everything but the cursor.
_KEPT = (KNOWN_SET, PENDING_RETRY, MAPPING_FINGERPRINT)


@dataclasses.dataclass(frozen=True)
class RemapPlan:
    """The state the source reads from, and the streams re-read with the fingerprint they had."""

    state: list[AirbyteStateMessage]
    streams: Mapping[str, str | None]

    def in_progress(self, state: AirbyteStateMessage) -> AirbyteStateMessage:
        """Return a confirmed STATE as it may be saved before the sync completes."""
        assert state.stream is not None
        name = str(state.stream.stream_descriptor.name)
        if name not in self.streams:
            return state
        return with_fingerprint(state, self.streams[name])

    def reason(self) -> str | None:
        """Return the log line that says which streams are re-read and why, or None."""
        if not self.streams:
            return None
        names = ", ".join(sorted(self.streams))
        several = len(self.streams) > 1
        return (
            f"The mapping of stream{'s' if several else ''} {names} changed since the last sync "
            "(its resources or the blueprints they write; or the state predates mapping "
            f"fingerprints): re-reading {'them' if several else 'it'} in full so that every "
            "record is mapped again"
        )


def plan_remap(
    saved: Iterable[AirbyteStateMessage],
    fingerprints: Mapping[str, str],
    incremental: Iterable[str],
) -> RemapPlan:
    """Drop the cursor of each `incremental` stream whose saved fingerprint is not the current."""
    incremental = frozenset(incremental)
    state = []
    streams: dict[str, str | None] = {}
    for message in saved:
        assert message.stream is not None
        name = str(message.stream.stream_descriptor.name)
        current = fingerprints.get(name)
        old = saved_fingerprint(message)
        if name not in incremental or current is None or old == current:
            state.append(message)
            continue
        streams[name] = old
        values = state_values(message.stream.stream_state)
        kept = AirbyteStateBlob({key: values[key] for key in _KEPT if key in values})
        stream = dataclasses.replace(message.stream, stream_state=kept)
        state.append(dataclasses.replace(message, stream=stream))
    return RemapPlan(state, streams)
