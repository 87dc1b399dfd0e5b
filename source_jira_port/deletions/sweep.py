"""The deletion sweep: the id (and key) of every issue in scope, as Jira has them now.

The request, auth, paging and error handling are the manifest's `<deployment>_issue_ids_stream`
definition; this module only runs it. Cost: one search request per 5000 issues on Jira Cloud,
per `jira.search.views.default.max` (1000 by default) on Server and Data Center.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from source_jira_port.definition_reader import read_definition


def list_issue_ids(manifest: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, str | None]:
    """Return id -> key (None when Jira sent only the id) of every issue in the sync's scope.

    Raises the manifest's errors (`AirbyteTracedException`) when Jira refuses.
    """
    name = f"{config['resolved_deployment']}_issue_ids_stream"
    return {
        str(record["id"]): record.get("key") for record in read_definition(manifest, config, name)
    }
