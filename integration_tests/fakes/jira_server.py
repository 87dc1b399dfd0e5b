"""A local fake Jira (Cloud or Server/Data Center) over real HTTP, for integration tests.

Run standalone with `python -m integration_tests.fakes.jira_server --deployment cloud`; it prints
one JSON line with the base URL and credentials and serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from integration_tests.fakes.jira_agile import JiraAgile
from integration_tests.fakes.jira_backlog import BacklogCall, JiraBacklog
from integration_tests.fakes.jira_data import (
    SYSTEM_FIELDS,
    Dataset,
    Deployment,
    Issue,
    Project,
    Renderer,
    User,
    format_jira_time,
    generate_dataset,
    to_epoch_ms,
)
from integration_tests.fakes.jira_permissions import my_permissions
from integration_tests.fakes.jira_project_parts import JiraProjectParts
from integration_tests.fakes.jira_teams import JiraTeams, make_teams
from integration_tests.fakes.jira_webhooks import JiraWebhooks
from integration_tests.fakes.jira_worklogs import JiraWorklogs, make_worklogs
from integration_tests.fakes.jql import IssueIndex, JqlError, Query, parse_jql
from integration_tests.fakes.local_server import LocalServer

CLOUD_EMAIL = "jira-bot@example.com"
CLOUD_API_TOKEN = "cloud-api-token"
SERVER_USERNAME = "jira-bot"
SERVER_PASSWORD = "server-password"
SERVER_PAT = "server-pat"
OAUTH_ACCESS_TOKEN = "oauth-access-token"
CLOUD_ID = "11111111-2222-3333-4444-555555555555"

__all__ = [
    "CLOUD_API_TOKEN",
    "CLOUD_EMAIL",
    "CLOUD_ID",
    "OAUTH_ACCESS_TOKEN",
    "SERVER_PASSWORD",
    "SERVER_PAT",
    "SERVER_USERNAME",
    "FakeJira",
    "RecordedRequest",
]

_JSON = "application/json;charset=UTF-8"
_TEXT = "text/plain;charset=UTF-8"
_HTML = "text/html;charset=UTF-8"
_NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
_NAVIGABLE = [f[0] for f in SYSTEM_FIELDS if f[2]]
_CACHE_SIZE = 64

Access = Literal["open", "public", "user"]  # no auth check / anonymous allowed / login required


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it; `auth` is the scheme (`basic`, `bearer`), never a secret."""

    method: str
    path: str
    query: dict[str, list[str]]
    json: Any
    auth: str | None


@dataclass
class _Reply:
    status: int
    body: Any = None  # JSON-encoded unless it is a str
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = _JSON

    def encode(self) -> bytes:
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()


class _HttpError(Exception):
    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _errors(status: int, *messages: str) -> _HttpError:
    return _HttpError(_Reply(status, {"errorMessages": list(messages), "errors": {}}))


@dataclass
class _Failure:
    status: int
    remaining: int
    path_prefix: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class _Caller:
    user: User | None  # None: anonymous
    failed: bool  # credentials were sent and rejected, Jira carried on anonymously


@dataclass
class _Call:
    """What a route handler gets."""

    method: str
    url: str  # as the client addressed it, for `self`/`nextPage`
    params: dict[str, list[str]]
    body: Any
    caller: _Caller
    renderer: Renderer
    arg: str


@dataclass(frozen=True)
class _Route:
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    cloud: tuple[str, Access] | None  # (handler method name, access)
    server: tuple[str, Access] | None


def _route(
    methods: str, pattern: str, cloud: tuple[str, Access] | None, server: tuple[str, Access] | None
) -> _Route:
    return _Route(tuple(methods.split()), re.compile(pattern), cloud, server)


_ROUTES = (
    _route("GET", r"serverInfo", ("_server_info", "public"), ("_server_info", "open")),
    _route("GET", r"myself", ("_myself", "user"), ("_myself", "user")),
    _route("GET", r"field", ("_fields", "public"), ("_fields", "public")),
    _route("GET", r"project", ("_project_list", "public"), ("_project_list", "public")),
    _route("GET", r"project/search", ("_project_search", "public"), None),
    _route("GET", r"project/(?P<arg>[^/]+)", ("_project", "user"), ("_project", "public")),
    _route("GET POST", r"search/jql", ("_search_jql", "public"), None),
    _route("POST", r"search/approximate-count", ("_approximate_count", "public"), None),
    _route("POST", r"jql/parse", ("_jql_parse", "public"), None),
    _route("GET POST", r"search", ("_search_removed", "open"), ("_search", "public")),
    _route("GET", r"issue/(?P<arg>[^/]+)", ("_issue", "public"), ("_issue", "public")),
    _route("GET", r"users/search", ("_users_search", "public"), None),
    _route("GET", r"user/search", None, ("_user_search", "user")),
    _route("GET", r"user", ("_user", "user"), ("_user", "user")),
    _route("GET", r"mypermissions", ("_my_permissions", "public"), ("_my_permissions", "public")),
    # Worklogs (jira_worklogs.py): the same endpoints on Cloud (v3) and Server (v2).
    _route("GET", r"worklog/(?P<arg>updated|deleted)", ("_worklog", "user"), ("_worklog", "user")),
    _route("POST", r"worklog/(?P<arg>list)", ("_worklog", "user"), ("_worklog", "user")),
    # A project's versions and components (jira_project_parts.py): paged on Cloud only.
    _route("GET", r"project/(?P<arg>[^/]+)/(version|component)", ("_project_part", "public"), None),
    _route(
        "GET",
        r"project/(?P<arg>[^/]+)/(versions|components)",
        ("_project_part", "public"),
        ("_project_part", "public"),
    ),
)
_API_PATH = re.compile(r"/rest/api/(?P<version>2|3|latest)/(?P<rest>.+?)/?")
_GATEWAY_PATH = re.compile(r"/ex/jira/(?P<cloud_id>[^/]+)(?P<rest>/.*)")


