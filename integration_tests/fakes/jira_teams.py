"""The Atlassian Teams public API of the fake Jira Cloud site, as strict as Atlassian documents it.

Served on the site's gateway, `/gateway/api/public/teams/v1/org/{orgId}/...`, on Cloud only
(Server has no Teams API: its routes answer 404), with the site's basic credentials
(developer.atlassian.com/platform/teams/components/team-public-rest-api: "curl -u
fred@example.com:freds_api_token ... https://sitename.atlassian.net/gateway/api/public/teams/
v1/org/{orgId}/teams/{teamId}"). Reference: developer.atlassian.com/platform/teams/rest/v1/
(its OpenAPI, as MrRefactoring/jira.js `src/teams` carries it).

- `GET .../teams?size&cursor` (Teams Public API "Get a list of teams"): `size` is "the page size
  for the number of teams to return (max 300)"; the docs give no default, the fake uses 50 and
  refuses a size over 300 or under 1 with 400 (docs silent: the strictest choice). The answer is
  `{"entities": [team...], "cursor": "..."}`; the cursor is there on every page, the last one
  included, and the page after the last is `{"entities": [], "cursor": "..."}` (Atlassian's KB
  "How to fetch site-scoped Atlassian Teams via Public Teams REST API" shows that answer).
- `POST .../teams/{teamId}/members` (Teams Members Public API "Fetch a set of membership(s)"),
  body `{"first", "after"}` ("Optional Relay-style pagination controls. Can be omitted if
  empty."): `{"results": [{"accountId"}], "pageInfo": {"endCursor", "hasNextPage"}}`. The docs
  give no maximum for `first`; the fake refuses more than 50 (Port's integration asks 50) and
  defaults to 50. Other methods on it: 405.
- Errors are `{"code": "...", "message": "..."}` (the OpenAPI's `OverallCodedError`): an
  organization the caller does not belong to or that does not exist, and an unknown team, 404;
  a member list the caller may not read (`members_readable` False), 403; a cursor the fake did
  not give, 400. Without valid credentials, 401 `{"code": 401, "message": "Unauthorized"}`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from integration_tests.fakes.jira_data import User

ORGANIZATION_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
TEAMS_API = "/gateway/api/public/teams/v1/org/"
MAX_TEAMS_PAGE = 300
MAX_MEMBERS_PAGE = 50
_DEFAULT_PAGE = 50
_PATH = re.compile(
    r"/gateway/api/public/teams/v1/org/(?P<org>[^/]+)/teams(?:/(?P<team>[^/]+)/members)?/?"
)
_TEAM_TYPES = ("OPEN", "MEMBER_INVITE", "ORG_ADMIN_MANAGED")


@dataclasses.dataclass(frozen=True)
class Team:
    """An Atlassian team: its fields as the API lists them and its members' account ids."""

    team_id: str
    display_name: str
    description: str
    team_type: str
    state: str
    member_ids: tuple[str, ...]

    def entity(self, organization_id: str) -> dict[str, Any]:
        """The team as `GET .../teams` lists it."""
        return {
            "teamId": self.team_id,
            "displayName": self.display_name,
            "description": self.description,
            "organizationId": organization_id,
            "teamType": self.team_type,
            "state": self.state,
            "creatorId": None,
        }


def make_teams(users: Sequence[User], count: int = 3, size: int = 4) -> list[Team]:
    """Return `count` teams of `size` members each, taken in turn from `users` (the issues')."""
    teams = []
    for n in range(count):
        members = tuple(users[(n * size + i) % len(users)].account_id for i in range(size))
        teams.append(
            Team(
                team_id=f"{n + 1:08x}-0000-4000-8000-{n + 1:012x}",
                display_name=f"Team {n + 1}",
                description=f"Fake team number {n + 1}",
                team_type=_TEAM_TYPES[n % len(_TEAM_TYPES)],
                state="ARCHIVED" if n % 5 == 4 else "ACTIVE",
                member_ids=tuple(dict.fromkeys(members)),
            )
        )
    return teams


class TeamsApiError(Exception):
    """An error answer of the Teams API: its status and `{"code", "message"}` body."""

    def __init__(self, status: int, code: str | int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message}


class JiraTeams:
    """The Teams API of one fake site: `teams` is live; `members_readable` False answers 403."""

    def __init__(self, teams: list[Team]) -> None:
        self.teams = teams
        self.organization_id = ORGANIZATION_ID
        self.members_readable = True

    @staticmethod
    def handles(path: str) -> bool:
        """Whether `path` is under the Teams API."""
        return path.startswith(TEAMS_API)

    def handle(
        self, method: str, path: str, params: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        """Answer one authenticated request: (status, JSON body)."""
        try:
            return 200, self._answer(method, path, params, body)
        except TeamsApiError as error:
            return error.status, error.body

    def _answer(
        self, method: str, path: str, params: dict[str, list[str]], body: Any
    ) -> dict[str, Any]:
        match = _PATH.fullmatch(path)
        if match is None:
            raise TeamsApiError(404, "NOT_FOUND", f"No resource at {path}")
        if match.group("org") != self.organization_id:
            raise TeamsApiError(404, "NOT_FOUND", "Organization not found")
        team_id = match.group("team")
        if team_id is None:
            if method != "GET":
                raise TeamsApiError(405, "METHOD_NOT_ALLOWED", "Method Not Allowed")
            return self._team_page(params)
        if method != "POST":
            raise TeamsApiError(405, "METHOD_NOT_ALLOWED", "Method Not Allowed")
        team = next((t for t in self.teams if t.team_id == team_id), None)
        if team is None:
            raise TeamsApiError(404, "NOT_FOUND", f"Team {team_id} not found")
        if not self.members_readable:
            raise TeamsApiError(403, "FORBIDDEN", "You do not have permission to view members")
        return self._member_page(team, body if isinstance(body, dict) else {})

    def _team_page(self, params: dict[str, list[str]]) -> dict[str, Any]:
        size = _number(params.get("size", [str(_DEFAULT_PAGE)])[-1], "size", MAX_TEAMS_PAGE)
        start = _decode_cursor(params.get("cursor", [""])[-1])
        page = self.teams[start : start + size]
        return {
            "entities": [team.entity(self.organization_id) for team in page],
            "cursor": _encode_cursor(start + len(page)),
        }

    def _member_page(self, team: Team, body: dict[str, Any]) -> dict[str, Any]:
        first = _number(str(body.get("first", _DEFAULT_PAGE)), "first", MAX_MEMBERS_PAGE)
        start = _decode_cursor(body.get("after") or "")
        page = team.member_ids[start : start + first]
        end = start + len(page)
        return {
            "results": [{"accountId": account_id} for account_id in page],
            "pageInfo": {
                "endCursor": _encode_cursor(end) if page else None,
                "hasNextPage": end < len(team.member_ids),
            },
        }


def _number(text: str, name: str, maximum: int) -> int:
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise TeamsApiError(400, "BAD_REQUEST", f"{name} must be between 1 and {maximum}")
    return int(text)


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"fake-teams:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        prefix, _, offset = (
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        prefix, offset = "", ""
    if prefix != "fake-teams" or not offset.isdigit():
        raise TeamsApiError(400, "BAD_REQUEST", "Invalid cursor")
    return int(offset)
