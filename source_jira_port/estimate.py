"""How many issues a sync will read, for the ETA: Jira's count for the sync's own JQL bound.

Cloud: `POST /rest/api/3/search/approximate-count` `{"jql"}` -> `{"count"}`. Server and Data
Center: `GET /rest/api/2/search?jql=...&maxResults=0` -> `total`. A failed count only costs the
ETA, never the sync.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.issue_query import issues_jql
from source_jira_port.jira_client import JiraClient, api_path, search_path


def estimate_issues(
    client: JiraClient, config: Mapping[str, Any], cursor: str | None, logger: logging.Logger
) -> int | None:
    """Return Jira's count of the issues the sync will read, or None (logged) when unavailable.

    `config` is the resolved source config; `cursor` is the saved `updated` state of the issues
    stream.
    """
    try:
        return count_issues(client, config, issues_jql(config, cursor))
    except AirbyteTracedException as error:
        logger.warning("No ETA: %s", error.message)
        return None
    except (ValueError, KeyError, TypeError) as error:
        logger.warning("No ETA: Jira did not count the issues to sync (%s)", error)
        return None


def count_issues(client: JiraClient, config: Mapping[str, Any], jql: str) -> int:
    """Ask Jira, through `client`, how many issues match `jql`."""
    if config["resolved_deployment"] == "cloud":
        answer = client.post(api_path(config, "search/approximate-count"), {"jql": jql})
        return int(answer["count"])
    answer = client.get(search_path(config), {"jql": jql, "maxResults": "0", "fields": "id"})
    return int(answer["total"])
