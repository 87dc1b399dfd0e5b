"""What code other than `jira-port` prints goes to the log, so stdout holds only its own output.

The CDK prints some Airbyte messages itself instead of yielding them: `HttpClient` prints a
`STREAM_STATUS` TRACE with the reason `RATE_LIMITED` on every 429 it retries,
`AirbyteTracedException.emit_message` prints an error TRACE, and config migrations print a
`CONTROL` message. While `sys.stdout` is a `StrayOutput`, each printed line becomes a log record
of the `airbyte` logger, which the reporter writes to stderr.
"""

from __future__ import annotations

import io
import logging
import threading

import orjson
from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, TraceType, Type

# Airbyte LOG levels as Python logging levels.
LOG_LEVELS = {
    "FATAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": logging.DEBUG,
}

logger = logging.getLogger("airbyte")


class StrayOutput(io.TextIOBase):
    """A write-only text stream that logs each complete line it receives (thread-safe)."""

    def __init__(self) -> None:
        super().__init__()
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        """Return True: this stream takes writes (and only writes)."""
        return True

    def write(self, text: str) -> int:
        """Log every line `text` completes; keep an unfinished line for the next write."""
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            log_printed_line(line)
        return len(text)

    def close(self) -> None:
        """Log an unfinished last line, then close."""
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            log_printed_line(rest)
        super().close()


def log_printed_line(line: str) -> None:
    """Log one printed line: an Airbyte message by what it says, other text as a warning."""
    if not line.strip():
        return
    try:
        message = AirbyteMessageSerializer.load(_json(line))
    except (ValueError, TypeError):
        logger.warning("printed: %s", line)
        return
    level, text = _describe(message)
    logger.log(level, "%s", text)


def _describe(message: AirbyteMessage) -> tuple[int, str]:
    if message.type == Type.LOG and message.log is not None:
        return LOG_LEVELS.get(message.log.level.value, logging.INFO), message.log.message
    trace = message.trace
    if message.type == Type.TRACE and trace is not None:
        status = trace.stream_status
        if trace.type == TraceType.STREAM_STATUS and status is not None and status.reasons:
            reasons = ", ".join(reason.type.value.lower() for reason in status.reasons)
            stream = status.stream_descriptor.name
            return logging.INFO, f"Stream {stream}: {reasons}, retrying as Jira asks"
        if trace.type == TraceType.ERROR and trace.error is not None:
            # The sync reports its errors itself, once; this copy only helps debugging.
            return logging.DEBUG, f"Airbyte error trace: {trace.error.message}"
    return logging.DEBUG, f"Airbyte {message.type.value} message (not output)"


def _json(line: str) -> dict[str, object]:
    value = orjson.loads(line)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value
