"""Jira Software's agile REST API of the fake Jira (Cloud and Server / Data Center), strictly.

Served under `/rest/agile/1.0/` on both deployments, as Atlassian documents it: Cloud
developer.atlassian.com/cloud/jira/software/rest/api-group-board/ ("Get all boards", "Get all
sprints", "Get epics"), Server / Data Center docs.atlassian.com/jira-software/REST/9.12.0/.

- Pages by offset: `startAt` (default 0) and `maxResults` (default 50). Jira serves at most 50
  whatever is asked ("the default and maximum is 50", Cloud's pagination section for the agile
  API), and echoes what it served: `{"maxResults", "startAt", "isLast", "values"}`; the board
  list adds `total` (the sprint and epic lists have none, as documented).
- `GET board`: every board the caller may see. `location` is the board's project (`projectId`,
  `projectKey`, `projectName`, `displayName`, `projectTypeKey`, `name`, `avatarURI`) or, for a
  board located on a user, `userId` and `displayName` (no project key).
- `GET board/{id}/sprint`: the board's sprints of every state (the `state` parameter filters by
  a comma-separated list of future, active, closed), including sprints of other boards whose
  issues the board's filter shows (the fake's `shared` sprints). A kanban board answers 400
  `{"errorMessages": ["The board does not support sprints"]}` (Cloud and Server alike).
- `GET board/{id}/epic`: the epics of the board's project: `{id, key, self, name, summary,
  color: {key}, done}`; `done` (true/false) filters.
- Permissions: a board the caller may not read (`restricted`) is listed, but its sprints and
  epics answer 403 `{"errorMessages": [...]}`; the docs list 403 for a missing permission and
  404 for a board that does not exist or the caller cannot view, and say nothing of a listed
  board whose filter is not shared: the fake takes 403 there, the strictest choice (the source
  must tell it from a Jira without Software). An unknown board answers 404.
- No Jira Software (`software = False`): every `/rest/agile` path answers 404 with Jira's
  "null for uri" body, as a Jira without the Jira Software REST plugin does.
- Without credentials, 401 (the agile API has no anonymous access); `jira_server.py` checks.

Issues carry the sprint field (`sprint_field`, a custom field of type
`com.pyxis.greenhopper.jira:gh-sprint`): on Cloud a list of sprint objects `{id, name, state,
boardId, goal, startDate, endDate, completeDate}` (Atlassian's "Deprecation notice - toString
representation of sprints in Get issue response", in force since 2020); on Server / Data Center
REST v2 a list of the sprints' `toString` strings,
`com.atlassian.greenhopper.service.sprint.Sprint@1bf75fd[id=1,rapidViewId=1,state=CLOSED,
name=Sprint 1,startDate=...,endDate=...,completeDate=...,sequence=1,goal=]`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from zoneinfo import ZoneInfo

from integration_tests.fakes.jira_data import EPIC, Dataset, Deployment, format_jira_time

AGILE_API = "/rest/agile/1.0/"
MAX_PAGE = 50
SPRINT_FIELD_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"
_PATH = re.compile(r"/rest/agile/1\.0/board(?:/(?P<board>[^/]+)/(?P<part>sprint|epic))?/?")
_SPRINT_STATES = ("future", "active", "closed")
_DAY_MS = 86_400_000


class AgileApiError(Exception):
    """An error answer: its status and Jira's body."""

    def __init__(self, status: int, *messages: str) -> None:
        super().__init__(status, messages)
        self.status = status
        self.body: dict[str, Any] = {"errorMessages": list(messages), "errors": {}}


@dataclasses.dataclass
class Board:
    """A board: `project_key` None for a board located on a user."""

    id: int
    name: str
    type: str
    project_key: str | None


@dataclasses.dataclass
class Sprint:
    """A sprint of `origin_board`, also listed on `shared_with` boards. Times are epoch ms."""

    id: int
    name: str
    state: str
    origin_board: int
    goal: str
    start: int | None
    end: int | None
    complete: int | None
    created: int
    shared_with: tuple[int, ...] = ()


