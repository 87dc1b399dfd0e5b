"""The board backlog endpoints of the fake Jira, as strict as Atlassian documents them.

Jira Cloud (Jira Software Cloud REST API, "Get issues for backlog", enhanced; RFC-127 on
community.developer.atlassian.com): `GET /rest/software/1.0/board/{boardId}/backlog` with `jql`,
`fields`, `expand`, `maxResults`, `nextPageToken`. Pages go by token: the answer is
`{"issues": [...], "isLast": bool}` plus `nextPageToken` while more follow; no `startAt`, no
`total`. `maxResults` defaults to 50; the docs give 5000 as the most ("It returns max 5000
issues"), and, like the platform's `search/jql`, the fake serves at most 100 a page when every
field is asked for (`*all`). A token from another board or query is refused with 400 (docs
silent: the strictest choice). The old `GET /rest/agile/1.0/board/{boardId}/backlog` was
deprecated and scheduled for removal on November 1, 2026 (port-labs/ocean
`integrations/jira/jira/client.py` `_fetch_backlog_from_agile_api`); the fake answers it 410
with a pointer to the new endpoint, as Cloud answers its removed `search` (docs silent on the
removed backlog's answer: the strictest plausible one).

Jira Server / Data Center (Jira Software Server REST API, "Get issues for backlog"):
`GET /rest/agile/1.0/board/{boardId}/backlog` with `startAt`, `maxResults` (default 50, at
most `jira.search.views.default.max`), `jql`, `fields`, `expand`; the answer is search-shaped,
`{"expand", "startAt", "maxResults", "total", "issues"}`.

Both: "The backlog contains incomplete issues that are not assigned to any future or active
sprint", of the board's filter (here: its location project), "ordered by rank" (here: by id,
the order issues were created in) unless the `jql` has an ORDER BY; the `jql` is ANDed with
that scope. A kanban board has a backlog only with the Kanban backlog enabled, and then it is
the issues of its first column (here: status category To Do); without it, and on a simple
board, Cloud answers 400 "Backlogs are not supported on this board" (the message Port's
integration matches) and Server 400 "The backlog is not available on Kanban boards" (as quoted
in keepcosmos/terjira#19). The Kanban backlog is off unless the board is in `kanban_backlog`.
A board that does not exist is 404 "Board does not exist or you do not have permission to see
it."; a listed board the caller may not read (`jira_agile.JiraAgile.restricted`) is 403, as its
sprints and epics are (docs: "if the user does not have permission to view the board, no issues
will be returned at all"; the fake chooses the error, the strictest reading). Without Jira
Software (`JiraAgile.software` False), `/rest/agile/1.0` and `/rest/software/1.0` do not exist:
404. Sprint membership is the issues' sprint field (`JiraAgile.sprint_field`, sprint ids).
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from integration_tests.fakes.jira_data import Dataset, Deployment, Issue
from integration_tests.fakes.jql import JqlError, Query

DEFAULT_PAGE = 50
MAX_CLOUD_PAGE = 5000
MAX_CLOUD_PAGE_ALL_FIELDS = 100
NOT_SUPPORTED_CLOUD = "Backlogs are not supported on this board"
NOT_SUPPORTED_SERVER = "The backlog is not available on Kanban boards"
NO_BOARD = "Board does not exist or you do not have permission to see it."
NO_PERMISSION = "You don't have permission to view this board."
REMOVED = (
    "The requested API has been removed. Please migrate to the "
    "/rest/software/1.0/board/{boardId}/backlog API."
)
_PATH = re.compile(r"/rest/(?P<api>agile|software)/1\.0/board/(?P<board>[^/]+)/backlog/?")


class AgileBoard(Protocol):
    """What the backlog reads of a board (`jira_agile.Board`)."""

    @property
    def id(self) -> int: ...

    @property
    def type(self) -> str: ...

    @property
    def project_key(self) -> str | None: ...


class AgileSprint(Protocol):
    """What the backlog reads of a sprint (`jira_agile.Sprint`)."""

    @property
    def state(self) -> str: ...


class Agile(Protocol):
    """What the backlog reads of the site's Jira Software (`jira_agile.JiraAgile`)."""

    software: bool
    restricted: set[int]
    sprint_field: str

    @property
    def boards(self) -> Mapping[int, AgileBoard]: ...

    @property
    def sprints(self) -> Mapping[int, AgileSprint]: ...


Render = Callable[[Issue, list[str], list[str]], dict[str, Any]]


class BacklogError(Exception):
    """An error answer in Jira's envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"errorMessages": [message], "errors": {}}


@dataclass(frozen=True)
class BacklogCall:
    """One authenticated backlog request as the fake's router hands it over."""

    path: str
    params: dict[str, list[str]]
    render: Render  # (issue, field tokens, expand) -> the issue as the API shows it
    parse: Callable[[str], Query]  # JQL as the site's search parses it
    max_results: int  # Server: jira.search.views.default.max


