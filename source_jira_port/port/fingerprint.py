"""Mapping fingerprints: which mapping and blueprints wrote the records a stream's state covers.

A stream's fingerprint hashes what decides the entities its records become: the mapping's
resources of that kind as parsed (so whitespace, comments and key order in the YAML do not
count), and the `schema` and `relations` of the blueprints they write, as Port has them.

The writer stamps the fingerprint on each STATE it echoes that has none (a first sync, or a
state reset): every record before it was written with this mapping. A STATE that has one keeps
it, since the records before its cursor were written with that one; the source carries it on
to the next sync (`state_keys.MAPPING_FINGERPRINT`). When it differs from the writer's, the
Airbyte destination, which cannot re-read, warns once per stream and names the refresh to run;
`jira-port sync` re-reads the stream instead (`app/remap.py`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from airbyte_cdk.models import AirbyteStateBlob, AirbyteStateMessage, AirbyteStateType

from source_jira_port.cdk_compat import state_values
from source_jira_port.port.mapping import PortAppConfig
from source_jira_port.state_keys import MAPPING_FINGERPRINT

# 64 bits of SHA-256: enough to tell mappings apart, short enough to read in a state file.
_HEX_DIGITS = 16
# The parts of a blueprint that decide what Port keeps of an entity (not its title or icon).
_BLUEPRINT_PARTS = ("schema", "relations")


def stream_fingerprints(
    app_config: PortAppConfig,
    blueprints: Mapping[str, Mapping[str, Any]],
    streams: Iterable[str],
) -> dict[str, str]:
    """Return the fingerprint of each of `streams` the mapping has resources for.

    `blueprints` are Port's definitions of (at least) the blueprints those resources write.
    """
    fingerprints = {}
    for stream in streams:
        resources = [r for r in app_config.resources if r.kind == stream]
        if not resources:
            continue
        written = sorted({r.blueprint for r in resources})
        content = {
            "resources": [dataclasses.asdict(r) for r in resources],
            "blueprints": {
                name: {part: blueprints.get(name, {}).get(part) for part in _BLUEPRINT_PARTS}
                for name in written
            },
        }
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        fingerprints[stream] = hashlib.sha256(text.encode()).hexdigest()[:_HEX_DIGITS]
    return fingerprints


def saved_fingerprint(state: AirbyteStateMessage) -> str | None:
    """Return the fingerprint a per-stream STATE carries, or None."""
    if state.type != AirbyteStateType.STREAM or state.stream is None:
        return None
    value = state_values(state.stream.stream_state).get(MAPPING_FINGERPRINT)
    return value if isinstance(value, str) else None


def with_fingerprint(state: AirbyteStateMessage, fingerprint: str | None) -> AirbyteStateMessage:
    """Return the per-stream STATE with `fingerprint` (None: without one)."""
    assert state.stream is not None
    values = state_values(state.stream.stream_state)
    values.pop(MAPPING_FINGERPRINT, None)
    if fingerprint is not None:
        values[MAPPING_FINGERPRINT] = fingerprint
    stream = dataclasses.replace(state.stream, stream_state=AirbyteStateBlob(values))
    return dataclasses.replace(state, stream=stream)


class FingerprintStamp:
    """Stamps echoed STATEs with the writer's fingerprints; warns when a saved one differs.

    `warn` is for the Airbyte destination; `jira-port sync` re-reads such streams and says so
    itself.
    """

    def __init__(
        self, fingerprints: Mapping[str, str], logger: logging.Logger, *, warn: bool
    ) -> None:
        self.fingerprints = dict(fingerprints)
        self._logger = logger
        self._warn = warn
        self._warned: set[str] = set()

    def stamp(self, state: AirbyteStateMessage) -> AirbyteStateMessage:
        """Return `state` with a fingerprint: its own if it has one, else the writer's."""
        if state.type != AirbyteStateType.STREAM or state.stream is None:
            return state
        stream = str(state.stream.stream_descriptor.name)
        current = self.fingerprints.get(stream)
        if current is None:
            return state
        saved = saved_fingerprint(state)
        if saved is None:
            return with_fingerprint(state, current)
        if saved != current and self._warn and stream not in self._warned:
            self._warned.add(stream)
            self._logger.warning(
                "The mapping or the blueprints of stream %s changed since its saved state was "
                "written: the records synced before keep the old mapping until they change in "
                'Jira. In Airbyte, run "Refresh your data" for stream %s of this connection to '
                "re-map them all.",
                stream,
                stream,
            )
        return state
