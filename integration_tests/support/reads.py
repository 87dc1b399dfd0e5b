"""In-process reads of the source, for unit tests against a mocked Jira (requests-mock)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder

from source_jira_port.source import SourceJiraPort


def read_stream(
    config: dict[str, Any],
    stream: str,
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: dict[str, Any] | None = None,
) -> EntrypointOutput:
    """Read one stream with `config` (and its `state`), as `source-jira-port read` would."""
    catalog = CatalogBuilder().with_stream(stream, sync_mode).build()
    state_messages = StateBuilder().with_stream_state(stream, state).build() if state else None
    source = SourceJiraPort(catalog=catalog, config=config, state=state_messages)
    return read(source, config, catalog, state_messages)


def query(request: Any) -> dict[str, list[str]]:
    """Query parameters of a requests-mock request, case preserved."""
    return parse_qs(urlsplit(request.url).query)