class JiraAgile:
    """Boards, sprints and epics of a fake Jira, made from its dataset's projects and issues.

    Each project gets a scrum board with a closed, an active and a future sprint; the first
    project also a kanban board, and the second project's scrum board also lists the first
    project's active sprint (a shared sprint). Issues of each scrum board's project are in its
    sprints. Change the data with `set_sprint_state`, `delete_board`, `delete_sprint`.
    """

    def __init__(self, dataset: Dataset, deployment: Deployment) -> None:
        self.dataset = dataset
        self.deployment = deployment
        self.software = True
        self.restricted: set[int] = set()
        self.boards: dict[int, Board] = {}
        self.sprints: dict[int, Sprint] = {}
        self.sprint_field = _free_custom_field_id(dataset)
        self._make(dataset)
        dataset.sprint_field = self.sprint_field
        dataset.render_sprints = self._render_issue_sprints

    @staticmethod
    def handles(path: str) -> bool:
        """Whether `path` is under the agile API."""
        return path.startswith(AGILE_API)

    def handle(
        self, method: str, path: str, params: dict[str, list[str]], site: str, zone: ZoneInfo
    ) -> tuple[int, Any]:
        """Answer one authenticated request: (status, JSON body)."""
        try:
            return 200, self._answer(method, path, params, site, zone)
        except AgileApiError as error:
            return error.status, error.body

    # changes -------------------------------------------------------------------------------

    def set_sprint_state(self, sprint_id: int, state: str, at_ms: int) -> None:
        """Start (`active`) or complete (`closed`) a sprint at `at_ms`."""
        sprint = self.sprints[sprint_id]
        sprint.state = state
        if state == "active":
            sprint.start, sprint.end = at_ms, at_ms + 14 * _DAY_MS
        if state == "closed":
            sprint.complete = at_ms
        self.dataset.version += 1

    def add_board(self, name: str, board_type: str, project_key: str | None) -> Board:
        """Add a board without sprints (located on the user when `project_key` is None)."""
        board = Board(max(self.boards, default=0) + 1, name, board_type, project_key)
        self.boards[board.id] = board
        return board

    def add_sprint(self, board_id: int, state: str, at_ms: int) -> Sprint:
        """Add a sprint to a board, started (unless `future`) at `at_ms`."""
        sprint_id = max(self.sprints, default=0) + 1
        started = None if state == "future" else at_ms
        sprint = Sprint(
            id=sprint_id,
            name=f"Sprint {sprint_id}",
            state=state,
            origin_board=board_id,
            goal="",
            start=started,
            end=None if started is None else started + 14 * _DAY_MS,
            complete=at_ms + 14 * _DAY_MS if state == "closed" else None,
            created=at_ms - _DAY_MS,
        )
        self.sprints[sprint_id] = sprint
        self.dataset.version += 1
        return sprint

    def delete_board(self, board_id: int) -> None:
        """Delete a board and the sprints that started on it."""
        del self.boards[board_id]
        for sprint_id in [s.id for s in self.sprints.values() if s.origin_board == board_id]:
            self.delete_sprint(sprint_id)

    def delete_sprint(self, sprint_id: int) -> None:
        """Delete a sprint; its issues leave it."""
        del self.sprints[sprint_id]
        for issue in self.dataset.issues.values():
            ids = issue.custom.get(self.sprint_field)
            if ids and sprint_id in ids:
                issue.custom[self.sprint_field] = tuple(i for i in ids if i != sprint_id) or None
        self.dataset.version += 1

    def scrum_board(self, project_key: str) -> Board:
        """The scrum board of a project."""
        return next(
            b for b in self.boards.values() if b.project_key == project_key and b.type == "scrum"
        )

    def sprints_of(self, board_id: int) -> list[Sprint]:
        """The sprints a board lists: its own and those shared with it, by id."""
        return sorted(
            (
                s
                for s in self.sprints.values()
                if s.origin_board == board_id or board_id in s.shared_with
            ),
            key=lambda s: s.id,
        )

    # answers -------------------------------------------------------------------------------

    def _answer(
        self, method: str, path: str, params: dict[str, list[str]], site: str, zone: ZoneInfo
    ) -> dict[str, Any]:
        match = _PATH.fullmatch(path)
        if not self.software or match is None:
            raise AgileApiError(404, f"null for uri: {site}{path}")
        if method != "GET":
            raise AgileApiError(405, "Method Not Allowed")
        start_at, max_results = _page_params(params)
        agile = f"{site}/rest/agile/1.0"
        if match.group("board") is None:
            boards = [self._board(b, agile) for b in sorted(self.boards.values(), key=_by_id)]
            return {**_page(boards, start_at, max_results), "total": len(boards)}
        board = self._readable_board(match.group("board"))
        if match.group("part") == "sprint":
            if board.type == "kanban":
                raise AgileApiError(400, "The board does not support sprints")
            states = _states(params)
            sprints = [
                self._sprint(s, agile, zone) for s in self.sprints_of(board.id) if s.state in states
            ]
            return _page(sprints, start_at, max_results)
        done = (params.get("done") or [""])[0]
        epics = [
            e
            for e in self._epics(board, agile)
            if done not in ("true", "false") or str(e["done"]).lower() == done
        ]
        return _page(epics, start_at, max_results)

    def _readable_board(self, raw_id: str) -> Board:
        if not raw_id.isdigit() or int(raw_id) not in self.boards:
            raise AgileApiError(
                404, f"Board does not exist or you do not have permission to see it: {raw_id}"
            )
        if int(raw_id) in self.restricted:
            raise AgileApiError(403, "You don't have permission to view this board.")
        return self.boards[int(raw_id)]

    def _board(self, board: Board, agile: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": board.id,
            "self": f"{agile}/board/{board.id}",
            "name": board.name,
            "type": board.type,
        }
        project = self.dataset.project(board.project_key) if board.project_key else None
        if project is not None:
            out["location"] = {
                "projectId": int(project.id),
                "displayName": f"{project.name} ({project.key})",
                "projectName": project.name,
                "projectKey": project.key,
                "projectTypeKey": project.type_key,
                "avatarURI": f"/secure/projectavatar?size=small&pid={project.id}",
                "name": f"{project.name} ({project.key})",
            }
        else:
            out["location"] = {"userId": 10001, "displayName": self.dataset.bot.display_name}
        if self.deployment == "cloud":
            out["isPrivate"] = False
        return out

    def _sprint(self, sprint: Sprint, agile: str, zone: ZoneInfo) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": sprint.id,
            "self": f"{agile}/sprint/{sprint.id}",
            "state": sprint.state,
            "name": sprint.name,
        }
        for key, at in (
            ("startDate", sprint.start),
            ("endDate", sprint.end),
            ("completeDate", sprint.complete),
        ):
            if at is not None:
                out[key] = _agile_time(at, zone)
        if self.deployment == "cloud":
            out["createdDate"] = _agile_time(sprint.created, zone)
        out["originBoardId"] = sprint.origin_board
        out["goal"] = sprint.goal
        return out

    def _epics(self, board: Board, agile: str) -> list[dict[str, Any]]:
        if board.project_key is None:
            return []
        return [
            {
                "id": issue.id,
                "key": issue.key,
                "self": f"{agile}/epic/{issue.id}",
                "name": issue.summary,
                "summary": issue.summary,
                "color": {"key": f"color_{issue.id % 14 + 1}"},
                "done": issue.status.category_key == "done",
            }
            for issue in self.dataset.issues.values()
            if issue.project_key == board.project_key and issue.issuetype == EPIC
        ]

    def _render_issue_sprints(self, ids: tuple[int, ...], zone: ZoneInfo) -> list[Any]:
        sprints = [self.sprints[i] for i in ids if i in self.sprints]
        if self.deployment == "cloud":
            return [
                {
                    "id": s.id,
                    "name": s.name,
                    "state": s.state,
                    "boardId": s.origin_board,
                    "goal": s.goal,
                    **{
                        key: _agile_time(at, zone)
                        for key, at in (
                            ("startDate", s.start),
                            ("endDate", s.end),
                            ("completeDate", s.complete),
                        )
                        if at is not None
                    },
                }
                for s in sprints
            ]
        return [_to_string(s, zone) for s in sprints]

    # data ----------------------------------------------------------------------------------

    def _make(self, dataset: Dataset) -> None:
        updated = [issue.updated for issue in dataset.issues.values()] or [0]
        now = max(updated)
        board_id, sprint_id = 1, 1
        for index, project in enumerate(dataset.projects):
            scrum = Board(board_id, f"{project.key} board", "scrum", project.key)
            self.boards[scrum.id] = scrum
            board_id += 1
            if index == 0:
                kanban = Board(board_id, f"{project.key} kanban", "kanban", project.key)
                self.boards[kanban.id] = kanban
                board_id += 1
            for n, state in enumerate(("closed", "active", "future")):
                start = now - (3 - n) * 14 * _DAY_MS
                self.sprints[sprint_id] = Sprint(
                    id=sprint_id,
                    name=f"{project.key} Sprint {n + 1}",
                    state=state,
                    origin_board=scrum.id,
                    goal="" if n else f"Ship {project.name}",
                    start=None if state == "future" else start,
                    end=None if state == "future" else start + 14 * _DAY_MS,
                    complete=start + 14 * _DAY_MS if state == "closed" else None,
                    created=start - _DAY_MS,
                )
                sprint_id += 1
        if len(dataset.projects) > 1:
            first_active = next(s for s in self.sprints.values() if s.state == "active")
            first_active.shared_with = (self.scrum_board(dataset.projects[1].key).id,)
        for issue in dataset.issues.values():
            board = self.scrum_board(issue.project_key)
            own = [s.id for s in self.sprints.values() if s.origin_board == board.id]
            # Every other issue was in the closed sprint, then carried into the active one.
            chosen = tuple(own[:2]) if issue.id % 2 else (own[1],) if issue.id % 3 else ()
            issue.custom[self.sprint_field] = chosen or None


