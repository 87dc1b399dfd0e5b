"""The issues stream's state: where deletion detection and the pending retry keep their parts.

Both take their key out of the incoming state before the CDK sees it, and put it back into the
issues STATE messages they pass on; so does the mapping fingerprint, which the source only
carries (`carry_in_issues_states`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    ConfiguredAirbyteCatalog,
    SyncMode,
    Type,
)

from source_jira_port.cdk_compat import state_values
from source_jira_port.stream_names import ISSUES


def reads_issues_incrementally(catalog: ConfiguredAirbyteCatalog) -> bool:
    """Whether `catalog` reads the issues stream incrementally (so its state carries over)."""
    return any(
        s.stream.name == ISSUES and s.sync_mode == SyncMode.incremental for s in catalog.streams
    )


def issues_blob(state: AirbyteStateMessage | None) -> AirbyteStateBlob | None:
    """Return the stream state of an issues STATE message, None for any other message."""
    if (
        state is None
        or state.type != AirbyteStateType.STREAM
        or state.stream is None
        or state.stream.stream_descriptor.name != ISSUES
    ):
        return None
    return state.stream.stream_state or AirbyteStateBlob()


def with_blob(state: AirbyteStateMessage, blob: AirbyteStateBlob) -> AirbyteStateMessage:
    """Return the STREAM state message `state` with `blob` as its stream state."""
    assert state.stream is not None
    return dataclasses.replace(state, stream=dataclasses.replace(state.stream, stream_state=blob))


def take_from_issues_state(
    state: list[AirbyteStateMessage] | None, key: str
) -> tuple[list[AirbyteStateMessage] | None, Any]:
    """Return the state without `key` in the issues stream state, and the value it had (or None)."""
    if not state:
        return state, None
    value = None
    cleaned = []
    for message in state:
        values = state_values(issues_blob(message))
        if key in values:
            value = values.pop(key)
            cleaned.append(with_blob(message, AirbyteStateBlob(values)))
        else:
            cleaned.append(message)
    return cleaned, value


def carry_in_issues_states(
    messages: Iterable[AirbyteMessage], key: str, value: Any
) -> Iterator[AirbyteMessage]:
    """Yield `messages` with `key: value` in each issues STATE (unchanged when `value` is None)."""
    for message in messages:
        blob = issues_blob(message.state) if message.type == Type.STATE else None
        if value is None or blob is None:
            yield message
            continue
        assert message.state is not None
        state = with_blob(message.state, AirbyteStateBlob({**state_values(blob), key: value}))
        yield dataclasses.replace(message, state=state)