class JiraBacklog:
    """The backlog endpoints of one fake site (see the module docstring).

    `kanban_backlog` holds the kanban boards whose Kanban backlog is enabled (a board setting).
    """

    def __init__(
        self, agile: Agile, dataset: Dataset, deployment: Deployment, lock: threading.Lock
    ) -> None:
        self._agile = agile
        self._dataset = dataset
        self._deployment = deployment
        self._lock = lock
        self.kanban_backlog: set[int] = set()

    def move_into_sprint(self, key: str, sprint_id: int, at_ms: int | None = None) -> None:
        """Move an issue into a sprint, as sprint planning does: it leaves the backlog.

        Jira records the sprint change on the issue, so its `updated` moves to `at_ms` or now.
        """
        with self._lock:
            issue = self._dataset.issues[key]
            field = self._agile.sprint_field
            issue.custom[field] = (*(issue.custom.get(field) or ()), sprint_id)
            issue.updated = at_ms if at_ms is not None else int(time.time() * 1000)
            self._dataset.version += 1

    @staticmethod
    def handles(path: str) -> bool:
        """Whether `path` is a board's backlog, on either API."""
        return _PATH.fullmatch(path) is not None

    def handle(self, call: BacklogCall) -> tuple[int, Any]:
        """Answer one authenticated GET: (status, JSON body). Hold the site's lock."""
        try:
            return 200, self._answer(call)
        except BacklogError as error:
            return error.status, error.body
        except JqlError as error:
            return 400, {"errorMessages": [str(error)], "errors": {}}

    def backlog(
        self, board: AgileBoard, jql: str = "", parse: Callable[[str], Query] | None = None
    ) -> list[Issue]:
        """The issues in `board`'s backlog now, narrowed by `jql`, in the order Jira gives."""
        # Scrum: incomplete issues; kanban: its first column, the Kanban backlog.
        wanted = {"new", "indeterminate"} if board.type == "scrum" else {"new"}
        scope = [
            issue
            for issue in sorted(self._dataset.issues.values(), key=lambda i: i.id)
            if issue.project_key == board.project_key
            and issue.status.category_key in wanted
            and not self._in_open_sprint(issue)
        ]
        if not jql.strip() or parse is None:
            return scope
        return parse(jql).run(scope)

    def items(self) -> set[tuple[int, str]]:
        """(board id, issue key) of every issue in a backlog now, on the boards that have one."""
        return {
            (board.id, issue.key)
            for board in self._agile.boards.values()
            if board.type == "scrum" or board.id in self.kanban_backlog
            for issue in self.backlog(board)
        }

    def _in_open_sprint(self, issue: Issue) -> bool:
        sprints = self._agile.sprints
        ids = issue.custom.get(self._agile.sprint_field) or ()
        return any(i in sprints and sprints[i].state in ("active", "future") for i in ids)

    def _answer(self, call: BacklogCall) -> dict[str, Any]:
        match = _PATH.fullmatch(call.path)
        assert match is not None
        cloud = self._deployment == "cloud"
        if not self._agile.software or (match.group("api") == "software" and not cloud):
            raise BacklogError(404, f"null for uri: {call.path}")
        if match.group("api") == "agile" and cloud:
            raise BacklogError(410, REMOVED)
        board = self._board(match.group("board"))
        if board.type != "scrum" and board.id not in self.kanban_backlog:
            raise BacklogError(400, NOT_SUPPORTED_CLOUD if cloud else NOT_SUPPORTED_SERVER)
        jql = _last(call.params, "jql")
        found = self.backlog(board, jql, call.parse)
        fields = _csv(call.params.get("fields")) or ["*navigable"]
        expand = _csv(call.params.get("expand"))
        if cloud:
            return self._token_page(call, board, jql, found, fields, expand)
        return self._offset_page(call, found, fields, expand)

    def _board(self, written: str) -> AgileBoard:
        board = self._agile.boards.get(int(written)) if written.isdigit() else None
        if board is None:
            raise BacklogError(404, NO_BOARD)
        if board.id in self._agile.restricted:
            raise BacklogError(403, NO_PERMISSION)
        return board

    def _token_page(
        self,
        call: BacklogCall,
        board: AgileBoard,
        jql: str,
        found: list[Issue],
        fields: list[str],
        expand: list[str],
    ) -> dict[str, Any]:
        asked = _number(call.params, "maxResults", DEFAULT_PAGE)
        if not 1 <= asked <= MAX_CLOUD_PAGE:
            raise BacklogError(400, f"maxResults must be between 1 and {MAX_CLOUD_PAGE}.")
        size = min(asked, MAX_CLOUD_PAGE_ALL_FIELDS) if "*all" in fields else asked
        start = _decode_token(_last(call.params, "nextPageToken"), board.id, jql)
        page = found[start : start + size]
        out: dict[str, Any] = {"issues": [call.render(i, fields, expand) for i in page]}
        end = start + len(page)
        if end < len(found):
            out["nextPageToken"] = _encode_token(board.id, jql, end)
        out["isLast"] = end >= len(found)
        return out

    def _offset_page(
        self, call: BacklogCall, found: list[Issue], fields: list[str], expand: list[str]
    ) -> dict[str, Any]:
        start = max(0, _number(call.params, "startAt", 0))
        asked = max(0, _number(call.params, "maxResults", DEFAULT_PAGE))
        size = min(asked, call.max_results)
        page = found[start : start + size]
        return {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(found),
            "issues": [call.render(i, fields, expand) for i in page],
        }


def _last(params: dict[str, list[str]], name: str) -> str:
    return (params.get(name) or [""])[-1]


def _number(params: dict[str, list[str]], name: str, default: int) -> int:
    text = _last(params, name)
    if text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise BacklogError(400, f"The value '{text}' is not valid for '{name}'.") from None


def _csv(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _token_prefix(board_id: int, jql: str) -> str:
    return f"fake-backlog:{board_id}:{base64.urlsafe_b64encode(jql.encode()).decode()}:"


def _encode_token(board_id: int, jql: str, offset: int) -> str:
    raw = f"{_token_prefix(board_id, jql)}{offset}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str, board_id: int, jql: str) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raw = ""
    prefix = _token_prefix(board_id, jql)
    offset = raw[len(prefix) :] if raw.startswith(prefix) else ""
    if not offset.isdigit():
        raise BacklogError(400, "The nextPageToken is invalid for this request.")
    return int(offset)
