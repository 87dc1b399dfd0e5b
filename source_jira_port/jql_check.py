"""The user's own JQL, validated by Jira on its own, so an error's position points into it.

The same goes for the `selector.jql` of the Port mapping's issue resources that `jira-port sync`
reads (`issue_query.RESOURCE_JQL`); their errors name the resource index.

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

from source_jira_port.issue_query import RESOURCE_JQL
from source_jira_port.jira_client import JiraClient, JiraError, api_path, search_path
from source_jira_port.jira_site import config_error
from source_jira_port.rate_limit import RUN_ID, config_failure_for
from source_jira_port.stream_names import ISSUES

_LOGGER = logging.getLogger("airbyte")
_BAD_REQUEST = 400


def ensure_valid_jql(manifest: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Raise a `config_error` when Jira rejects the `jql` option, or a mapping resource's JQL.

    Each is validated on its own (`issue_query.RESOURCE_JQL` holds the resources' JQL, by
    resource index; Cloud validates them all in one request). `manifest` and `config` are the
    source's resolved ones; Jira's other answers fail with the manifest's errors, as they would
    in a read (a rejected password, say). Does nothing without a JQL.
    """
    queries = []
    if config.get("jql"):
        queries.append((None, str(config["jql"])))
    resource_jql = (config.get(RESOURCE_JQL) or {}).items()
    queries += [(index, str(jql)) for index, jql in resource_jql if jql is not None]
    if not queries:
        return
    # Jira's verdict on the jql is judged here, with the jql's own positions; the caller
    # decides whether it stops the run.
    client = JiraClient(config, manifest, name=ISSUES, stops_run=False)
    verdicts = _jira_errors(client, config, [jql for _, jql in queries])
    problems = [
        _problem(index, jql, errors)
        for (index, jql), errors in zip(queries, verdicts, strict=True)
        if errors
    ]
    if problems:
        raise config_error(" ".join(problems))


def _problem(index: str | None, jql: str, errors: list[str]) -> str:
    if index is None:
        return (
            f"jql: Jira rejects {json.dumps(jql)}: {' '.join(errors)} Positions count the "
            "characters of the jql option alone. Fix it or leave it empty; a valid example: "
            '"status != Done".'
        )
    return (
        f"mapping resources[{index}].selector.jql: Jira rejects {json.dumps(jql)}: "
        f"{' '.join(errors)} Positions count the characters of that jql alone. Fix it or remove "
        'it; a valid example: "status != Done".'
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


def _jira_errors(
    client: JiraClient, config: Mapping[str, Any], queries: list[str]
) -> list[list[str]]:
    """Return Jira's errors for each query (none for a valid one)."""
    if config["resolved_deployment"] == "cloud":
        answer = client.post(
            api_path(config, "jql/parse"), {"queries": queries}, {"validation": "strict"}
        )
        return [[str(e) for e in query.get("errors", [])] for query in answer["queries"]]
    return [_server_errors(client, config, jql) for jql in queries]


def _server_errors(client: JiraClient, config: Mapping[str, Any], jql: str) -> list[str]:
    params = {"jql": jql, "maxResults": "0", "validateQuery": "strict", "fields": "id"}
    try:
        client.get(search_path(config), params)
    except JiraError as error:
        if error.status != _BAD_REQUEST:
            raise
        return error.jira_messages or [error.message or "Jira rejects it."]
    return []
