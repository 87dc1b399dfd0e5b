"""The `teams` stream's Python: whether a site offers it, and its members on each team record.

Atlassian Teams live in an Atlassian organization and are read through the Teams public API
(https://developer.atlassian.com/platform/teams/rest/v1/), which exists on Jira Cloud only and
refuses OAuth 2.0 apps ("Forge and OAuth2 apps cannot access this REST resource"). The manifest
lists `teams` when `TEAMS_OFFERED` is set in the config (`components.ResolveJiraSite`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass
from typing import Any

from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import StreamSlice

from source_jira_port.stream_names import TEAMS

# Hidden config key the manifest's `teams` condition reads: True when the site offers teams.
TEAMS_OFFERED = "_teams_offered"
ORGANIZATION_OPTION = "atlassian_organization_id"


def teams_unavailable_reason(config: Mapping[str, Any], deployment: str) -> str | None:
    """Return why the `teams` stream is not offered and how to enable it, or None if it is."""
    if deployment != "cloud":
        return (
            f"Stream {TEAMS} is not offered: Atlassian Teams exist on Jira Cloud only, and this "
            "is Jira Server / Data Center."
        )
    if not config.get(ORGANIZATION_OPTION):
        return (
            f"Stream {TEAMS} is not offered: set '{ORGANIZATION_OPTION}' to your Atlassian "
            "organization's id (the id in https://admin.atlassian.com/o/<id>/overview) to sync "
            "Atlassian Teams."
        )
    if config["credentials"]["auth_type"] != "api_token":
        return (
            f"Stream {TEAMS} is not offered: the Atlassian Teams API refuses OAuth 2.0 apps. Use "
            "the 'Jira Cloud: email and API token' credentials to sync Atlassian Teams."
        )
    return None


def resolve_teams_offered(config: Mapping[str, Any], deployment: str) -> bool:
    """Return whether the site offers `teams`; when it does not, log why, once, at INFO."""
    reason = teams_unavailable_reason(config, deployment)
    if reason is not None:
        logging.getLogger("airbyte").info(reason)
    return reason is None


@dataclass
class TeamMembersRetriever(Retriever):
    """One record per partition: its parent's fields and the list of its children's records.

    For `teams`: `retriever` reads every page of one team's members, and the team record gets
    them (`{"accountId": ...}` objects) under `list_field`, `__members`, where Port's Jira
    integration puts them (port-labs/ocean integrations/jira `enrich_teams_with_members`), so
    Port's own team mapping reads them as written. The partition router's `extra_fields` are
    the team's fields. Partitions are read concurrently, so nothing of a read is kept on the
    instance.
    """

    retriever: Retriever
    list_field: str
    parameters: InitVar[Mapping[str, Any] | None] = None

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        """Yield the wrapped retriever's messages, then the partition's one record."""
        items = []
        for data in self.retriever.read_records(records_schema, stream_slice):
            if isinstance(data, Mapping):
                items.append(dict(data))
            else:
                yield data
        fields = stream_slice.extra_fields if stream_slice is not None else {}
        yield {**fields, self.list_field: items}
