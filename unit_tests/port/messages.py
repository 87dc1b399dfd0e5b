"""Builders of the Airbyte messages the destination reads (shared with the integration tests)."""

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
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    StreamDescriptor,
    TraceType,
    Type,
)
from airbyte_cdk.models.airbyte_protocol import AirbyteStateBlob


def record(stream: str, data: dict[str, Any]) -> AirbyteMessage:
    return AirbyteMessage(
        type=Type.RECORD, record=AirbyteRecordMessage(stream=stream, data=data, emitted_at=1)
    )


def state(stream: str, value: dict[str, Any]) -> AirbyteMessage:
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


def catalog(*streams: tuple[str, str]) -> ConfiguredAirbyteCatalog:
    """A configured catalog from (stream name, destination sync mode) pairs."""
    return ConfiguredAirbyteCatalogSerializer.load(catalog_json(*streams))


def catalog_json(*streams: tuple[str, str]) -> dict[str, Any]:
    sync_mode = {"overwrite": "full_refresh"}
    return {
        "streams": [
            {
                "stream": {
                    "name": name,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"],
                },
                "sync_mode": sync_mode.get(mode, "incremental"),
                "destination_sync_mode": mode,
            }
            for name, mode in streams
        ]
    }


def serialize(message: AirbyteMessage) -> str:
    return orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()


def state_value(message: AirbyteMessage) -> dict[str, Any]:
    assert message.type == Type.STATE and message.state and message.state.stream
    return dict(message.state.stream.stream_state.__dict__)
