"""Declarative components for what manifest.yaml cannot express."""

from __future__ import annotations

import time
import uuid
from collections.abc import Generator, Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import (
    DeclarativeAuthenticator,
)
from airbyte_cdk.sources.declarative.decoders.decoder import Decoder
from airbyte_cdk.sources.declarative.decoders.json_decoder import JsonDecoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import (
    BackoffStrategy,
)
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import (
    DefaultErrorHandler,
)
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (  # noqa: E501
    ConfigTransformation,
)
from airbyte_cdk.sources.declarative.transformations.transformation import RecordTransformation
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    ErrorResolution,
    ResponseAction,
)
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_jira_port.cdk_compat import (
    RETRY_EXTRA_SLEEP_SECONDS,
    parsed_once,
    serve_json,
    with_default_response_filter,
)
from source_jira_port.config_problems import ensure_valid_source_config, source_spec_defaults
from source_jira_port.issue_query import in_projects_option, issue_query_config
from source_jira_port.jira_client import resolve_deployment
from source_jira_port.jira_site import api_base, config_error
from source_jira_port.rate_limit import RUN_ID, RateLimitPause, config_failure_for, pause_for
from source_jira_port.teams import TEAMS_OFFERED, resolve_teams_offered

_RATE_LIMIT_STATUSES = (429, 503)
_MISSING = object()


@dataclass
class ResolveJiraSite(ConfigTransformation):
    """Add the spec's defaults, the site, the issue query's values and the run's id to the config.

    `deployment: auto` is decided by the site's `/rest/api/2/serverInfo`. The issue query's
    values (`scope.issue_query_config`) are read by the manifest's issue searches and the sweep.
    `_run_id` (`RUN_ID`) keys the run's `ConfigFailure`.
    """

    parameters: InitVar[Mapping[str, Any] | None] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        """Check every value, then resolve the site once per run.

        The streams are chosen by `resolved_deployment`. A bad value fails with every problem
        named (`config_problems`) before any request or any use of the value.
        """
        ensure_valid_source_config(config)
        for key, default in source_spec_defaults().items():
            config.setdefault(key, default)
        base = api_base(config)
        config["api_base"] = base
        config["resolved_deployment"] = resolve_deployment(config, base)
        config.update(issue_query_config(config))
        config[TEAMS_OFFERED] = resolve_teams_offered(config, config["resolved_deployment"])
        config[RUN_ID] = uuid.uuid4().hex


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


def response_json(response: requests.Response) -> Any:
    """Return the response body parsed as JSON, parsing it only once per response.

    A search page is ~700 KB of JSON. Without this the error handler's filters (each calling
    `response.json()`), the record extractor and the paginator each parse it again. orjson parses
    UTF-8 bytes directly; anything it rejects goes to `requests`' own `json()`, which guesses the
    encoding and raises `requests.exceptions.JSONDecodeError` as callers expect.
    """
    parsed = parsed_once(response, _parse_json)
    if isinstance(parsed, ValueError):
        raise parsed
    return parsed


def _parse_json(response: requests.Response) -> Any:
    """Return the parsed body, or the error parsing it raised."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        try:
            return requests.Response.json(response)
        except ValueError as error:  # requests' JSONDecodeError is a ValueError
            return error


def _share_parsed_body(response: requests.Response) -> None:
    """Make `response.json()` return the body `response_json` parsed, if it is JSON."""
    try:
        body = response_json(response)
    except ValueError:
        return  # callers get requests' own error from `json()`, as without this handler
    serve_json(response, body)


@dataclass
class _PausingBackoff(BackoffStrategy):
    """The handler's strategies, tried in order; a rate limit's wait also pauses every worker."""

    strategies: list[BackoffStrategy]
    pause: RateLimitPause

    def backoff_time(
        self,
        response_or_exception: requests.Response | requests.RequestException | None,
        attempt_count: int,
    ) -> float | None:
        """Return the first strategy's wait; on 429 or 503 every worker waits it too."""
        for strategy in self.strategies:
            wait = strategy.backoff_time(response_or_exception, attempt_count)
            if wait:
                if (
                    isinstance(response_or_exception, requests.Response)
                    and response_or_exception.status_code in _RATE_LIMIT_STATUSES
                ):
                    self.pause.extend(wait + RETRY_EXTRA_SLEEP_SECONDS)
                return wait
        return None


