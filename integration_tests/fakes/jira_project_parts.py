"""A project's versions and components in the fake Jira, as strict as Atlassian documents them.

Cloud (REST v3, developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-project-versions/
and api-group-project-components/):

- `GET project/{projectIdOrKey}/version` ("Get project versions paginated"): `startAt`,
  `maxResults` (default 50), `orderBy`, `query` ("Filter the results using a literal string.
  Versions with matching `name` or `description` are returned (case insensitive)"), `status`
  (`released`, `unreleased`, `archived`, comma separated). Answer: a `PageBeanVersion`,
  `{self, nextPage, maxResults, startAt, total, isLast, values}`. The docs give no maximum for
  `maxResults`; the fake serves at most 50 (the strictest plausible choice), so a client must
  page by what came back.
- `GET project/{projectIdOrKey}/component` ("Get project components paginated"): the same paging,
  `query` (matching name or description, case insensitive) and `componentSource` (`jira`,
  default; `compass`, `auto`: the fake has no Compass components, so `compass` lists none and
  `auto` the Jira ones; another value 400). Values are `ComponentWithIssueCount`s.
- `GET project/{projectIdOrKey}/versions` and `.../components`: every one, as one array.

Server / Data Center (REST v2, docs.atlassian.com/software/jira/docs/api/REST/9.12.0/):
`GET project/{projectIdOrKey}/versions` and `.../components`, each one array; no paged form.

Permissions (both): "Browse Projects project permission for the project"; "404 Returned if the
project is not found or the user does not have permission to view it", with Jira's
`{"errorMessages": ["No project could be found with key 'KEY'."], "errors": {}}`. Project keys
in `unreadable` answer that 404 although the project is listed: the account lost the permission,
or the project was deleted, after the project list was read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from integration_tests.fakes.jira_data import Component, Dataset, Project, Renderer, Version

MAX_PAGE = 50
_VERSION_STATUSES = ("released", "unreleased", "archived")
_COMPONENT_SOURCES = ("jira", "compass", "auto")

Reply = tuple[int, Any]


class JiraProjectParts:
    """Versions and components of the fake's projects; `unreadable`: keys answered with 404."""

    def __init__(self) -> None:
        self.unreadable: set[str] = set()

    def answer(
        self,
        data: Dataset,
        renderer: Renderer,
        url: str,
        params: Mapping[str, list[str]],
        project_ref: str,
        part: str,
        *,
        anonymous: bool,
    ) -> Reply:
        """Answer `GET project/{project_ref}/{part}`; `part` is one of the four paths above.

        An anonymous caller browses no project here (the fake's projects are not public).
        """
        project = None if anonymous else data.project(project_ref)
        if project is None or project.key in self.unreadable:
            return 404, {
                "errorMessages": [f"No project could be found with key '{project_ref}'."],
                "errors": {},
            }
        if part in ("version", "versions"):
            values = [
                renderer.version(v) for v in data.project_versions if v.project_id == project.id
            ]
            chosen = _versions_of_status(data, project, params)
        else:
            values = [_component(renderer, data, project, c) for c in project.components]
            chosen = _component_source(params)
        if part in ("versions", "components"):
            return 200, values
        if chosen is None:
            return 400, {"errorMessages": [_bad_value(part, params)], "errors": {}}
        values = [v for v in values if chosen(v) and _matches(v, params)]
        return 200, _page(url, params, values)


def _versions_of_status(
    data: Dataset, project: Project, params: Mapping[str, list[str]]
) -> Callable[[dict[str, Any]], bool] | None:
    wanted = [s for v in params.get("status", []) for s in v.split(",") if s]
    if any(s not in _VERSION_STATUSES for s in wanted):
        return None
    by_id: dict[str, Version] = {v.id: v for v in data.project_versions}

    def status(value: dict[str, Any]) -> str:
        version = by_id[value["id"]]
        if version.archived:
            return "archived"
        return "released" if version.released else "unreleased"

    return lambda value: not wanted or status(value) in wanted


def _component_source(
    params: Mapping[str, list[str]],
) -> Callable[[dict[str, Any]], bool] | None:
    source = (params.get("componentSource") or ["jira"])[0]
    if source not in _COMPONENT_SOURCES:
        return None
    return lambda value: source != "compass"


def _bad_value(part: str, params: Mapping[str, list[str]]) -> str:
    if part == "version":
        return f"Invalid status value: {','.join(params.get('status', []))}"
    return f"Invalid componentSource value: {(params.get('componentSource') or [''])[0]}"


def _matches(value: Mapping[str, Any], params: Mapping[str, list[str]]) -> bool:
    text = (params.get("query") or [""])[0].casefold()
    return (
        text in str(value.get("name", "")).casefold()
        or text in str(value.get("description") or "").casefold()
    )


def _page(url: str, params: Mapping[str, list[str]], values: list[Any]) -> dict[str, Any]:
    start_at = max(0, _number(params, "startAt", 0))
    max_results = min(max(0, _number(params, "maxResults", MAX_PAGE)), MAX_PAGE)
    served = values[start_at : start_at + max_results]
    is_last = start_at + len(served) >= len(values)
    page: dict[str, Any] = {"self": url}
    if not is_last:
        base = url.split("?", maxsplit=1)[0]
        page["nextPage"] = f"{base}?startAt={start_at + len(served)}&maxResults={max_results}"
    return page | {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(values),
        "isLast": is_last,
        "values": served,
    }


def _number(params: Mapping[str, list[str]], name: str, default: int) -> int:
    raw = (params.get(name) or [str(default)])[0]
    return int(raw) if raw.lstrip("-").isdigit() else default


def _component(
    renderer: Renderer, data: Dataset, project: Project, component: Component
) -> dict[str, Any]:
    """A component as the project's component list shows it (REST `ProjectComponent`)."""
    lead = renderer.user(project.lead)
    issue_count = sum(
        1
        for issue in data.issues.values()
        if issue.project_key == project.key and component in issue.components
    )
    out: dict[str, Any] = {
        "self": f"{renderer.api}/component/{component.id}",
        "id": component.id,
        "name": component.name,
        "description": f"The {component.name} of {project.name}",
        "lead": lead,
        "assigneeType": "PROJECT_LEAD",
        "assignee": lead,
        "realAssigneeType": "PROJECT_LEAD",
        "realAssignee": lead,
        "isAssigneeTypeValid": True,
        "project": project.key,
        "projectId": int(project.id),
    }
    if renderer.cloud:
        out["issueCount"] = issue_count
    return out
