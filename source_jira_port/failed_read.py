"""What a failed read reports: each error once, its cause at the end, no state it did not reach.

The concurrent CDK carries on after a partition fails, and then:

- emits a STATE for every stream when its last partition ends, whatever happened
  (`ConcurrentReadProcessor._on_stream_is_done` -> `cursor.ensure_at_least_one_state_emitted`).
  For a stream whose every window failed, that is the input state unchanged or, with no input
  state, the stream's start (`2000-01-01`): it looks like progress, and a caller that saves it
  offers to "resume" a sync that never began;
- emits one error TRACE per failed partition: after a config error, every window fails the same
  way without a request (`rate_limit.ConfigFailure`), about 330 times the same message;
- ends with an error listing the repr of every exception (tens of KB), always as a
  `config_error`, whatever the failures were (`ConcurrentReadProcessor.is_done`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.cdk_compat import is_concurrent_read_failure


def report_failures_plainly(messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
    """Pass `messages` on, tidied as the module docstring says.

    Dropped: the STATE messages of a stream that failed before its first STATE (a stream that
    emitted one before its first error keeps its later ones: a window's state is only saved once
    every earlier window is complete), and an error TRACE that repeats one of the same stream.
    The CDK's closing error is raised again with the first config error's message (else the
    first error's) and that error's failure type.
    """
    checkpointed: set[str] = set()
    reported: dict[str, set[str]] = {}
    errors: list[tuple[str, AirbyteErrorTraceMessage]] = []
    try:
        for message in messages:
            if message.type == Type.STATE and message.state and message.state.stream:
                name = message.state.stream.stream_descriptor.name
                if name in reported and name not in checkpointed:
                    continue
                checkpointed.add(name)
            elif (error := _stream_error(message)) is not None:
                stream, trace_error = error
                seen = reported.setdefault(stream, set())
                if trace_error.message in seen:
                    continue
                seen.add(trace_error.message)
                errors.append(error)
            yield message
    except AirbyteTracedException as failure:
        if not is_concurrent_read_failure(failure) or not errors:
            raise
        raise _closing_error(errors) from failure


def _stream_error(message: AirbyteMessage) -> tuple[str, AirbyteErrorTraceMessage] | None:
    """Return (stream, error) of an error TRACE that names a stream, else None."""
    trace = message.trace
    if message.type != Type.TRACE or trace is None or trace.type != TraceType.ERROR:
        return None
    if trace.error is None or trace.error.stream_descriptor is None:
        return None
    return trace.error.stream_descriptor.name, trace.error


def _closing_error(errors: list[tuple[str, AirbyteErrorTraceMessage]]) -> AirbyteTracedException:
    """Return the read's closing error: its cause (the first config error), the failed streams."""
    config_errors = [e for _, e in errors if e.failure_type == FailureType.config_error]
    cause = (config_errors or [e for _, e in errors])[0]
    streams = ", ".join(sorted({stream for stream, _ in errors}))
    return AirbyteTracedException(
        message=cause.message,
        internal_message=f"Streams that failed: {streams}. First cause: {cause.internal_message}",
        failure_type=cause.failure_type or FailureType.system_error,
    )
