"""Full-refresh streams whose deletions are found by comparing a complete read with the known set.

Such a stream lists everything in scope each sync, so each remembered record its complete read
no longer lists is a deletion, found at no extra request. Its known set maps each record's id
(the stream's primary key in the manifest; a composite key's values joined by `:`) to a label
kept for its deletion record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from source_jira_port.cdk_compat import declared_streams
from source_jira_port.stream_names import (
    BACKLOG,
    BOARDS,
    COMPONENTS,
    EPICS,
    PROJECTS,
    RELEASES,
    SPRINTS,
    TEAMS,
    USERS,
)


@dataclass(frozen=True)
class ListedStream:
    """How one listed stream's known set is kept.

    `state_key` names it in the deletion detection state. `label` is the record field kept with
    each id and carried by its deletion record. `label_is_identity`: Port knows the record by
    its label, so a new label needs the old one deleted (a project whose key is changed).
    `label_is_scope`: the label names the part of the read a record comes from (a project
    key); a part the read skipped (`unread.py`) keeps its records known, none deleted.
    """

    state_key: str
    label: str
    label_is_identity: bool
    label_is_scope: bool = False


LISTED_STREAMS: Mapping[str, ListedStream] = {
    PROJECTS: ListedStream("projects", label="key", label_is_identity=True),
    USERS: ListedStream("users", label="displayName", label_is_identity=False),
    TEAMS: ListedStream("teams", label="displayName", label_is_identity=False),
    # Read per project: the label is the project's key.
    RELEASES: ListedStream(
        "releases", label="__projectKey", label_is_identity=False, label_is_scope=True
    ),
    COMPONENTS: ListedStream(
        "components", label="project", label_is_identity=False, label_is_scope=True
    ),
    # Agile streams (agile.py): one skipped part makes the stream INCOMPLETE, so no deletions.
    BOARDS: ListedStream("boards", label="name", label_is_identity=False),
    SPRINTS: ListedStream("sprints", label="name", label_is_identity=False),
    EPICS: ListedStream("epics", label="key", label_is_identity=False),
    # Known per (board, issue): an issue that leaves a board's backlog (moved into a sprint,
    # done) is a deletion of that pair only. A board skipped makes the stream INCOMPLETE.
    BACKLOG: ListedStream("backlog", label="key", label_is_identity=False),
}

KeyFields = tuple[str, ...]


def record_id(data: Mapping[str, Any], fields: KeyFields) -> str:
    """Return the known set's id of a record: its primary key values, joined by `:`."""
    return ":".join(str(data[field]) for field in fields)


def key_values(known_id: str, fields: KeyFields) -> dict[str, str]:
    """Return the primary key fields of a known id (`record_id` undone)."""
    return dict(zip(fields, known_id.split(":", len(fields) - 1), strict=True))


def listed_id_fields(
    manifest: Mapping[str, Any], config: Mapping[str, Any]
) -> dict[str, KeyFields]:
    """Return the primary key fields of each listed stream the config's deployment declares.

    Read from the resolved manifest's streams (Cloud users are known by `accountId`, Server
    users by `key`, backlog items by board and issue); a stream without one is left out.
    """
    fields: dict[str, KeyFields] = {}
    for stream in declared_streams(manifest, config):
        key = stream.get("primary_key")
        names = (key,) if isinstance(key, str) else tuple(key or ())
        if (
            stream.get("name") in LISTED_STREAMS
            and names
            and all(isinstance(name, str) for name in names)
        ):
            fields[stream["name"]] = names
    return fields