@dataclass
class JiraErrorHandler(DefaultErrorHandler):
    """The manifest's `DefaultErrorHandler`, with one JSON parse per response and global backoff.

    Every filter with a `predicate` or `error_message_contains` parses the body again, even for a
    200 answer that no filter matches; this handler lets them share `response_json`'s parse, which
    the decoder reuses for the records. Like the factory's `DefaultErrorHandler`, it ends its
    filters with the CDK's default one (`cdk_compat.with_default_response_filter`).

    A 429 or 503 backoff pauses every request to the site (`rate_limit.pause_for`), which
    `RateLimitGate` holds until the pause ends. A response that fails the run as a config error
    (the manifest's FAIL filters with `config_error`) is recorded in the run's `ConfigFailure`,
    after which `RateLimitGate` sends no other request of the run.
    """

    # False where a 400 is an expected answer and not a config error: the pending retry asks for
    # ids by `id = N`, which Jira refuses for an issue deleted since (pending_retry.py).
    stops_run_on_config_error: bool = True

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._config_failure = config_failure_for(self.config.get(RUN_ID))
        self.response_filters = with_default_response_filter(
            self.response_filters, self.config, parameters
        )
        if self.backoff_strategies:
            pause = pause_for(self.config.get("api_base", ""))
            self.backoff_strategies = [_PausingBackoff(self.backoff_strategies, pause)]

    def interpret_response(
        self, response_or_exception: requests.Response | Exception | None
    ) -> ErrorResolution:
        """Decide as `DefaultErrorHandler` does, sharing the body's parse with the filters."""
        if isinstance(response_or_exception, requests.Response):
            _share_parsed_body(response_or_exception)
        resolution = super().interpret_response(response_or_exception)
        if (
            self.stops_run_on_config_error
            and resolution.response_action == ResponseAction.FAIL
            and resolution.failure_type == FailureType.config_error
        ):
            self._config_failure.set(resolution.error_message or "Jira rejected the config.")
        return resolution


@dataclass
class RateLimitGate(DeclarativeAuthenticator):
    """The manifest's authenticator, holding each request while the site's rate limit lasts.

    The CDK passes every request through the authenticator just before it is sent, so this is
    where every worker of every stream waits out a 429 another one got: no request to a
    rate-limited site leaves before the wait Jira asked for has passed. After a config error
    (`JiraErrorHandler`), it raises that error instead of letting a request of the run leave.
    """

    authenticator: DeclarativeAuthenticator
    config: Config
    parameters: InitVar[Mapping[str, Any] | None] = None

    def __post_init__(self, parameters: Mapping[str, Any] | None) -> None:
        self._pause = pause_for(self.config.get("api_base", ""))
        self._config_failure = config_failure_for(self.config.get(RUN_ID))

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Wait for the site's rate-limit pause to end, then authenticate `request`.

        Raise the run's config error instead, if one was met before or during the wait.
        """
        self._config_failure.raise_if_set()
        self._pause.wait()
        self._config_failure.raise_if_set()
        return self.authenticator(request)  # type: ignore[no-any-return]

    @property
    def auth_header(self) -> str:
        """The wrapped authenticator's header name."""
        return self.authenticator.auth_header

    @property
    def token(self) -> str:
        """The wrapped authenticator's header value."""
        return self.authenticator.token


class SharedJsonDecoder(JsonDecoder):
    """`JsonDecoder` that reuses `response_json`'s parse, so a page is parsed once in all.

    The record extractor and the paginator's conditions both decode each page. Like
    `JsonDecoder`, a top-level list yields its items, and a body that is not JSON, or is empty,
    yields one empty mapping.
    """

    def __init__(self, parameters: Mapping[str, Any] | None = None) -> None:
        super().__init__(parameters or {})

    def is_stream_response(self) -> bool:
        """Say no: the whole body is read before it is decoded."""
        return False

    def decode(
        self, response: requests.Response
    ) -> Generator[MutableMapping[str, Any], None, None]:
        """Yield the body (or each item of a top-level list); `{}` when there is none."""
        try:
            body = response_json(response) if response.content else None
        except ValueError:
            body = None
        items = body if isinstance(body, list) else [body] if body is not None else []
        if not items:
            yield {}
        yield from items


