"""The one HTTP client for Jira outside the manifest's streams: probes, counts, checks, webhooks.

Each request goes through the manifest's own `definitions.requester` with another method and
path (any path on the site), built once per client and method, so it passes the same components
as a stream's request:

- the authenticator, `RateLimitGate` around the credentials: a request waits out a rate-limit
  pause that any worker met, a 429 it meets pauses the others, and after a config error of the
  run it is not sent at all;
- the error handler, `JiraErrorHandler`: 429 and 503 wait for `Retry-After` or
  `X-RateLimit-Reset`, other 5xx back off, up to the manifest's retries; an answer that proves
  the config wrong fails at once with the manifest's message and stops the run.

One difference: a network error (refused, unresolvable, timed out) fails at once, where the
manifest retries it for minutes. What is asked here is either optional (a plan, a count) or the
first contact with the site, where an unreachable address must be said at once.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    HttpRequester as HttpRequesterModel,
)
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    ErrorResolution,
    ResponseAction,
)
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.cdk_compat import build_component, resolve_manifest
from source_jira_port.config_problems import shipped_manifest_document
from source_jira_port.jira_site import DEPLOYMENTS, config_error

_TIMEOUT_SECONDS = 30
_API_VERSIONS = {"cloud": "3", "server": "2"}
_SEARCH_ENDPOINTS = {"cloud": "search/jql", "server": "search"}


@functools.cache
def shipped_manifest() -> Mapping[str, Any]:
    """Return the shipped manifest with references and types resolved, as a source runs it.

    For a client made before any source exists (the site's `/serverInfo`, webhook registration).
    """
    return resolve_manifest(shipped_manifest_document())


def api_path(config: Mapping[str, Any], endpoint: str) -> str:
    """Return the REST path of `endpoint` for the config's `resolved_deployment` (v3 or v2)."""
    return f"/rest/api/{_API_VERSIONS[config['resolved_deployment']]}/{endpoint}"


def search_path(config: Mapping[str, Any]) -> str:
    """Return the issue search's path: Cloud's `search/jql`, Server's `search`."""
    return api_path(config, _SEARCH_ENDPOINTS[config["resolved_deployment"]])


class JiraError(AirbyteTracedException):
    """Jira failed a request: the manifest's message, and Jira's answer when there was one.

    `status` is the answer's HTTP status (None without an answer, as for a network error);
    `jira_messages` are Jira's own `errorMessages` and `errors` in it.
    """

    def __init__(self, cause: AirbyteTracedException, answer: requests.Response | None) -> None:
        super().__init__(
            internal_message=cause.internal_message,
            message=cause.message,
            failure_type=cause.failure_type,
            exception=cause,
        )
        self.status = None if answer is None else answer.status_code
        self.jira_messages = [] if answer is None else _jira_messages(answer)


def _jira_messages(answer: requests.Response) -> list[str]:
    try:
        body = answer.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    errors = body.get("errors")
    return [
        str(message)
        for message in (
            *(body.get("errorMessages") or []),
            *(errors.values() if isinstance(errors, dict) else []),
        )
    ]


@dataclass
class ClientErrorHandler(ErrorHandler):
    """The manifest's error handler, except that a network error fails at once.

    It keeps the answer it failed, for `JiraError`, per thread: threads may share a client. Without
    `reports_rate_limits`, a 429 is retried the same way but the CDK prints no RATE_LIMITED
    stream status: a request made before any stream (the site's `/serverInfo`) names none.
    """

    handler: ErrorHandler
    config: Config
    parameters: InitVar[Mapping[str, Any] | None] = None
    reports_rate_limits: bool = True
    _failed: threading.local = field(default_factory=threading.local, init=False, repr=False)

    @property
    def failed_answer(self) -> requests.Response | None:
        """The answer this thread's last request failed with, if it failed on one."""
        answer: requests.Response | None = getattr(self._failed, "answer", None)
        return answer

    @failed_answer.setter
    def failed_answer(self, answer: requests.Response | None) -> None:
        self._failed.answer = answer

    @property
    def max_retries(self) -> int | None:
        """The manifest's retries."""
        return self.handler.max_retries

    @property
    def max_time(self) -> int | None:
        """The manifest's time limit for retries."""
        return self.handler.max_time

    @property
    def backoff_strategies(self) -> Any:
        """The manifest's backoff strategies, which the requester hands to its HTTP client."""
        return getattr(self.handler, "backoff_strategies", None)

    def interpret_response(
        self, response_or_exception: requests.Response | Exception | None
    ) -> ErrorResolution:
        """Fail a network error at once; leave anything else to the manifest's handler."""
        if isinstance(response_or_exception, requests.RequestException):
            return ErrorResolution(
                response_action=ResponseAction.FAIL,
                failure_type=FailureType.transient_error,
                error_message=(
                    f"Cannot reach Jira at {self.config['api_base']} "
                    f"({type(response_or_exception).__name__}). Check the Jira URL and that this "
                    "machine can connect to it."
                ),
            )
        resolution = self.handler.interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.FAIL and isinstance(
            response_or_exception, requests.Response
        ):
            self.failed_answer = response_or_exception
        if (
            resolution.response_action == ResponseAction.RATE_LIMITED
            and not self.reports_rate_limits
        ):
            return ErrorResolution(
                ResponseAction.RETRY, resolution.failure_type, resolution.error_message
            )
        return resolution


class JiraClient:
    """GET and POST of JSON on the Jira site of a source config (module docstring).

    `config` needs `api_base`, and `credentials` unless `anonymous` (then none are sent). Its
    `_run_id` ties the requests to the run's pause and stop; with `stops_run` False, an answer
    that fails as a config error is raised but does not stop the run's other requests (the
    caller judges it, like the JQL check). `manifest` is the resolved manifest the source runs
    (default: the shipped one); `name` is the stream a rate-limit status message names.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        manifest: Mapping[str, Any] | None = None,
        *,
        name: str = "jira",
        anonymous: bool = False,
        stops_run: bool = True,
    ) -> None:
        self._config = config
        self._manifest = manifest if manifest is not None else shipped_manifest()
        self._name = name
        self._anonymous = anonymous
        self._stops_run = stops_run and not anonymous
        self._requesters: dict[str, HttpRequester] = {}

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """Return the JSON answer to `GET <site><path>?<params>`.

        Raise `JiraError` when Jira (or the network) fails it, and `ValueError` when the answer
        is not JSON.
        """
        return self._send("GET", path, params, None)

    def post(
        self, path: str, body: Mapping[str, Any], params: Mapping[str, Any] | None = None
    ) -> Any:
        """Return the JSON answer to `POST <site><path>?<params>` with `body` (as `get`)."""
        return self._send("POST", path, params, body)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
    ) -> Any:
        requester = self._requester(method)
        handler = requester.error_handler
        assert isinstance(handler, ClientErrorHandler)
        handler.failed_answer = None
        try:
            response = requester.send_request(
                path=path.lstrip("/"), request_params=params, request_body_json=body
            )
        except AirbyteTracedException as error:
            raise JiraError(error, handler.failed_answer) from error
        assert response is not None  # the handler never ignores an answer
        return response.json()

    def _requester(self, method: str) -> HttpRequester:
        """Return this client's requester for `method`, built on its first request.

        A build costs more CPU than sending a request (the factory validates the definition).
        """
        requester = self._requesters.get(method)
        if requester is None:
            definition = self._definition(method)
            requester = build_component(
                HttpRequesterModel, definition, self._config, name=self._name, decoder=None
            )
            assert isinstance(requester, HttpRequester)
            self._requesters[method] = requester
        return requester

    def _definition(self, method: str) -> dict[str, Any]:
        """Return the manifest's requester for `method` on the site, with this client's handler."""
        requester = self._manifest["definitions"]["requester"]
        handler = dict(requester["error_handler"])
        if not self._stops_run:
            handler["stops_run_on_config_error"] = False
        definition = {
            **requester,
            "url": "{{ config['api_base'] }}",
            "http_method": method,
            "connect_timeout_in_seconds": _TIMEOUT_SECONDS,
            "read_timeout_in_seconds": _TIMEOUT_SECONDS,
            "error_handler": {
                "type": "CustomErrorHandler",
                "class_name": f"{__name__}.{ClientErrorHandler.__name__}",
                "handler": handler,
                "reports_rate_limits": not self._anonymous,
            },
        }
        if self._anonymous:
            del definition["authenticator"]
        return definition


def resolve_deployment(config: Mapping[str, Any], base: str) -> str:
    """Return `cloud` or `server`: as configured, or as `/serverInfo` reports it for `auto`."""
    configured = config.get("deployment") or "auto"
    if config["credentials"]["auth_type"] == "oauth2":
        if configured == "server":
            raise config_error("OAuth 2.0 access tokens work with Jira Cloud only.")
        return "cloud"
    if configured in DEPLOYMENTS:
        return str(configured)
    deployment_type = probe_server_info(base).get("deploymentType", "")
    return "cloud" if str(deployment_type).lower() == "cloud" else "server"


def probe_server_info(base: str) -> Mapping[str, Any]:
    """Fetch `/rest/api/2/serverInfo` (anonymous) and fail with an actionable message.

    Jira answers it without credentials, so it tells "wrong address" apart from "wrong password".
    A busy or rate-limited site is waited for; an unreachable one fails at once.
    """
    url = f"{base}/rest/api/2/serverInfo"
    client = JiraClient({"api_base": base}, name="server_info", anonymous=True)
    status: int | None = 200
    try:
        info = client.get("/rest/api/2/serverInfo")
    except JiraError as error:
        if error.status is None:
            raise config_error(error.message or f"Cannot reach Jira at {base}.") from error
        info, status = None, error.status
    except ValueError:
        info = None
    if not isinstance(info, dict) or "deploymentType" not in info:
        raise config_error(
            f"{base} does not look like Jira: {url} answered HTTP {status} without "
            "Jira's server info. Check the Jira URL, including any context path such as /jira, "
            "or set the deployment to cloud or server."
        )
    return info