_RECONCILE_MAX = 50


class FakeJira(LocalServer):
    """A fake Jira Cloud (`cloud`) or Server/Data Center (`server`) on 127.0.0.1.

    `dataset` is live: change it with :meth:`update_issue`, :meth:`add_issue` and
    :meth:`delete_issue` while the server runs. `requests_log` records every request.
    """

    def __init__(
        self,
        deployment: Deployment,
        dataset: Dataset | None = None,
        *,
        user_time_zone: str = "Europe/Berlin",
        max_results_cap: int | None = None,
        basic_auth_disabled: bool = False,
        index_delay_ms: int = 0,
        latency_ms: int = 0,
        classic_search: bool = False,
        port: int = 0,
    ) -> None:
        if deployment not in ("cloud", "server"):
            raise ValueError(f"unknown deployment {deployment!r}")
        self.deployment: Deployment = deployment
        self.dataset = dataset if dataset is not None else generate_dataset()
        self.user_time_zone = user_time_zone
        self.zone = ZoneInfo(user_time_zone)
        self.max_results_cap = 1000 if max_results_cap is None else max_results_cap
        self.basic_auth_disabled = basic_auth_disabled
        # Like Cloud's eventually consistent search: issues updated this recently are not found.
        self.index_delay_ms = index_delay_ms
        # Benchmarks: a pause before each answer, and Cloud's pre-2025 `/search` (max 100).
        self.latency_ms = latency_ms
        self.classic_search = classic_search
        if classic_search and deployment == "cloud" and max_results_cap is None:
            self.max_results_cap = 100
        self._scheduled: list[tuple[int, Callable[[FakeJira], None]]] = []
        self._searches = 0
        super().__init__(port)
        self.requests_log: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._failures: list[_Failure] = []
        self._cache: dict[str, tuple[Query, list[Issue]]] = {}
        self._cache_version = -1
        self._index = IssueIndex([])
        self._issue_ids: frozenset[int] = frozenset()
        self.server_version = (9, 12, 2)  # what serverInfo reports on `server`
        # The bot's 'Browse users and groups' global permission (user lists).
        self.browse_users = True
        # Jira Software's agile API (boards, sprints, epics) and the issues' sprint field.
        self.agile = JiraAgile(self.dataset, deployment)

    # serving -----------------------------------------------------------------------------

    def respond(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        """Answer one request (called by the HTTP handler thread)."""
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        reply = self._handle(
            request.command, request.path, request.headers.get("Authorization"), body
        )
        payload = reply.encode()
        request.send_response(reply.status)
        request.send_header("Content-Type", reply.content_type)
        request.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    @functools.cached_property
    def webhooks(self) -> JiraWebhooks:
        """Webhook registrations (both admin APIs) and signed deliveries."""
        return JiraWebhooks(self)

    @functools.cached_property
    def teams(self) -> JiraTeams:
        """The Atlassian Teams API (Cloud only): three teams of the issues' users by default."""
        return JiraTeams(make_teams(self.dataset.users))

    @functools.cached_property
    def worklogs(self) -> JiraWorklogs:
        """Worklogs (`jira_worklogs.py`): none until a test adds some; change them under `lock`.

        `with_worklogs` puts some on the issues.
        """
        return JiraWorklogs(self.dataset, [])

    def with_worklogs(self, every: int = 3, per_issue: int = 2) -> FakeJira:
        """Log `per_issue` worklogs on every `every`-th issue (`make_worklogs`); return self."""
        with self._lock:
            self.worklogs = JiraWorklogs(
                self.dataset, make_worklogs(self.dataset, every, per_issue)
            )
        return self

    @property
    def lock(self) -> threading.Lock:
        """The lock the request handlers hold while they read the data."""
        return self._lock

    @functools.cached_property
    def project_parts(self) -> JiraProjectParts:
        """Projects' versions and components; `project_parts.unreadable` hides a project's."""
        return JiraProjectParts()

    def delete_version(self, version_id: str) -> None:
        """Delete a project version (issues lose it from their fix versions)."""
        with self._lock:
            self.dataset.delete_version(version_id)

    def source_config(self, **overrides: Any) -> dict[str, Any]:
        """Return a source config for this fake, with its deployment's basic credentials."""
        if self.deployment == "cloud":
            credentials = {
                "auth_type": "api_token",
                "email": CLOUD_EMAIL,
                "api_token": CLOUD_API_TOKEN,
            }
        else:
            credentials = {
                "auth_type": "basic",
                "username": SERVER_USERNAME,
                "password": SERVER_PASSWORD,
            }
        # The sync leaves to the next run what this fake's search has not indexed yet.
        delay = -(-self.index_delay_ms // 1000)
        return {
            "jira_url": self.base_url,
            "credentials": credentials,
            "search_index_delay_seconds": delay,
            **overrides,
        }

    @property
    def oauth_base_url(self) -> str:
        """Where OAuth 2.0 calls go (Cloud): `<base_url>/ex/jira/<CLOUD_ID>`."""
        return f"{self.base_url}/ex/jira/{CLOUD_ID}"

    # data changes ------------------------------------------------------------------------

    def update_issue(
        self, key: str, *, at: datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change fields (neutral values: names for status/priority/type, user ids, wiki text).

        Sets `updated` to `at` or now (ms precision); returns the issue as the API shows it.
        """
        with self._lock:
            return self._render_all(self.dataset.update_issue(key, _ms(at), fields))

    def add_issue(
        self, project_key: str, *, at: datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Create an issue in a project, created and updated at `at` or now."""
        with self._lock:
            return self._render_all(self.dataset.add_issue(project_key, _ms(at), fields))

    def delete_issue(self, key: str) -> None:
        """Delete an issue (and its sub-tasks); it vanishes from searches and 404s."""
        with self._lock:
            self.dataset.delete_issue(key)

    def move_issue(self, key: str, project_key: str, *, at: datetime | None = None) -> str:
        """Move an issue (without parent or sub-tasks) to another project; return its new key."""
        with self._lock:
            return self.dataset.move_issue(key, project_key, _ms(at)).key

    def archive_project(self, key: str) -> None:
        """Archive a project: it leaves the project lists; `GET project/{id}` still answers it."""
        with self._lock:
            self.dataset.archive_project(key)

    def delete_project(self, key: str) -> None:
        """Delete a project with its issues; it leaves the project list and every search."""
        with self._lock:
            self.dataset.delete_project(key)

    def delete_user(self, ident: str) -> None:
        """Remove a user account (accountId, name or key); it leaves the user lists."""
        with self._lock:
            self.dataset.delete_user(ident)

    def rename_user(self, ident: str, display_name: str) -> None:
        """Change a user's display name (accountId, name or key), as a profile edit does."""
        with self._lock:
            self.dataset.rename_user(ident, display_name)

    def after_searches(self, count: int, action: Callable[[FakeJira], None]) -> None:
        """Run `action(self)` when the `count`-th search request from now arrives.

        It runs before that search is answered, so data can change in the middle of a
        paginated read (`update_issue`, `add_issue`, `delete_issue` inside `action`).
        """
        with self._lock:
            self._scheduled.append((self._searches + count, action))

    def _count_search(self) -> None:
        with self._lock:
            self._searches += 1
            due = [action for at, action in self._scheduled if at == self._searches]
            self._scheduled = [(at, a) for at, a in self._scheduled if at > self._searches]
        for action in due:
            action(self)

    def inject_failure(
        self,
        status: int,
        *,
        times: int = 1,
        path_prefix: str = "/rest/",
        retry_after: str | None = "0",
        rate_limit_reset: str | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next `times` requests under `path_prefix` with `status`.

        Adds `Retry-After` and `X-RateLimit-Reset` (`yyyy-MM-ddTHH:mmZ`) when given; `body`
        defaults to Jira's error envelope (a str body is sent as text/plain). Failures are
        consumed in the order they were injected.
        """
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        if rate_limit_reset is not None:
            headers["X-RateLimit-Reset"] = rate_limit_reset
        if body is None:
            body = {"errorMessages": [HTTPStatus(status).phrase], "errors": {}}
        with self._lock:
            self._failures.append(_Failure(status, times, path_prefix, headers, body))

    def clear_failures(self) -> None:
        """Forget the injected failures not consumed yet: Jira is back."""
        with self._lock:
            self._failures.clear()

    def _render_all(self, issue: Issue) -> dict[str, Any]:
        version = "3" if self.deployment == "cloud" else "2"
        renderer = Renderer(self.dataset, self.deployment, version, self.base_url, self.zone)
        return renderer.issue(issue, self.dataset.field_ids())

    # request handling --------------------------------------------------------------------

    def _handle(
        self, method: str, target: str, authorization: str | None, raw_body: bytes
    ) -> _Reply:
        """Answer one request (called by the HTTP handler thread)."""
        parts = urlsplit(target)
        params = parse_qs(parts.query, keep_blank_values=True)
        body, bad_body = _parse_body(raw_body)
        scheme = authorization.split(" ", 1)[0].lower() if authorization else None
        with self._lock:
            self.requests_log.append(RecordedRequest(method, parts.path, params, body, scheme))
            failure = self._take_failure(parts.path)
        if failure is not None:
            content_type = _TEXT if isinstance(failure.body, str) else _JSON
            return _Reply(failure.status, failure.body, dict(failure.headers), content_type)
        try:
            if bad_body:
                raise _errors(
                    400,
                    "Invalid request payload. Refer to the REST API documentation and try again.",
                )
            return self._dispatch(method, parts.path, params, body, authorization)
        except _HttpError as error:
            return error.reply
        except JqlError as error:
            return _Reply(400, {"errorMessages": [str(error)], "errors": {}})

    def _take_failure(self, path: str) -> _Failure | None:
        gateway = _GATEWAY_PATH.fullmatch(path)
        paths = (path, gateway.group("rest")) if gateway else (path,)
        for failure in self._failures:
            if any(p.startswith(failure.path_prefix) for p in paths):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _dispatch(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: Any,
        authorization: str | None,
    ) -> _Reply:
        site, gateway = self.base_url, False
        match = _GATEWAY_PATH.fullmatch(path)
        if match and self.deployment == "cloud":
            if match.group("cloud_id") != CLOUD_ID:
                raise _errors(404, "Site not found")
            site, gateway, path = self.oauth_base_url, True, match.group("rest")
        if path == "/oauth/token/accessible-resources" and self.deployment == "cloud":
            return self._accessible_resources(authorization)
        if not gateway and self.deployment == "cloud" and self.teams.handles(path):
            return self._teams_api(method, path, params, body, authorization)
        if self.backlog.handles(path):
            return self._backlog(method, path, params, authorization, site, gateway)
        answer = self._signed_in_api(method, path, params, body, authorization, site, gateway)
        if answer is not None:
            return answer
        api = _API_PATH.fullmatch(path)
        if api is None or (self.deployment == "server" and api.group("version") == "3"):
            raise _errors(404, f"null for uri: {site}{path}")
        route, (handler_name, access) = self._find_route(method, api.group("rest"))
        if handler_name == "_search_removed" and self.classic_search:
            handler_name, access = "_search", "public"
        caller = _Caller(None, False)
        if access != "open":
            caller = self._authenticate(authorization, gateway)
            if access == "user" and caller.user is None:
                raise self._login_required()
        version = "2" if api.group("version") == "latest" else api.group("version")
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        call = _Call(
            method=method,
            url=f"{site}{path}{query}",
            params=params,
            body=body,
            caller=caller,
            renderer=Renderer(self.dataset, self.deployment, version, site, self.zone),
            arg=unquote(route.groupdict().get("arg") or ""),
        )
        try:
            reply: _Reply = getattr(self, handler_name)(call)
        except _HttpError as error:
            reply = error.reply
        if caller.failed:
            reply.headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
        return reply

    def _signed_in_api(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: Any,
        authorization: str | None,
        site: str,
        gateway: bool,
    ) -> _Reply | None:
        """Webhook registrations and the agile API (`jira_agile.py`): login required."""
        webhooks = not gateway and self.webhooks.handles(path)
        if not webhooks and not self.agile.handles(path):
            return None
        if self._authenticate(authorization, gateway).user is None:
            raise self._login_required()
        if webhooks:
            return _Reply(*self.webhooks.handle(method, path, body))
        with self._lock:
            return _Reply(*self.agile.handle(method, path, params, site, self.zone))

    @functools.cached_property
    def backlog(self) -> JiraBacklog:
        """Each board's backlog (`jira_backlog.py`), from the agile API's boards and sprints."""
        return JiraBacklog(self.agile, self.dataset, self.deployment, self._lock)

    def _backlog(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        authorization: str | None,
        site: str,
        gateway: bool,
    ) -> _Reply:
        """A board's backlog: login required, GET only.

        Issues come in the REST v2 representation, Cloud's too: the Jira Software API's
        examples give `description` as text, not Atlassian Document Format.
        """
        if self._authenticate(authorization, gateway).user is None:
            raise self._login_required()
        if method != "GET":
            raise _errors(405, "Method Not Allowed")
        renderer = Renderer(self.dataset, self.deployment, "2", site, self.zone)

        def render(issue: Issue, tokens: list[str], expand: list[str]) -> dict[str, Any]:
            return renderer.issue(issue, self._select_fields(tokens, "*navigable"), expand)

        def parse(jql: str) -> Query:
            return parse_jql(
                jql, projects=self.dataset.projects, zone=self.zone, issue_ids=self._issue_ids
            )

        with self._lock:
            self._refresh_index()
            call = BacklogCall(path, params, render, parse, self.max_results_cap)
            return _Reply(*self.backlog.handle(call))

    def _teams_api(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: Any,
        authorization: str | None,
    ) -> _Reply:
        """The Atlassian Teams API (`jira_teams.py`): the site's credentials, or 401."""
        if self._authenticate(authorization, gateway=False).user is None:
            raise _HttpError(_Reply(401, {"code": 401, "message": "Unauthorized"}))
        return _Reply(*self.teams.handle(method, path, params, body))

    def _find_route(self, method: str, rest: str) -> tuple[re.Match[str], tuple[str, Access]]:
        for route in _ROUTES:
            target = route.cloud if self.deployment == "cloud" else route.server
            match = route.pattern.fullmatch(rest)
            if match is None or target is None:
                continue
            if method not in route.methods:
                raise _errors(405, "Method Not Allowed")
            return match, target
        raise _errors(404, f"null for uri: /rest/api/{rest}")

    # auth ----------------------------------------------------------------------------------

    def _authenticate(self, authorization: str | None, gateway: bool) -> _Caller:
        scheme, _, credential = (authorization or "").partition(" ")
        scheme = scheme.lower()
        if gateway:  # api.atlassian.com takes OAuth bearer tokens only
            if scheme == "bearer" and credential == OAUTH_ACCESS_TOKEN:
                return _Caller(self.dataset.bot, False)
            raise _HttpError(_Reply(401, {"code": 401, "message": "Unauthorized"}))
        if not authorization:
            return _Caller(None, False)
        if scheme == "basic":
            return self._basic(*_decode_basic(credential))
        if scheme == "bearer" and self.deployment == "server":
            if credential == SERVER_PAT:
                return _Caller(self.dataset.bot, False)
            raise _HttpError(_Reply(401, _NOT_AUTHENTICATED, _seraph_failed(), _TEXT))
        return _Caller(None, True)  # e.g. an OAuth token sent to the site itself

    def _basic(self, user: str, password: str) -> _Caller:
        if self.deployment == "cloud":
            if user == CLOUD_EMAIL and password == CLOUD_API_TOKEN:
                return _Caller(self.dataset.bot, False)
            if user == CLOUD_EMAIL and password == "password":
                raise _HttpError(
                    _Reply(
                        401,
                        "Basic authentication with passwords is deprecated.",
                        self._challenge(),
                        _TEXT,
                    )
                )
            return _Caller(None, True)
        if self.basic_auth_disabled:
            raise _HttpError(
                _Reply(403, {"message": "Basic Authentication has been disabled on this instance."})
            )
        if user == SERVER_USERNAME and password == SERVER_PASSWORD:
            return _Caller(self.dataset.bot, False)
        html = (
            "<html><head><title>Unauthorized (401)</title></head><body>"
            "Basic Authentication Failure - Reason : AUTHENTICATED_FAILED</body></html>"
        )
        raise _HttpError(_Reply(401, html, _seraph_failed(), _HTML))

    def _login_required(self) -> _HttpError:
        if self.deployment == "server":
            return _errors(
                401, "You are not authenticated. Authentication required to perform this operation."
            )
        return _HttpError(_Reply(401, _NOT_AUTHENTICATED, self._challenge(), _TEXT))

    def _challenge(self) -> dict[str, str]:
        realm = quote(self.base_url, safe="")
        return {**_seraph_failed(), "WWW-Authenticate": f'OAuth realm="{realm}"'}

    def _accessible_resources(self, authorization: str | None) -> _Reply:
        if authorization != f"Bearer {OAUTH_ACCESS_TOKEN}":
            return _Reply(401, {"code": 401, "message": "Unauthorized"})
        return _Reply(
            200,
            [
                {
                    "id": CLOUD_ID,
                    "url": self.base_url,
                    "name": "fake-jira",
                    "scopes": ["read:jira-work", "read:jira-user", "offline_access"],
                    "avatarUrl": f"{self.base_url}/avatar.png",
                }
            ],
        )

    # endpoints -------------------------------------------------------------------------------

    def _server_info(self, call: _Call) -> _Reply:
        now = format_jira_time(_ms(None), self.zone)
        if self.deployment == "cloud":
            info: dict[str, Any] = {
                "baseUrl": self.base_url,
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100290,
                "buildDate": "2025-11-20T08:01:44.000+0000",
                "serverTime": now,
                "scmInfo": "8f0c6a1d1e5c4bd3d0c7a6f0d6d1f0c3b1a2e4f5",
                "serverTitle": "Jira",
                "serverTimeZone": self.user_time_zone,
            }
        else:
            info = {
                "baseUrl": self.base_url,
                "version": ".".join(map(str, self.server_version)),
                "versionNumbers": list(self.server_version),
                "deploymentType": "Server",
                "buildNumber": 9120002,
                "buildDate": "2024-01-31T00:00:00.000+0000",
                "databaseBuildNumber": 9120002,
                "serverTime": now,
                "scmInfo": "a8c0e3c8b1d0e6f6c2f8e1f0a9b7d6c5e4f3a2b1",
                "serverTitle": "Jira",
            }
        return _Reply(200, info)

    def _myself(self, call: _Call) -> _Reply:
        return _Reply(200, call.renderer.myself(self.user_time_zone))

    def _my_permissions(self, call: _Call) -> _Reply:
        """`GET mypermissions` (`jira_permissions.py`)."""
        authenticated = call.caller.user is not None
        return _Reply(
            *my_permissions(
                call.params, authenticated=authenticated, browse_users=self.browse_users
            )
        )

    def _fields(self, call: _Call) -> _Reply:
        return _Reply(200, [call.renderer.field(f) for f in self.dataset.field_ids()])

    def _visible_projects(self, call: _Call) -> list[Project]:
        if not call.caller.user:
            return []
        # Archived projects are listed only when asked for: Server `GET project` with
        # `includeArchived=true`, Cloud `project/search` with `status` naming `archived` (its
        # default is `live`). `GET project/{id}` still answers them.
        status = _csv(call.params.get("status")) or ["live"]
        included = call.params.get("includeArchived") == ["true"] or "archived" in status
        return [p for p in self.dataset.projects if included or not p.archived]

    def _project_list(self, call: _Call) -> _Reply:
        expand = _csv(call.params.get("expand"))
        with self._lock:
            projects = [
                call.renderer.project(p, expand=expand) for p in self._visible_projects(call)
            ]
        return _Reply(200, projects)

    def _project_search(self, call: _Call) -> _Reply:
        start_at = max(0, _int(call.params, "startAt", 0))
        max_results = min(max(0, _int(call.params, "maxResults", 50)), 100)
        keys = {k.upper() for k in _csv(call.params.get("keys"))}
        text = (call.params.get("query") or [""])[0].casefold()
        order = (call.params.get("orderBy") or ["key"])[0]
        descending, order_field = order.startswith("-"), order.lstrip("+-")
        if order_field not in ("key", "name"):
            raise _errors(400, f"The orderBy value '{order}' is not supported.")
        expand = _csv(call.params.get("expand"))
        with self._lock:
            chosen = [
                p
                for p in self._visible_projects(call)
                if (not keys or p.key in keys)
                and (text in p.key.casefold() or text in p.name.casefold())
            ]
            chosen.sort(key=lambda p: getattr(p, order_field).casefold(), reverse=descending)
            values = [
                call.renderer.project(p, expand=expand)
                for p in chosen[start_at : start_at + max_results]
            ]
        is_last = start_at + max_results >= len(chosen)
        page: dict[str, Any] = {"self": call.url}
        if not is_last:
            params = {**call.params, "startAt": [str(start_at + max_results)]}
            page["nextPage"] = f"{call.url.split('?')[0]}?{urlencode(params, doseq=True)}"
        page |= {
            "maxResults": max_results,
            "startAt": start_at,
            "total": len(chosen),
            "isLast": is_last,
            "values": values,
        }
        return _Reply(200, page)

    def _project(self, call: _Call) -> _Reply:
        with self._lock:
            project = self.dataset.project(call.arg) if call.caller.user else None
            if project is None:
                raise _errors(404, f"No project could be found with key '{call.arg}'.")
            return _Reply(200, call.renderer.project(project, detail=True))

    def _project_part(self, call: _Call) -> _Reply:
        part = call.url.split("?", maxsplit=1)[0].rstrip("/").rsplit("/", 1)[1]
        with self._lock:
            status, body = self.project_parts.answer(
                self.dataset,
                call.renderer,
                call.url,
                call.params,
                call.arg,
                part,
                anonymous=call.caller.user is None,
            )
        return _Reply(status, body)

    def _issue(self, call: _Call) -> _Reply:
        fields = self._select_fields(_csv(call.params.get("fields")), "*all")
        with self._lock:
            issue = self.dataset.issue(call.arg) if call.caller.user else None
            if issue is None:
                raise _errors(
                    404,
                    "Issue does not exist or you do not have permission to see it."
                    if self.deployment == "cloud"
                    else "Issue Does Not Exist",
                )
            return _Reply(200, call.renderer.issue(issue, fields))

    def _worklog(self, call: _Call) -> _Reply:
        with self._lock:
            status, body = self.worklogs.handle(call.arg, call.params, call.body, call.renderer)
        return _Reply(status, body)

    def _users_search(self, call: _Call) -> _Reply:
        """Cloud REST v3 "Get all users" (`GET /rest/api/3/users/search`).

        Every account, active or not, of every type (atlassian, app, customer), emails only
        where the profile visibility shows them; a bare JSON array without a total. `maxResults`
        defaults to 50 and is "limited to 1000": more is served as the limit (and as the
        fake's `max_results_cap` when lower), so a page can be shorter than asked while more
        follow. Without the 'Browse users and groups' global permission, or anonymously, the
        answer is an empty list (documented for the sibling "Find users": "calls by users
        without the required permission return empty search results"; this one's docs are
        silent, so the fake takes that silent answer, the hardest one for a client).
        """
        start_at, limit = self._user_page(call, 50)
        with self._lock:
            users = self.dataset.users if call.caller.user and self.browse_users else []
            page = [call.renderer.user(u) for u in users[start_at : start_at + limit]]
        return _Reply(200, page)

    def _user_search(self, call: _Call) -> _Reply:
        """Server / Data Center `GET /rest/api/2/user/search` (Jira 9 REST reference).

        `username` (required; matches the start of the username, display name or email, and
        `.` matches everyone: Atlassian JRA-29069), `includeActive` (default true),
        `includeInactive` (default false), `startAt`, `maxResults` (default 50, at most 1000:
        "your search results will be truncated"). Not anonymous (401). Without the 'Browse
        users' global permission: an empty list (docs silent; the hardest answer for a client).
        """
        if "username" not in call.params:
            raise _errors(400, "The username query parameter was not provided")
        text = call.params["username"][-1].casefold()
        include_active = (call.params.get("includeActive") or ["true"])[-1] != "false"
        include_inactive = (call.params.get("includeInactive") or ["false"])[-1] == "true"
        start_at, limit = self._user_page(call, 50)
        with self._lock:
            users = [
                u
                for u in (self.dataset.users if self.browse_users else [])
                if u.on_server
                and (include_active if u.active else include_inactive)
                and (
                    text == "."
                    or any(
                        word.casefold().startswith(text)
                        for word in (u.name, u.email, *u.display_name.split())
                    )
                )
            ]
            users.sort(key=lambda u: u.name)
            page = [call.renderer.user(u) for u in users[start_at : start_at + limit]]
        return _Reply(200, page)

    def _user(self, call: _Call) -> _Reply:
        """One user: Cloud REST v3 "Get user" and Server/Data Center `GET /rest/api/2/user`.

        Cloud: `accountId` is required (`username` and `key` "are no longer available": 400
        here); 404 "Specified user does not exist or you do not have required permissions"
        (the message Jira Cloud answers) for no such user and, though its reference lists a
        403, also without the 'Browse users and groups' global permission, as Cloud does: the
        strictest reading, where a caller cannot tell a hidden user from a deleted one. Server
        (Jira 9 REST reference): `username` or `key`, 401 anonymous, 404 for no such user ("The
        user with the key '…' does not exist"); without 'Browse users' its reference is silent:
        403 here. App accounts are Cloud's alone (404 on Server). The answer is the user as the
        user lists render it.
        """
        names = ("accountId",) if self.deployment == "cloud" else ("key", "username")
        given = [(name, call.params[name][-1]) for name in names if name in call.params]
        if not given:
            raise _errors(400, f"The {' or '.join(names)} query parameter was not provided")
        if not self.browse_users and self.deployment == "server":
            raise _errors(403, "You do not have the permission to browse users.")
        name, ident = given[0]
        with self._lock:
            found = next(
                (
                    u
                    for u in self.dataset.users
                    if ident == {"accountId": u.account_id, "key": u.key, "username": u.name}[name]
                    and (self.deployment == "cloud" or u.on_server)
                ),
                None,
            )
            if found is None or not self.browse_users:
                raise _errors(
                    404,
                    "Specified user does not exist or you do not have required permissions"
                    if self.deployment == "cloud"
                    else f"The user with the {name} '{ident}' does not exist",
                )
            return _Reply(200, call.renderer.user(found))

    def _user_page(self, call: _Call, default: int) -> tuple[int, int]:
        start_at = _int(call.params, "startAt", 0)
        max_results = _int(call.params, "maxResults", default)
        if start_at < 0 or max_results < 0:
            raise _errors(400, "startAt and maxResults must not be negative.")
        return start_at, min(max_results, 1000, self.max_results_cap)

    def _search_removed(self, call: _Call) -> _Reply:
        raise _errors(410, _REMOVED)

    def _search_jql(self, call: _Call) -> _Reply:
        args = _SearchArgs.read(call)
        max_results = args.number("maxResults", 50)
        if not 1 <= max_results <= 5000:
            raise _errors(400, "The max results parameter has to be between 1 and 5,000.")
        offset = _decode_token(args.text("nextPageToken"))
        reconciled = _reconcile_ids(args.list("reconcileIssues"))
        self._count_search()
        fields = self._select_fields(args.list("fields"), "id")
        page_size = min(max_results, 100) if "*all" in args.list("fields") else max_results
        with self._lock:
            query, found = self._run_query(args.text("jql"), call.caller, reconciled)
            if query.where is None:
                raise _errors(
                    400,
                    "Unbounded JQL queries are not allowed here. Please add a "
                    "search restriction to your query.",
                )
            expand = args.list("expand")
            issues = [
                call.renderer.issue(i, fields, expand) for i in found[offset : offset + page_size]
            ]
            if not args.list("fields"):  # the default is ids alone, not even the key
                issues = [{"id": issue["id"]} for issue in issues]
            more = offset + page_size < len(found)
        out: dict[str, Any] = {"issues": issues}
        if more:
            out["nextPageToken"] = _encode_token(offset + page_size)
        out["isLast"] = not more
        return _Reply(200, _with_expansions(out, args.list("expand"), fields, call.renderer))

    def _approximate_count(self, call: _Call) -> _Reply:
        """Cloud's `{"jql"}` -> `{"count"}`; like `search/jql`, it wants a bounded query."""
        jql = _SearchArgs.read(call).text("jql")
        with self._lock:
            query, found = self._run_query(jql, call.caller)
        if query.where is None:
            raise _errors(
                400,
                "Unbounded JQL queries are not allowed here. Please add a search restriction to "
                "your query.",
            )
        return _Reply(200, {"count": len(found)})

    def _jql_parse(self, call: _Call) -> _Reply:
        """Cloud's `POST /rest/api/3/jql/parse?validation=...` `{"queries": [jql, ...]}`.

        Atlassian REST v3 "Parse JQL query": 200 with `{"queries": [{"query", "structure"}]}`,
        a query that fails validation as `{"query", "errors": [...]}` in the same 200 answer
        (errors worded as the search words them, "... (line 1, character N)"); 400 for a
        malformed body. It may be called anonymously and validates as the caller: an
        anonymous caller sees no project. `validation` is strict, warn or none; this fake
        validates strictly whichever is asked (the source asks strict), and returns an empty
        `structure` (the syntax tree no client here reads).
        """
        validation = (call.params.get("validation") or ["strict"])[-1]
        if validation not in ("strict", "warn", "none"):
            raise _errors(400, f"The value '{validation}' is not valid for 'validation'.")
        queries = call.body.get("queries") if isinstance(call.body, dict) else None
        if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
            raise _errors(
                400, "Invalid request payload. Refer to the REST API documentation and try again."
            )
        parsed = []
        with self._lock:
            projects = self.dataset.projects if call.caller.user else []
            self._refresh_index()
            issue_ids = self._issue_ids if call.caller.user else frozenset()
            for query in queries:
                try:
                    parse_jql(query, projects=projects, zone=self.zone, issue_ids=issue_ids)
                except JqlError as error:
                    parsed.append({"query": query, "errors": [str(error)]})
                else:
                    parsed.append({"query": query, "structure": {}})
        return _Reply(200, {"queries": parsed})

    def _search(self, call: _Call) -> _Reply:
        """Server's `GET|POST /rest/api/2/search`; `maxResults=0` counts (`total`) only.

        JQL errors answer 400 with `errorMessages`, as `validateQuery=strict` (Server's
        default) does; this fake validates strictly whatever `validateQuery` says.
        """
        args = _SearchArgs.read(call)
        if args.list("reconcileIssues"):  # a Cloud search/jql parameter only
            raise _errors(400, "The parameter 'reconcileIssues' is not supported.")
        start_at = max(0, args.number("startAt", 0))
        max_results = min(max(0, args.number("maxResults", 50)), self.max_results_cap)
        self._count_search()
        fields = self._select_fields(args.list("fields"), "*navigable")
        with self._lock:
            _, found = self._run_query(args.text("jql"), call.caller)
            expand = args.list("expand")
            issues = [
                call.renderer.issue(i, fields, expand)
                for i in found[start_at : start_at + max_results]
            ]
        out = {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(found),
            "issues": issues,
        }
        return _Reply(200, _with_expansions(out, args.list("expand"), fields, call.renderer))

    def _run_query(
        self, jql: str, caller: _Caller, reconciled: frozenset[int] = frozenset()
    ) -> tuple[Query, list[Issue]]:
        """Parse and run JQL for `caller` (hold the lock); results are cached per data version.

        The index lags `index_delay_ms` behind, except for the `reconciled` issue ids.
        """
        if caller.user is None:  # anonymous: sees no project, so no issue
            return parse_jql(jql, projects=[], zone=self.zone, issue_ids=frozenset()), []
        self._refresh_index()
        if jql not in self._cache:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            query = parse_jql(
                jql, projects=self.dataset.projects, zone=self.zone, issue_ids=self._issue_ids
            )
            self._cache[jql] = query, self._index.search(query)
        query, found = self._cache[jql]
        if self.index_delay_ms:
            indexed_until = int(time.time() * 1000) - self.index_delay_ms
            found = [
                issue for issue in found if issue.updated <= indexed_until or issue.id in reconciled
            ]
        return query, found

    def _refresh_index(self) -> None:
        """Rebuild the `updated` index and the id set after a change (hold the lock)."""
        if self._cache_version != self.dataset.version:
            self._cache.clear()
            self._cache_version = self.dataset.version
            self._index = IssueIndex(self.dataset.issues.values())
            self._issue_ids = frozenset(issue.id for issue in self.dataset.issues.values())

    def _select_fields(self, tokens: list[str], default: str) -> list[str]:
        """Resolve `fields` (`*all`, `*navigable`, names, `-name`) to field ids in Jira's order."""
        every = self.dataset.field_ids()
        navigable = _NAVIGABLE + [c.id for c in self.dataset.custom_fields]
        chosen: set[str] = set()
        excluded: set[str] = set()
        for token in tokens or [default]:
            if token == "*all":
                chosen.update(every)
            elif token == "*navigable":
                chosen.update(navigable)
            elif token.startswith("-"):
                excluded.add(token[1:])
            else:
                chosen.add(token)
        if excluded and not chosen:
            chosen.update(navigable)
        return [f for f in every if f in chosen and f not in excluded]


@dataclass(frozen=True)
class _SearchArgs:
    """Search parameters from a GET query string or a POST JSON body."""

    values: dict[str, Any]

    @classmethod
    def read(cls, call: _Call) -> _SearchArgs:
        if call.method == "POST":
            if not isinstance(call.body, dict):
                raise _errors(
                    400,
                    "Invalid request payload. Refer to the REST API documentation and try again.",
                )
            return cls(call.body)
        return cls(
            {
                name: values[-1]
                if name in ("jql", "nextPageToken", "startAt", "maxResults")
                else values
                for name, values in call.params.items()
            }
        )

    def text(self, name: str) -> str:
        return str(self.values.get(name) or "")

    def number(self, name: str, default: int) -> int:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _errors(
                400, f"The value '{value}' is not valid for the parameter '{name}'."
            ) from None

    def list(self, name: str) -> list[str]:
        value = self.values.get(name)
        return _csv([value] if isinstance(value, str) else value)


def _with_expansions(
    out: dict[str, Any], expand: list[str], fields: list[str], renderer: Renderer
) -> dict[str, Any]:
    """Add `names`/`schema` when expanded, as search responses do."""
    if "names" in expand:
        out["names"] = {f: renderer.field(f)["name"] for f in fields}
    if "schema" in expand:
        out["schema"] = {f: renderer.field(f)["schema"] for f in fields}
    return out


def _reconcile_ids(values: list[str]) -> frozenset[int]:
    """Read Cloud's `reconcileIssues`: more than 50 ids, or one not a number, gets 400.

    Atlassian REST v3 "Search for issues using JQL enhanced search" (search/jql), parameter
    `reconcileIssues`: "Strong consistency issue ids to be reconciled with search results.
    Accepts max 50 ids". Server's `/rest/api/2/search` has no such parameter.
    """
    if len(values) > _RECONCILE_MAX:
        raise _errors(400, f"reconcileIssues accepts at most {_RECONCILE_MAX} issue ids.")
    if not all(value.isdigit() for value in values):
        raise _errors(400, "The value of 'reconcileIssues' must be a list of issue ids.")
    return frozenset(int(value) for value in values)


def _csv(values: list[str] | None) -> list[str]:
    """Comma lists, possibly repeated (`fields=a,b&fields=c`), as one list."""
    return [
        part.strip() for value in values or () for part in str(value).split(",") if part.strip()
    ]


def _int(params: dict[str, list[str]], name: str, default: int) -> int:
    return _SearchArgs({name: params[name][-1]} if name in params else {}).number(name, default)


def _ms(at: datetime | None) -> int:
    return int(time.time() * 1000) if at is None else to_epoch_ms(at)


def _parse_body(raw: bytes) -> tuple[Any, bool]:
    """The JSON body (None when empty) and whether it was malformed."""
    if not raw.strip():
        return None, False
    try:
        return json.loads(raw), False
    except ValueError:
        return None, True


def _decode_basic(credential: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credential, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


def _seraph_failed() -> dict[str, str]:
    return {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"fake-jira:{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    if not token:
        return 0
    try:
        prefix, _, offset = (
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().partition(":")
        )
        if prefix == "fake-jira" and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise _errors(400, "The provided next page token is invalid or expired.")


def _credentials(fake: FakeJira) -> dict[str, str]:
    if fake.deployment == "cloud":
        return {
            "email": CLOUD_EMAIL,
            "api_token": CLOUD_API_TOKEN,
            "oauth_access_token": OAUTH_ACCESS_TOKEN,
            "cloud_id": CLOUD_ID,
            "oauth_base_url": fake.oauth_base_url,
        }
    return {
        "username": SERVER_USERNAME,
        "password": SERVER_PASSWORD,
        "personal_access_token": SERVER_PAT,
    }


def main(argv: list[str] | None = None) -> None:
    """CLI: start a fake, print `{"base_url", "deployment", credentials…}`, serve until a signal."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deployment", choices=("cloud", "server"), default="cloud")
    parser.add_argument("--issues", type=int, default=200)
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--custom-fields", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user-time-zone", default="Europe/Berlin")
    parser.add_argument("--max-results-cap", type=int)
    parser.add_argument("--basic-auth-disabled", action="store_true")
    args = parser.parse_args(argv)
    dataset = generate_dataset(
        projects=args.projects, issues=args.issues, seed=args.seed, custom_fields=args.custom_fields
    )
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with FakeJira(
        args.deployment,
        dataset,
        user_time_zone=args.user_time_zone,
        max_results_cap=args.max_results_cap,
        basic_auth_disabled=args.basic_auth_disabled,
        port=args.port,
    ) as fake:
        line = {"base_url": fake.base_url, "deployment": fake.deployment, **_credentials(fake)}
        print(json.dumps(line), flush=True)
        while not stopped.wait(0.5):
            pass


if __name__ == "__main__":
    main(sys.argv[1:])
