"""Full-refresh streams whose deletions are found by comparing a complete read with the known set.

Such a stream lists everything in scope each sync, so each remembered record its complete read
no longer lists is a deletion, found at no extra request. Its known set maps each record's id
(the stream's primary key in the manifest) to a label kept for its deletion record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from source_jira_port.cdk_compat import declared_streams
from source_jira_port.stream_names import (
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
}


def listed_id_fields(manifest: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, str]:
    """Return the primary key field of each listed stream the config's deployment declares.

    Read from the resolved manifest's streams (Cloud users are known by `accountId`, Server
    users by `key`); a stream with a composite or no primary key is left out.
    """
    fields: dict[str, str] = {}
    for stream in declared_streams(manifest, config):
        key = stream.get("primary_key")
        key = key[0] if isinstance(key, list) and len(key) == 1 else key
        if stream.get("name") in LISTED_STREAMS and isinstance(key, str):
            fields[stream["name"]] = key
    return fields