@dataclass
class FieldPathExtractor(RecordExtractor):
    """`DpathExtractor` for a fixed path of keys, without dpath's walk over the whole page.

    `dpath.get` visits every node of the decoded body to find one key, which cost more CPU than
    everything else done per issue. Same results: a list at the path yields its items, a
    non-empty mapping yields itself, anything else (or a missing key) yields nothing.

    `page_keys`: keys of the page copied onto each record of a list when the page has them
    (Jira's search answers `expand=names,schema` once per page, not per issue).
    """

    field_path: list[str]
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    decoder: Decoder = field(default_factory=SharedJsonDecoder)
    page_keys: list[str] = field(default_factory=list)

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        """Yield the records found at `field_path` in each decoded body."""
        for body in self.decoder.decode(response):
            extracted: Any = body
            for key in self.field_path:
                extracted = extracted.get(key) if isinstance(extracted, Mapping) else None
            if isinstance(extracted, list):
                shared = {key: body[key] for key in self.page_keys if key in body}
                if shared:
                    for record in extracted:
                        record.update(shared)
                yield from extracted
            elif isinstance(extracted, MutableMapping) and extracted:
                yield extracted


_NO_USERS = (
    "Jira listed no users at {url}: the Jira account needs the 'Browse users and groups' global "
    "permission to read the users stream (Jira answers a caller without it with an empty list). "
    "Grant it to the account (in an Airbyte connection, deselecting the users stream also works)."
)


@dataclass
class UserListExtractor(RecordExtractor):
    """The users of a page of Jira's user list (a bare JSON array), refusing an empty first page.

    Jira answers a caller without the 'Browse users and groups' global permission with an empty
    list (Cloud REST v3 "Find users": "calls by users without the required permission return
    empty search results"), where a permitted caller always finds at least itself. Taking that
    silence as "no users" would delete every user from Port, so a first page (no `startAt`)
    without users fails the run as a config error, like the manifest's FAIL filters do.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    decoder: Decoder = field(default_factory=SharedJsonDecoder)

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        """Yield each user of the page; raise a config error for an empty first page."""
        users = [body for body in self.decoder.decode(response) if body]
        if not users and "startAt=" not in (response.request.url or ""):
            url = (response.request.url or "").split("?", 1)[0]
            message = _NO_USERS.format(url=url)
            config_failure_for(self.config.get(RUN_ID)).set(message)
            raise config_error(message)
        yield from users


# Issue fields copied to the top level of each issue record: (record key, path under `fields`).
_ISSUE_TOP_LEVEL = (
    ("updated", ("updated",)),
    ("created", ("created",)),
    ("projectKey", ("project", "key")),
    ("projectId", ("project", "id")),
)


@dataclass
class IssueTopLevelFields(RecordTransformation):
    """Copy `updated`, `created` and the project's key and id out of an issue's `fields`.

    What four `AddFields` with `value_type: string` did with one Jinja template per field and
    record, with the same results: each value as Jinja renders it (`str()`, so null is `"None"`),
    and `""` where the key is missing.
    """

    parameters: InitVar[Mapping[str, Any]]

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        """Add the four top-level fields to `record` in place."""
        fields = record.get("fields", _MISSING)
        for name, path in _ISSUE_TOP_LEVEL:
            value: Any = fields
            for key in path:
                value = value.get(key, _MISSING) if isinstance(value, Mapping) else _MISSING
            record[name] = "" if value is _MISSING else str(value)


@dataclass
class ProjectsOptionFilter(RecordFilter):
    """A record filter: only the records of the projects the `projects` option lets in.

    `project_key_path` is where a record holds its project's key: `[key]` for a project,
    `[location, projectKey]` for a board (a board located on a user has none, and is left out
    when the option is set). A `condition`, when given, must hold too. A component rather than
    a condition so that the rule has one home (`in_projects_option`), which the webhook
    receiver's project events share.
    """

    project_key_path: list[str] = field(default_factory=lambda: ["key"])

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        """Yield the records that meet the condition, of the projects the option lets in."""
        if self.condition:
            records = super().filter_records(records, stream_state, stream_slice, next_page_token)
        return (r for r in records if in_projects_option(self._project_key(r), self.config))

    def _project_key(self, record: Mapping[str, Any]) -> str | None:
        value: Any = record
        for key in self.project_key_path:
            value = value.get(key) if isinstance(value, Mapping) else None
        return value if isinstance(value, str) else None
