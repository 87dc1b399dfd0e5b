"""The `kind` of a port-app-config resource: Port's Jira kinds and the streams that produce them.

Port's own Jira integrations (port-labs/ocean `integrations/jira/kinds.py` and
`integrations/jira-server/kinds.py`) name their kinds in the singular; this connector's streams
are plural. A mapping may use either: each kind resolves to the stream whose records it maps.
"""

from __future__ import annotations

from source_jira_port import stream_names

# Port's kind -> the stream that produces its records.
STREAM_OF_PORT_KIND: dict[str, str] = {
    "project": stream_names.PROJECTS,
    "issue": stream_names.ISSUES,
    "user": stream_names.USERS,
    "team": stream_names.TEAMS,
    "worklog": stream_names.WORKLOGS,
    "release": stream_names.RELEASES,
    "component": stream_names.COMPONENTS,
    "board": stream_names.BOARDS,
    "sprint": stream_names.SPRINTS,
    "epic": stream_names.EPICS,
    "backlog": stream_names.BACKLOG,
}

STREAMS: frozenset[str] = frozenset(STREAM_OF_PORT_KIND.values())
PORT_KIND_OF_STREAM: dict[str, str] = {stream: kind for kind, stream in STREAM_OF_PORT_KIND.items()}


class UnknownKindError(ValueError):
    """A resource's kind names no stream this connector has."""


def stream_of(kind: str) -> str:
    """Return the stream a resource of `kind` maps: a stream name, or Port's name for it.

    Raises `UnknownKindError` naming the kind and the kinds that work.
    """
    if kind in STREAMS:
        return kind
    if kind in STREAM_OF_PORT_KIND:
        return STREAM_OF_PORT_KIND[kind]
    known = ", ".join(
        f"{port_kind} ({stream})" for port_kind, stream in sorted(STREAM_OF_PORT_KIND.items())
    )
    raise UnknownKindError(
        f"kind {kind} is neither a stream of this connector nor one of Port's Jira kinds: use "
        f"one of {known}."
    )
