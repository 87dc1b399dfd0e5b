"""Streams of the manifest's `definitions` that are not catalog streams, run from code.

The deletion sweep and the pending retry read Jira through such definitions, so the manifest's
requester, authenticator, rate-limit gate, error handler, paging and transformations apply.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    DeclarativeStream as DeclarativeStreamModel,
)
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream

from source_jira_port.cdk_compat import build_component


def read_definition(
    manifest: Mapping[str, Any], config: Mapping[str, Any], name: str
) -> Iterator[Mapping[str, Any]]:
    """Yield the records of the stream `definitions.<name>` of the resolved `manifest`.

    Raises the manifest's errors (`AirbyteTracedException`) when Jira refuses.
    """
    definition = manifest["definitions"][name]
    stream = build_component(DeclarativeStreamModel, definition, config)
    assert isinstance(stream, AbstractStream)
    for partition in stream.generate_partitions():
        for record in partition.read():
            yield record.data
