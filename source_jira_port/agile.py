"""The agile streams' Python: boards, sprints and epics from Jira Software's agile API.

The manifest reads `/rest/agile/1.0` (boards, and each board's sprints and epics). What YAML
cannot say is here:

- a part Jira would not serve (no Jira Software: 404 on the board list; a board the user may
  not read: 403 or 404 on its sprints or epics) is skipped by the manifest's error handler with
  one log line, and `AgileErrorHandler` records the skip for the run;
- `agile_messages` then reports that stream INCOMPLETE instead of COMPLETE, so neither the
  deletion detection (`deletions/tracker.py`) nor the writer's `delete_missing_entities` takes
  what was not read for deleted; and it keeps one record per sprint or epic id, since a sprint
  (or epic) shared by boards is listed under each of them.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStreamStatus,
    Type,
)
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    ErrorResolution,
    ResponseAction,
)

from source_jira_port.components import JiraErrorHandler
from source_jira_port.rate_limit import RUN_ID
from source_jira_port.stream_names import BACKLOG, BOARDS, EPICS, SPRINTS
from source_jira_port.stream_status import stream_status

# The streams of the agile API; without Jira Software, all of them are skipped.
AGILE_STREAMS = frozenset({BOARDS, SPRINTS, EPICS, BACKLOG})
# Streams listed per board, where one record may come from several boards: the first is kept.
_DEDUPLICATED = frozenset({SPRINTS, EPICS})


class SkippedParts:
    """The streams of one run that skipped a part Jira would not serve."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: set[str] = set()

    def add(self, streams: Iterable[str]) -> None:
        """Record that `streams` were not read in full."""
        with self._lock:
            self._streams.update(streams)

    def __contains__(self, stream: object) -> bool:
        with self._lock:
            return stream in self._streams


_SKIPPED: dict[str, SkippedParts] = {}
_SKIPPED_LOCK = threading.Lock()


def skipped_parts_for(run: str | None) -> SkippedParts:
    """Return the skipped parts of the run `run` (the config's `_run_id`), made on first use."""
    if not run:
        return SkippedParts()
    with _SKIPPED_LOCK:
        return _SKIPPED.setdefault(run, SkippedParts())


@dataclass
class AgileErrorHandler(JiraErrorHandler):
    """The manifest's error handler for the agile API, recording the parts its filters skip.

    The manifest's filters let through (IGNORE) the answers that skip a part: 404 on the board
    list (no Jira Software: every agile stream is skipped), 403 or 404 on a board's sprints or
    epics (that stream is skipped in part). A 400 "does not support sprints" skips nothing
    (the board has none). `agile_stream` ($parameters) names the stream being read.
    """

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._stream = str((parameters or {}).get("agile_stream", ""))
        self._skipped = skipped_parts_for(self.config.get(RUN_ID))

    def interpret_response(
        self, response_or_exception: requests.Response | Exception | None
    ) -> ErrorResolution:
        """Decide as `JiraErrorHandler` does; record a skipped part."""
        resolution = super().interpret_response(response_or_exception)
        if (
            resolution.response_action == ResponseAction.IGNORE
            and isinstance(response_or_exception, requests.Response)
            and response_or_exception.status_code in (403, 404)
        ):
            url = response_or_exception.url or ""
            absent = response_or_exception.status_code == 404 and "/board/" not in url
            self._skipped.add(AGILE_STREAMS if absent else {self._stream})
        return resolution


def agile_messages(
    messages: Iterable[AirbyteMessage], skipped: SkippedParts
) -> Iterator[AirbyteMessage]:
    """Yield `messages` with one record per sprint and epic id, and skipped streams INCOMPLETE.

    A sprint is the same on every board that lists it: the first record is kept. An epic's
    `__boardId` depends on the board it was read from, and boards are read concurrently, so
    epics are held until their stream ends and each goes out once, from its lowest board id:
    the same every sync, so Port does not see a change that is none.
    """
    sprint_ids: set[Any] = set()
    epics: dict[Any, AirbyteMessage] = {}
    for message in messages:
        record = message.record
        if message.type == Type.RECORD and record is not None and record.stream == SPRINTS:
            if record.data.get("id") in sprint_ids:
                continue
            sprint_ids.add(record.data.get("id"))
        elif message.type == Type.RECORD and record is not None and record.stream == EPICS:
            held = epics.get(record.data.get("id"))
            if held is None or _board_of(message) < _board_of(held):
                epics[record.data.get("id")] = message
            continue
        elif _ends_epics(message):
            yield from epics.values()
            epics.clear()
        if _completes_skipped(message, skipped):
            yield _incomplete(message)
            continue
        yield message
    yield from epics.values()


def _board_of(message: AirbyteMessage) -> int:
    assert message.record is not None
    board = str(message.record.data.get("__boardId", ""))
    return int(board) if board.isdigit() else 0


_ENDED = (AirbyteStreamStatus.COMPLETE, AirbyteStreamStatus.INCOMPLETE)


def _ends_epics(message: AirbyteMessage) -> bool:
    """Whether `message` is the epics stream's state or final status: held epics go first."""
    if message.type == Type.STATE and message.state is not None:
        stream = message.state.stream
        return stream is not None and stream.stream_descriptor.name == EPICS
    status = stream_status(message)
    return status is not None and status[0] == EPICS and status[1] in _ENDED


def _incomplete(message: AirbyteMessage) -> AirbyteMessage:
    """Return a stream's COMPLETE status message as INCOMPLETE."""
    assert message.trace is not None and message.trace.stream_status is not None
    status = dataclasses.replace(message.trace.stream_status, status=AirbyteStreamStatus.INCOMPLETE)
    return dataclasses.replace(
        message, trace=dataclasses.replace(message.trace, stream_status=status)
    )


def _completes_skipped(message: AirbyteMessage, skipped: SkippedParts) -> bool:
    status = stream_status(message)
    return status is not None and status[1] == AirbyteStreamStatus.COMPLETE and status[0] in skipped
