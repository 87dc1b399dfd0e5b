"""The state file: the last confirmed STATE of each stream, replaced atomically on every save.

It holds the JSON list that `source-jira-port read --state` takes, so the two interoperate:
`[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "issues"}, "stream_state": {...}}}]`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer, AirbyteStateType

from source_jira_port.source import SourceJiraPort


class StateFileError(Exception):
    """The state file exists but is not a list of Airbyte STATE messages."""


class StateFile:
    """The sync's saved state; `save` is crash-safe (a temp file renamed over the old one)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._latest: dict[str, AirbyteStateMessage] = {}

    def load(self) -> list[AirbyteStateMessage]:
        """Read the saved states: none when there is no file yet."""
        if not self.path.exists():
            return []
        try:
            states = SourceJiraPort.read_state(str(self.path))
            self._latest = {_stream_name(state): state for state in states}
        except (OSError, ValueError, TypeError, KeyError, AttributeError, StateFileError) as error:
            reason = " ".join(str(error).split())
            raise StateFileError(
                f"{self.path} is not a state file ({reason}). Fix it, delete it, or run with "
                "--full-refresh"
            ) from error
        return states

    def latest(self, stream: str) -> AirbyteStateMessage | None:
        """Return the STATE of `stream` last loaded or saved, or None."""
        return self._latest.get(stream)

    def save(self, state: AirbyteStateMessage) -> None:
        """Record a confirmed STATE and write every stream's latest state to the file."""
        self._latest[_stream_name(state)] = state
        content = [_portable(message) for message in self._latest.values()]
        write_atomically(self.path, json.dumps(content, indent=2) + "\n")


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old or the new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as temp:
            temp.write(text)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # makes the rename itself durable
    finally:
        os.close(directory)


def _stream_name(state: AirbyteStateMessage) -> str:
    if state.type != AirbyteStateType.STREAM or state.stream is None:
        raise StateFileError(f"expected per-stream STATE messages, got {state.type}")
    return str(state.stream.stream_descriptor.name)


def _portable(state: AirbyteStateMessage) -> dict[str, Any]:
    """Return the message without its record counts, which belong to one sync only."""
    message = AirbyteStateMessageSerializer.dump(state)
    return {key: message[key] for key in ("type", "stream")}
