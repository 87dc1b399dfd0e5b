"""The user's own JQL, validated by Jira on its own, so an error's position points into it.

A read puts the `jql` option inside a longer query (`project in (...) AND (<jql>) AND updated
>= ...`), so Jira's "(line 1, character N)" would count characters the user never wrote. Jira
validates the option alone first, with one request: `check` does it, and so does a read that
has a `jql` (a bad one then fails the read before any search is sent).

- Cloud: `POST /rest/api/3/jql/parse?validation=strict` with `{"queries": [jql]}` answers 200
  with `{"queries": [{"query", "errors": [...]}]}` (Atlassian REST v3, "Parse JQL query").
- Server / Data Center: `GET /rest/api/2/search?jql=...&maxResults=0&validateQuery=strict`
  answers 400 with `errorMessages` (Jira Server REST v2, "Search for issues using JQL").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from airbyte_cdk.models import ConfiguredAirbyteCatalog, FailureType
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.jira_client import JiraClient, JiraError, api_path, search_path
from source_jira_port.jira_site import config_error
from source_jira_port.rate_limit import RUN_ID, config_failure_for
from source_jira_port.stream_names import ISSUES

_LOGGER = logging.getLogger("airbyte")
_BAD_REQUEST = 400


def ensure_valid_jql(manifest: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Raise a `config_error` when Jira rejects the `jql` option on its own.

    `manifest` and `config` are the source's resolved ones; Jira's other answers fail with the
    manifest's errors, as they would in a read (a rejected password, say). Does nothing
    without a `jql`.
    """
    jql = config.get("jql")
    if not jql:
        return
    # Jira's verdict on the jql is judged here, with the jql's own positions; the caller
    # decides whether it stops the run.
    client = JiraClient(config, manifest, name=ISSUES, stops_run=False)
    errors = _jira_errors(client, config, jql)
    if errors:
        raise config_error(
            f"jql: Jira rejects {json.dumps(jql)}: {' '.join(errors)} Positions count the "
            "characters of the jql option alone. Fix it or leave it empty; a valid example: "
            '"status != Done".'
        )


def ensure_valid_jql_before_read(
    manifest: Mapping[str, Any], config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog
) -> None:
    """Validate the `jql` of a read of issues; a bad one stops the run before any search.

    A config error is recorded in the run's `ConfigFailure`, which fails the read's first
    request without sending it. Any other failure is logged and left to the read.
    """
    if not any(stream.stream.name == ISSUES for stream in catalog.streams):
        return
    try:
        ensure_valid_jql(manifest, config)
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            _LOGGER.warning("The jql was not validated on its own: %s", error.message)
            return
        config_failure_for(config.get(RUN_ID)).set(error.message or "Jira rejects the jql.")
    except (ValueError, KeyError, TypeError) as error:
        _LOGGER.warning("The jql was not validated on its own (%s)", type(error).__name__)


def _jira_errors(client: JiraClient, config: Mapping[str, Any], jql: str) -> list[str]:
    if config["resolved_deployment"] == "cloud":
        answer = client.post(
            api_path(config, "jql/parse"), {"queries": [jql]}, {"validation": "strict"}
        )
        return [str(e) for query in answer["queries"] for e in query.get("errors", [])]
    params = {"jql": jql, "maxResults": "0", "validateQuery": "strict", "fields": "id"}
    try:
        client.get(search_path(config), params)
    except JiraError as error:
        if error.status != _BAD_REQUEST:
            raise
        return error.jira_messages or [error.message or "Jira rejects it."]
    return []
