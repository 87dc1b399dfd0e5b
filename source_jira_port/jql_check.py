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

import requests
from airbyte_cdk.models import ConfiguredAirbyteCatalog, FailureType
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.access import Screen
from source_jira_port.rate_limit import RUN_ID, config_failure_for
from source_jira_port.site import config_error, json_headers

_LOGGER = logging.getLogger("airbyte")
_TIMEOUT_SECONDS = 30


def ensure_valid_jql(config: Mapping[str, Any], screen: Screen) -> None:
    """Raise a `config_error` when Jira rejects the `jql` option on its own.

    `config` is the resolved config; `screen` judges Jira's answer as the manifest does (a
    rejected password fails as it would in a read). Does nothing without a `jql`.
    """
    jql = config.get("jql")
    if not jql:
        return
    errors = _jira_errors(config, jql, screen)
    if errors:
        raise config_error(
            f"jql: Jira rejects {json.dumps(jql)}: {' '.join(errors)} Positions count the "
            "characters of the jql option alone. Fix it or leave it empty; a valid example: "
            '"status != Done".'
        )


def ensure_valid_jql_before_read(
    config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog, screen: Screen
) -> None:
    """Validate the `jql` of a read of issues; a bad one stops the run before any search.

    A config error is recorded in the run's `ConfigFailure`, which fails the read's first
    request without sending it. Any other failure is logged and left to the read.
    """
    if not any(stream.stream.name == "issues" for stream in catalog.streams):
        return
    try:
        ensure_valid_jql(config, screen)
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            _LOGGER.warning("The jql was not validated on its own: %s", error.message)
            return
        config_failure_for(config.get(RUN_ID)).set(error.message or "Jira rejects the jql.")
    except requests.RequestException as error:
        _LOGGER.warning("The jql was not validated on its own (%s)", type(error).__name__)


def _jira_errors(config: Mapping[str, Any], jql: str, screen: Screen) -> list[str]:
    base, headers = config["api_base"], json_headers(config["credentials"])
    if config["resolved_deployment"] == "cloud":
        response = requests.post(
            f"{base}/rest/api/3/jql/parse",
            params={"validation": "strict"},
            json={"queries": [jql]},
            headers=headers,
            timeout=_TIMEOUT_SECONDS,
        )
        screen(response)
        return [str(e) for query in response.json()["queries"] for e in query.get("errors", [])]
    response = requests.get(
        f"{base}/rest/api/2/search",
        params={"jql": jql, "maxResults": "0", "validateQuery": "strict", "fields": "id"},
        headers=headers,
        timeout=_TIMEOUT_SECONDS,
    )
    if response.status_code == requests.codes.bad_request:
        body = response.json()
        return [*body.get("errorMessages", []), *(body.get("errors") or {}).values()]
    screen(response)
    return []
