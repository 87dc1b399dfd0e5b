"""Airbyte messages: builders of those the destination reads, readers of those a command prints."""

from __future__ import annotations

from typing import Any

import orjson
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteRecordMessage,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    AirbyteStreamStatus,
    AirbyteStreamStatusTraceMessage,
    AirbyteTraceMessage,
    StreamDescriptor,
    TraceType,
    Type,
)
from airbyte_cdk.models.airbyte_protocol import AirbyteStateBlob

from source_jira_port.cdk_compat import state_values


def record(stream: str, data: dict[str, Any]) -> AirbyteMessage:
    """A RECORD of `stream`."""
    return AirbyteMessage(
        type=Type.RECORD, record=AirbyteRecordMessage(stream=stream, data=data, emitted_at=1)
    )


def state(stream: str, value: dict[str, Any]) -> AirbyteMessage:
    """A per-stream STATE of `stream` holding `value`."""
    return AirbyteMessage(
        type=Type.STATE,
        state=AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name=stream),
                stream_state=AirbyteStateBlob(value),
            ),
        ),
    )


def status(stream: str, value: AirbyteStreamStatus) -> AirbyteMessage:
    """A stream status TRACE of `stream`."""
    return AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.STREAM_STATUS,
            emitted_at=1,
            stream_status=AirbyteStreamStatusTraceMessage(
                stream_descriptor=StreamDescriptor(name=stream), status=value
            ),
        ),
    )


def serialize(message: AirbyteMessage) -> str:
    """One line of the Airbyte protocol."""
    return orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()


def state_value(message: AirbyteMessage) -> dict[str, Any]:
    """The stream state a STATE message holds."""
    assert message.type == Type.STATE and message.state and message.state.stream
    return state_values(message.state.stream.stream_state)


def of_type(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The printed messages (JSON) of one type: `RECORD`, `STATE`, `TRACE`..."""
    return [message for message in messages if message["type"] == kind]


def records(messages: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    """The data of the printed RECORDs of `stream`."""
    return [
        m["record"]["data"] for m in of_type(messages, "RECORD") if m["record"]["stream"] == stream
    ]


def final_state(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last STATE of each stream, as a `--state` file holds them."""
    latest: dict[str, dict[str, Any]] = {}
    for message in of_type(messages, "STATE"):
        latest[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
    return list(latest.values())