def _free_custom_field_id(dataset: Dataset) -> str:
    taken = {c.id for c in dataset.custom_fields}
    number = 10020
    while f"customfield_{number}" in taken:
        number += 1
    return f"customfield_{number}"


def _page_params(params: dict[str, list[str]]) -> tuple[int, int]:
    try:
        start_at = int((params.get("startAt") or ["0"])[0])
        max_results = int((params.get("maxResults") or [str(MAX_PAGE)])[0])
    except ValueError as error:
        raise AgileApiError(400, f"Invalid paging parameter: {error}") from error
    if start_at < 0 or max_results < 0:
        raise AgileApiError(400, "startAt and maxResults must not be negative")
    return start_at, min(max_results, MAX_PAGE)


def _page(values: list[dict[str, Any]], start_at: int, max_results: int) -> dict[str, Any]:
    served = values[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "isLast": start_at + len(served) >= len(values),
        "values": served,
    }


def _states(params: dict[str, list[str]]) -> tuple[str, ...]:
    raw = [s.strip() for value in params.get("state", []) for s in value.split(",") if s.strip()]
    unknown = [s for s in raw if s not in _SPRINT_STATES]
    if unknown:
        raise AgileApiError(400, f"Invalid sprint state: {', '.join(unknown)}")
    return tuple(raw) or _SPRINT_STATES


def _agile_time(epoch_ms: int, zone: ZoneInfo) -> str:
    text = format_jira_time(epoch_ms, zone)
    return f"{text[:-2]}:{text[-2:]}"  # the agile API writes the offset with a colon


def _to_string(sprint: Sprint, zone: ZoneInfo) -> str:
    def when(at: int | None) -> str:
        return "<null>" if at is None else _agile_time(at, zone)

    return (
        f"com.atlassian.greenhopper.service.sprint.Sprint@{sprint.id * 7919:x}[id={sprint.id},"
        f"rapidViewId={sprint.origin_board},state={sprint.state.upper()},name={sprint.name},"
        f"startDate={when(sprint.start)},endDate={when(sprint.end)},"
        f"completeDate={when(sprint.complete)},activatedDate={when(sprint.start)},"
        f"sequence={sprint.id},goal={sprint.goal},autoStartStop=false]"
    )


def _by_id(board: Board) -> int:
    return board.id
