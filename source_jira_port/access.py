"""Checks that the configured Jira user exists and sees every configured project."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    HttpRequester as HttpRequesterModel,
)
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import (
    ModelToComponentFactory,
)
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester

from source_jira_port.site import probe_server_info

_API_VERSIONS = {"cloud": "3", "server": "2"}


def verify_access(
    manifest: Mapping[str, Any], config: Mapping[str, Any], factory: ModelToComponentFactory
) -> None:
    """Raise the manifest's error for `/myself` or for the first project Jira does not show.

    First the site must answer as Jira at all, so an unreachable host fails at once instead of
    in the requester's retries. Then requests go through the manifest's own requester, so auth
    and error messages are the ones a sync would use.
    """
    # `deployment: auto` has probed already, while the source was built (ResolveJiraSite).
    already_probed = (config.get("deployment") or "auto") == "auto"
    if config["credentials"]["auth_type"] != "oauth2" and not already_probed:
        probe_server_info(config["api_base"])
    _request(manifest, config, factory, "myself")
    for key in config.get("projects") or ():
        _request(manifest, config, factory, f"project/{quote(key, safe='')}")


def _request(
    manifest: Mapping[str, Any],
    config: Mapping[str, Any],
    factory: ModelToComponentFactory,
    endpoint: str,
) -> None:
    definition = dict(manifest["definitions"]["requester"])
    definition["$parameters"] = {
        "api_version": _API_VERSIONS[config["resolved_deployment"]],
        "endpoint": endpoint,
    }
    requester = factory.create_component(
        HttpRequesterModel, definition, config, name="check", decoder=None
    )
    assert isinstance(requester, HttpRequester)
    requester.send_request()
