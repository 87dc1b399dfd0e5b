"""Jira's answers judged by the manifest: the check's proofs of access, and a screen.

The screen judges answers to requests sent outside the manifest's streams.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    CustomErrorHandler as CustomErrorHandlerModel,
)
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    HttpRequester as HttpRequesterModel,
)
from airbyte_cdk.sources.declarative.requesters.error_handlers.error_handler import ErrorHandler
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.cdk_compat import build_component
from source_jira_port.site import probe_server_info

_API_VERSIONS = {"cloud": "3", "server": "2"}

Screen = Callable[[requests.Response], None]


def manifest_screen(manifest: Mapping[str, Any], config: Mapping[str, Any]) -> Screen:
    """Return a check of a response by the manifest's error handler.

    It is for requests sent with plain `requests` (the first sync's planning probes). It raises
    the manifest's own error for an answer the manifest fails (a config error also stops the
    run's other requests, `components.JiraErrorHandler`), and `requests`' HTTPError for any
    other error status.
    """
    handler = build_component(
        CustomErrorHandlerModel, manifest["definitions"]["error_handler"], config
    )
    assert isinstance(handler, ErrorHandler)

    def screen(response: requests.Response) -> None:
        resolution = handler.interpret_response(response)
        if resolution.response_action == ResponseAction.FAIL:
            message = resolution.error_message or f"Jira answered HTTP {response.status_code}."
            raise AirbyteTracedException(
                message=message,
                internal_message=message,
                failure_type=resolution.failure_type or FailureType.system_error,
            )
        response.raise_for_status()

    return screen


def verify_access(manifest: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Raise the manifest's error for `/myself` or for the first project Jira does not show.

    First the site must answer as Jira at all, so an unreachable host fails at once instead of
    in the requester's retries. Then requests go through the manifest's own requester, so auth
    and error messages are the ones a sync would use.
    """
    # `deployment: auto` has probed already, while the source was built (ResolveJiraSite).
    already_probed = (config.get("deployment") or "auto") == "auto"
    if config["credentials"]["auth_type"] != "oauth2" and not already_probed:
        probe_server_info(config["api_base"])
    _request(manifest, config, "myself")
    for key in config.get("projects") or ():
        _request(manifest, config, f"project/{quote(key, safe='')}")


def _request(manifest: Mapping[str, Any], config: Mapping[str, Any], endpoint: str) -> None:
    definition = dict(manifest["definitions"]["requester"])
    definition["$parameters"] = {
        "api_version": _API_VERSIONS[config["resolved_deployment"]],
        "endpoint": endpoint,
    }
    requester = build_component(HttpRequesterModel, definition, config, name="check", decoder=None)
    assert isinstance(requester, HttpRequester)
    requester.send_request()
