"""What the source has emitted so far, kept in the state: ids with their keys or labels.

Each listed stream (projects, users: `listed.py`) keeps a plain map of id to label.

A deleted issue's key cannot be asked from Jira any more, and Port knows issues by key, so the
state remembers the key of every id emitted. It is stored compactly: ids sorted and
delta-encoded, keys split into project key and number, the whole zlib-compressed and base64'd
(about 2-3 bytes per issue; `integration_tests/benchmarks/deletion_sweep.py` prints the size).
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from source_jira_port.deletions.listed import LISTED_STREAMS

_ISSUE_KEY = re.compile(r"^(?P<project>.+)-(?P<number>[0-9]+)$")
FORMAT_VERSION = 1


@dataclass
class KnownSet:
    """Ids (as Jira's strings) mapped to keys for issues, and to labels for each listed stream.

    `syncs_since_sweep` counts syncs since the last issue sweep. A listed stream is absent from
    `listed` until a complete read of it has been seen, so none of its records can be called
    deleted before.
    """

    issues: dict[str, str] = field(default_factory=dict)
    listed: dict[str, dict[str, str]] = field(default_factory=dict)
    syncs_since_sweep: int = 0

    def to_state(self) -> dict[str, Any]:
        """Return the JSON-able form kept in the issues stream's state."""
        listed = {entry.state_key: self.listed.get(s) for s, entry in LISTED_STREAMS.items()}
        return {
            "version": FORMAT_VERSION,
            "issues": _encode_issues(self.issues),
            **listed,
            "syncs_since_sweep": self.syncs_since_sweep,
        }

    @classmethod
    def from_state(cls, value: Mapping[str, Any]) -> KnownSet:
        """Read `to_state()` output back; raise ValueError when it is not that.

        A state saved before a listed stream existed lacks its key: that stream starts unknown.
        """
        if value.get("version") != FORMAT_VERSION:
            raise ValueError(f"unknown deletion detection state version {value.get('version')}")
        listed = {
            stream: dict(value[entry.state_key])
            for stream, entry in LISTED_STREAMS.items()
            if value.get(entry.state_key) is not None
        }
        try:
            issues = _decode_issues(value["issues"])
        except zlib.error as error:
            raise ValueError(f"the known issue ids are not readable: {error}") from error
        return cls(
            issues=issues,
            listed=listed,
            syncs_since_sweep=int(value.get("syncs_since_sweep", 0)),
        )


def _encode_issues(issues: Mapping[str, str]) -> str:
    # Columns: id deltas, project index, issue number minus the project's previous number.
    # In id order both deltas are mostly 1, which zlib squeezes to about a byte per issue.
    projects: dict[str, int] = {}
    last_number: dict[int, int] = {}
    id_deltas: list[int] = []
    columns: list[int] = []
    number_deltas: list[int] = []
    odd: dict[str, str] = {}
    previous_id = 0
    for issue_id in sorted(issues, key=int):
        key = issues[issue_id]
        match = _ISSUE_KEY.match(key)
        if match is None or str(int(match["number"])) != match["number"]:
            odd[issue_id] = key  # not PROJECT-123: kept as it is
            continue
        column = projects.setdefault(match["project"], len(projects))
        number = int(match["number"])
        id_deltas.append(int(issue_id) - previous_id)
        columns.append(column)
        number_deltas.append(number - last_number.get(column, 0))
        previous_id, last_number[column] = int(issue_id), number
    payload = [list(projects), id_deltas, columns, number_deltas, odd]
    text = json.dumps(payload, separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(text)).decode("ascii")


def _decode_issues(blob: str) -> dict[str, str]:
    payload = json.loads(zlib.decompress(base64.b64decode(blob)))
    projects, id_deltas, columns, number_deltas, odd = payload
    issues: dict[str, str] = {}
    issue_id = 0
    last_number = [0] * len(projects)
    for id_delta, column, number_delta in zip(id_deltas, columns, number_deltas, strict=True):
        issue_id += id_delta
        last_number[column] += number_delta
        issues[str(issue_id)] = f"{projects[column]}-{last_number[column]}"
    issues.update(odd)
    return issues
