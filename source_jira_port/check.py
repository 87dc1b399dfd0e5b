"""The check's proofs of access: the credentials and each configured project."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from source_jira_port.jira_client import JiraClient, api_path, probe_server_info


def verify_access(manifest: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Raise the manifest's error for `/myself` or for the first project Jira does not show.

    First the site must answer as Jira at all, so an unreachable host fails at once instead of
    in the requester's retries. Then requests go through the Jira client, so auth and error
    messages are the ones a sync would use.
    """
    # `deployment: auto` has probed already, while the source was built (ResolveJiraSite).
    already_probed = (config.get("deployment") or "auto") == "auto"
    if config["credentials"]["auth_type"] != "oauth2" and not already_probed:
        probe_server_info(config["api_base"])
    client = JiraClient(config, manifest, name="check")
    client.get(api_path(config, "myself"))
    for key in config.get("projects") or ():
        client.get(api_path(config, f"project/{quote(key, safe='')}"))
