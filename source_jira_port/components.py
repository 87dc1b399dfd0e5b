"""Declarative components for what manifest.yaml cannot express."""

from __future__ import annotations

import time
from collections.abc import Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from datetime import datetime
from typing import Any

import requests
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import (
    BackoffStrategy,
)
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (  # noqa: E501
    ConfigTransformation,
)

from source_jira_port.scope import issue_scope_jql
from source_jira_port.site import api_base, resolve_deployment

_RATE_LIMIT_STATUSES = (429, 503)


@dataclass
class ResolveJiraSite(ConfigTransformation):
    """Add `api_base`, `resolved_deployment` (`cloud` or `server`) and `issue_scope` to the config.

    `deployment: auto` is decided by the site's `/rest/api/2/serverInfo`. `issue_scope` is the
    JQL condition of the `projects` and `jql` options, shared by the issue read and the sweep.
    """

    parameters: InitVar[Mapping[str, Any] | None] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        """Resolve the site once per run; the streams are chosen by `resolved_deployment`."""
        base = api_base(config)
        config["api_base"] = base
        config["resolved_deployment"] = resolve_deployment(config, base)
        config["issue_scope"] = issue_scope_jql(config)


@dataclass
class RateLimitResetBackoff(BackoffStrategy):
    """Wait until Jira Cloud's `X-RateLimit-Reset` time (`yyyy-MM-ddTHH:mmZ`) on 429 and 503.

    The CDK's `WaitUntilTimeFromHeader` reads epoch numbers only.
    """

    parameters: InitVar[Mapping[str, Any]]
    config: Mapping[str, Any]

    def backoff_time(
        self,
        response_or_exception: requests.Response | requests.RequestException | None,
        attempt_count: int,
    ) -> float | None:
        """Return the seconds until the reset, or None when the header is absent or past."""
        if not isinstance(response_or_exception, requests.Response):
            return None
        if response_or_exception.status_code not in _RATE_LIMIT_STATUSES:
            return None
        header = response_or_exception.headers.get("X-RateLimit-Reset", "")
        try:
            reset = datetime.strptime(header.strip(), "%Y-%m-%dT%H:%M%z")
        except ValueError:
            return None
        wait = reset.timestamp() - time.time()
        return wait if wait > 0 else None
