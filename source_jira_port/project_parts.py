"""The `releases` and `components` streams' Python: which project a skipped answer belongs to.

Both streams read one request (Server) or one paged list (Cloud) per project. Jira answers a
project whose versions or components the account may not see with 404 (or 403); the manifest's
filter ignores that answer with one log line, and this handler records the project as unread,
so the deletion tracker does not take its releases or components for deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    ErrorResolution,
    ResponseAction,
)

from source_jira_port.components import JiraErrorHandler
from source_jira_port.deletions.unread import mark_unread
from source_jira_port.rate_limit import RUN_ID

# The manifest's `project_part_requester` URL: .../project/{key}/{endpoint}.
_PROJECT_PART_PATH = re.compile(r"/project/(?P<key>[^/]+)/[a-z]+/?$")
SKIPPED_STATUSES = frozenset({403, 404})


@dataclass
class ProjectPartErrorHandler(JiraErrorHandler):
    """The manifest's error handler; a project whose part it ignores is recorded as unread."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._stream = str((parameters or {}).get("name", ""))

    def interpret_response(
        self, response_or_exception: requests.Response | Exception | None
    ) -> ErrorResolution:
        """Decide as `JiraErrorHandler`; record the project of an ignored 403 or 404."""
        resolution = super().interpret_response(response_or_exception)
        if (
            isinstance(response_or_exception, requests.Response)
            and response_or_exception.status_code in SKIPPED_STATUSES
            and resolution.response_action == ResponseAction.IGNORE
        ):
            path = urlsplit(response_or_exception.request.url or "").path
            match = _PROJECT_PART_PATH.search(path)
            if match is not None:
                mark_unread(self.config.get(RUN_ID), self._stream, unquote(match["key"]))
        return resolution
