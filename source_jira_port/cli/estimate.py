"""How many issues a sync will read, for the ETA: Jira's count for the sync's own JQL bound.

Cloud: `POST /rest/api/3/search/approximate-count` `{"jql"}` -> `{"count"}`. Server and Data
Center: `GET /rest/api/2/search?jql=...&maxResults=0` -> `total`. A failed count only costs the
ETA, never the sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import requests
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.scope import epoch_ms, issue_scope_jql, sync_start
from source_jira_port.site import api_base, json_headers

TIMEOUT_SECONDS = 15


def estimate_issues(
    config: Mapping[str, Any],
    cursor: str | None,
    logger: logging.Logger,
    screen: Callable[[requests.Response], None] | None = None,
) -> int | None:
    """Return Jira's count of the issues the sync will read, or None (logged) when unavailable.

    `config` is the source config with `deployment` resolved to `cloud` or `server`; `cursor`
    is the saved `updated` state of the issues stream; `screen` as for `count_issues`.
    """
    try:
        return count_issues(config, issues_jql(config, cursor), screen)
    except AirbyteTracedException as error:
        logger.warning("No ETA: %s", error.message)
        return None
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        logger.warning("No ETA: Jira did not count the issues to sync (%s)", error)
        return None


def issues_jql(config: Mapping[str, Any], cursor: str | None) -> str:
    """Return the sync's issue JQL up to its lower bound (manifest `issues_request_parameters`).

    The bound is the saved cursor minus the search index delay and the lookback window, but not
    before `start_date` (`scope.sync_start`). There is no upper bound: a sync reads up to its start.
    """
    scope = issue_scope_jql(config)
    clauses = [scope] if scope else []
    clauses.append(f"updated >= {epoch_ms(sync_start(config, cursor))}")
    return " AND ".join(clauses)


def count_issues(
    config: Mapping[str, Any], jql: str, screen: Callable[[requests.Response], None] | None = None
) -> int:
    """Ask Jira how many issues match `jql`, with the source's credentials.

    `screen` judges the answer first (the planning probes stop on the manifest's errors).
    """
    headers = json_headers(config["credentials"])
    base = api_base(config)
    if config["deployment"] == "cloud":
        response = requests.post(
            f"{base}/rest/api/3/search/approximate-count",
            json={"jql": jql},
            headers=headers,
            timeout=TIMEOUT_SECONDS,
        )
        field = "count"
    else:
        response = requests.get(
            f"{base}/rest/api/2/search",
            params={"jql": jql, "maxResults": "0", "fields": "id"},
            headers=headers,
            timeout=TIMEOUT_SECONDS,
        )
        field = "total"
    if screen is not None:
        screen(response)
    response.raise_for_status()
    return int(response.json()[field])
