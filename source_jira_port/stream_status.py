"""Reading the stream status trace messages of an Airbyte message stream."""

from __future__ import annotations

from airbyte_cdk.models import AirbyteMessage, AirbyteStreamStatus, TraceType, Type


def stream_status(message: AirbyteMessage) -> tuple[str, AirbyteStreamStatus] | None:
    """Return the stream and status a STREAM_STATUS trace carries; None for other messages."""
    trace = message.trace
    if (
        message.type != Type.TRACE
        or trace is None
        or trace.type != TraceType.STREAM_STATUS
        or trace.stream_status is None
    ):
        return None
    status = trace.stream_status
    return status.stream_descriptor.name, status.status
