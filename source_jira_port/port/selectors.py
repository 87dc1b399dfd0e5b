"""The `selector` of a port-app-config resource: Port's Jira selector keys, honoured or refused.

Port's Jira integrations define their selector keys in port-labs/ocean
`integrations/jira/jira/overrides.py` and `integrations/jira-server/jira_server/overrides.py`,
on top of Ocean's base `Selector` (`query`, `exportEnvVariables`). Each key is honoured here,
or refused by name with the reason, never ignored.

Honoured:
- `query` (every kind): the jq condition a record must meet.
- `expand` (project): what the source always asks Jira for on a project page (`PROJECT_EXPAND`,
  no extra request); a value outside it is refused.
- `expand` (issue): Jira's `expand` parameter of the issue search (`ISSUE_EXPAND`); `names` and
  `schema`, which Jira returns once per page, are copied onto each issue record.
- `fields` (issue): the fields the issue search asks for (default `*all`, as Port's).
- `jql` (issue): accepted here; what it selects is the JQL filter's business.
- `includeMembers` (team): team records always carry their members.

Refused for worklogs (`REFUSED_KEYS_OF_KIND`): `jql` and `apiQueryParams`. Port's integration
reads the worklogs of the issues a JQL selects, one request per issue; this connector reads
Jira's worklog change list incrementally, whatever issue a worklog is on.
- `componentSource` (component): `jira`, Port's default, is what the source reads; `compass` and
  `auto` are refused (Compass components belong to Atlassian Compass, another product).
- `nameFilter` (component): Jira Cloud's `query` parameter of the component list, as Port's
  integration sends it ("components with a matching name or description are returned (case
  insensitive)"), applied by the writer per resource: ANDed into the resource's `query` as a
  case-insensitive substring test of `name` and `description`, on Cloud and Server alike.
- `boardType`, `projectKey` (board), `sprintState` (sprint), `status` (epic): filters on the
  records, as Port's integration asks Jira for them (`agile_filter`); the source reads every
  board, sprint and epic, so deletions are still found. Port's defaults apply when a key is
  absent: `sprintState: [active]`, `status: [incomplete]`; null means every record.
- `jql` (backlog): the backlog endpoint's own `jql` parameter, ANDed with each board's backlog;
  absent, Port's default (`BACKLOG_JQL`); empty, the whole backlog.
- `fields` (backlog): joined with the issue resources' `fields` (backlog records are issue
  records, read with the same `issue_fields`).
- `useSoftwareApi` (backlog): `true` (Port's default) reads Cloud's `rest/software/1.0`
  backlog; `false` is refused (see `REFUSED_SOFTWARE_API`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

# What the source always asks Jira to expand on project pages (manifest `project_expand`):
# Cloud `project/search` offers all six (REST v3 "Get projects paginated"); Server's `project`
# list takes `expand` too but has no project insight, so `insight` stays absent there.
PROJECT_EXPAND = ("description", "lead", "issueTypes", "url", "projectKeys", "insight")

# Jira's `expand` values for issues in a search (Cloud REST v3 "Search for issues using JQL
# enhanced search", Server REST v2 "search"), less `versionedRepresentations`, refused below.
ISSUE_EXPAND = (
    "renderedFields",
    "names",
    "schema",
    "transitions",
    "operations",
    "editmeta",
    "changelog",
)
ALL_FIELDS = "*all"
# Port's default `selector.jql` of a backlog resource (port-labs/ocean integrations/jira
# `jira/overrides.py` `JiraBacklogSelector`): recently updated or incomplete issues.
BACKLOG_JQL = "updated >= -1w OR statusCategory != Done"
REFUSED_SOFTWARE_API = (
    "selector.useSoftwareApi false asks for Jira Cloud's rest/agile/1.0 backlog endpoint, which "
    "Atlassian removed on November 1, 2026; remove the key (the backlog is read from "
    "rest/software/1.0 on Cloud, and from rest/agile/1.0, the only one there, on Server / Data "
    "Center)"
)

# Keys of Port's selectors this connector refuses, with the reason.
REFUSED_KEYS: dict[str, str] = {
    "exportEnvVariables": (
        "it adds environment variables to Port's lakehouse (data stream) ingest of Ocean "
        "integrations; this connector writes catalog entities only"
    ),
}
REFUSED_EXPAND: dict[str, str] = {
    "versionedRepresentations": (
        "it replaces an issue's `fields` with every version of each field, and the source reads "
        "`fields.updated` as its cursor; map `fields` instead"
    ),
}

# Keys of Port's selectors refused on one kind, with the reason (port-labs/ocean
# `integrations/jira/jira/overrides.py` JiraWorklogSelector: `jql`, default "updated >= -1w", and
# `apiQueryParams` with `startedAfter`, `startedBefore`, `expand`).
REFUSED_KEYS_OF_KIND: dict[str, dict[str, str]] = {
    "worklog": {
        "jql": (
            "worklogs are read incrementally from Jira's list of changed worklogs, not per "
            "issue of a JQL; scope them with the source's `projects` option, or select them "
            'with `selector.query` (e.g. `.__issueKey | startswith("PROJ-")`)'
        ),
        "apiQueryParams": (
            "worklogs are read incrementally from Jira's list of changed worklogs, which takes "
            "no `startedAfter`, `startedBefore` or `expand`; select by start time with "
            "`selector.query` on `.started`"
        ),
    },
}

# Selector keys the resources of each of Port's kinds take, besides `query`.
_KEYS_OF_KIND: dict[str, frozenset[str]] = {
    "project": frozenset({"expand"}),
    "issue": frozenset({"expand", "fields", "jql"}),
    "team": frozenset({"includeMembers"}),
    "worklog": frozenset(),
    "backlog": frozenset({"jql", "fields", "useSoftwareApi"}),
    "component": frozenset({"componentSource", "nameFilter"}),
    "board": frozenset({"boardType", "projectKey"}),
    "sprint": frozenset({"sprintState"}),
    "epic": frozenset({"status"}),
}

# Port's `componentSource` values (ocean `ComponentSource`) this connector refuses, with why.
REFUSED_COMPONENT_SOURCES: dict[str, str] = {
    "compass": (
        "Compass components belong to Atlassian Compass, another product; this connector reads "
        "the project components of Jira itself (componentSource: jira)"
    ),
    "auto": (
        "it adds Compass components, which belong to Atlassian Compass, another product; this "
        "connector reads the project components of Jira itself (componentSource: jira)"
    ),
}

# Port's board, sprint and epic selectors (port-labs/ocean integrations/jira/jira/overrides.py
# JiraBoardSelector, JiraSprintSelector, JiraEpicSelector): their values and defaults.
BOARD_TYPES = ("scrum", "kanban", "simple")
SPRINT_STATES = ("active", "closed", "future")
EPIC_STATUSES = ("incomplete", "complete")
# kind -> (selector key, its values, Port's default when the key is absent)
_STATE_LISTS: dict[str, tuple[str, tuple[str, ...], list[str]]] = {
    "sprint": ("sprintState", SPRINT_STATES, ["active"]),
    "epic": ("status", EPIC_STATUSES, ["incomplete"]),
}


class SelectorError(ValueError):
    """A selector key or value this connector cannot honour; the message names it."""


@dataclasses.dataclass(frozen=True)
class Selector:
    """A resource's selector: its jq `query` and what it asks the source to read."""

    query: str = "true"
    fields: tuple[str, ...] = (ALL_FIELDS,)
    expand: tuple[str, ...] = ()
    backlog_jql: str | None = None  # a backlog resource's `jql` ("" for the whole backlog)


def parse_selector(kind: str, raw: Mapping[str, Any]) -> Selector:
    """Read the `selector` of a resource of Port's `kind` (`project`, `issue`, ...).

    Raises `SelectorError` naming each key or value that cannot be honoured, and why.
    """
    problems = [
        f"selector.{key} is not supported: {reason}"
        for key, reason in REFUSED_KEYS.items()
        if key in raw
    ]
    refused_here = REFUSED_KEYS_OF_KIND.get(kind, {})
    problems += [
        f"selector.{key} is not supported on kind {kind}: {reason}"
        for key, reason in refused_here.items()
        if key in raw
    ]
    allowed = _KEYS_OF_KIND.get(kind, frozenset())
    problems += [
        f"selector.{key} does not apply to kind {kind} (it takes: "
        f"{', '.join(sorted({'query', *allowed}))})"
        for key in raw
        if key not in allowed and key != "query" and key not in {*REFUSED_KEYS, *refused_here}
    ]
    expand = split_names(raw.get("expand"))
    if kind == "project":
        problems += _unknown(expand, PROJECT_EXPAND, "project", {})
    elif kind == "issue":
        problems += _unknown(expand, ISSUE_EXPAND, "issue", REFUSED_EXPAND)
    if kind == "issue" and raw.get("jql") == "":
        problems.append("selector.jql is empty: remove it to map every issue")
    if kind == "backlog":
        problems += _backlog_problems(raw)
    query = raw.get("query", "true")
    if kind == "component":
        problems += _component_source_problems(raw)
        query = _with_name_filter(query, raw, problems)
    condition, agile_problems = agile_filter(kind, raw)
    problems += agile_problems
    if problems:
        raise SelectorError("; ".join(problems))
    fields = split_names(raw.get("fields")) or (ALL_FIELDS,)
    if condition is not None:
        query = f"if {condition} then ({query}) else false end"
    backlog_jql = raw.get("jql", BACKLOG_JQL) if kind == "backlog" else None
    return Selector(query=query, fields=fields, expand=expand, backlog_jql=backlog_jql)


def _component_source_problems(raw: Mapping[str, Any]) -> list[str]:
    source = raw.get("componentSource", "jira")
    if source in REFUSED_COMPONENT_SOURCES:
        return [
            f"selector.componentSource {source} is not supported: "
            f"{REFUSED_COMPONENT_SOURCES[source]}"
        ]
    if source != "jira":
        return [f"selector.componentSource {source!r} is not one of jira, compass, auto"]
    return []


def _with_name_filter(query: str, raw: Mapping[str, Any], problems: list[str]) -> str:
    """Return `query` ANDed with the selector's `nameFilter`, as a jq condition."""
    if "nameFilter" not in raw:
        return query
    name_filter = raw["nameFilter"]
    if not isinstance(name_filter, str) or not name_filter:
        problems.append("selector.nameFilter must be a non-empty string, e.g. nameFilter: api")
        return query
    matches = (
        f"({json.dumps(name_filter)} | ascii_downcase) as $__name_filter | "
        '[.name, .description] | map((. // "") | ascii_downcase | contains($__name_filter)) '
        "| any"
    )
    return f"({query}) and ({matches})"


def agile_filter(kind: str, raw: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """Return the jq condition Port's board, sprint or epic selector keys mean, and problems.

    None when nothing is filtered. Values are checked as Port's integration checks them.
    """
    conditions: list[str] = []
    problems: list[str] = []
    if kind == "board":
        board_type = raw.get("boardType")
        if board_type is not None and board_type not in BOARD_TYPES:
            problems.append(f"selector.boardType must be one of {', '.join(BOARD_TYPES)} or null")
        elif board_type is not None:
            conditions.append(f".type == {json.dumps(board_type)}")
        project = raw.get("projectKey")
        if project is not None and (not isinstance(project, str) or not project.strip()):
            problems.append("selector.projectKey must be a project key or id, or null")
        elif project is not None:
            value = json.dumps(project)
            conditions.append(
                f"((.location.projectKey // null) == {value} or "
                f"((.location.projectId // null) | tostring) == {value})"
            )
    if kind in _STATE_LISTS:
        key, allowed, default = _STATE_LISTS[kind]
        states = raw.get(key, default)
        if states is not None and (
            not isinstance(states, list)
            or not states
            or any(state not in allowed for state in states)
            or len(set(states)) != len(states)
        ):
            problems.append(
                f"selector.{key} must be a list of distinct values of {', '.join(allowed)}, "
                "or null for all"
            )
        elif states is not None and set(states) != set(allowed):
            conditions.append(_state_condition(kind, states))
    return (" and ".join(conditions) or None), problems


def _state_condition(kind: str, states: list[str]) -> str:
    if kind == "epic":  # one of the two statuses: Jira's `done` says which
        return ".done == true" if states == ["complete"] else ".done != true"
    return "(" + " or ".join(f".state == {json.dumps(state)}" for state in states) + ")"


def _backlog_problems(raw: Mapping[str, Any]) -> list[str]:
    software = raw.get("useSoftwareApi", True)
    if not isinstance(software, bool):
        return [f"selector.useSoftwareApi must be true or false, got {software!r}"]
    return [] if software else [REFUSED_SOFTWARE_API]


def merged_fields(selectors: Iterable[Selector]) -> str:
    """Return Jira's `fields` parameter that serves every selector (`*all` for none).

    `*all` when any selector wants every field (Port's default), else the union of the fields
    asked for. An exclusion (`-comment`) stays only if no selector asks for the field. The source
    adds the fields it reads itself (see `issue_fields` in the manifest).
    """
    wanted = {name for selector in selectors for name in selector.fields} or {ALL_FIELDS}
    kept = {name for name in wanted if not (name.startswith("-") and name[1:] in wanted)}
    if ALL_FIELDS in kept:
        kept = {name for name in kept if name.startswith("-")} | {ALL_FIELDS}
    return ",".join(sorted(kept, key=lambda name: (not name.startswith("*"), name)))


def merged_expand(selectors: Iterable[Selector]) -> str:
    """Return Jira's `expand` parameter that serves every selector ("" for none)."""
    return ",".join(sorted({name for selector in selectors for name in selector.expand}))


def split_names(value: Any) -> tuple[str, ...]:
    """Read Port's comma-separated string (or a list) of names, in order, without repeats."""
    items = value.split(",") if isinstance(value, str) else (value or [])
    return tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def _unknown(
    names: Iterable[str], known: tuple[str, ...], kind: str, refused: Mapping[str, str]
) -> list[str]:
    problems = []
    for name in names:
        if name in refused:
            problems.append(f"selector.expand {name} is not supported: {refused[name]}")
        elif name not in known:
            problems.append(
                f"selector.expand {name} is not something Jira expands on a {kind} here "
                f"(use any of {', '.join(known)})"
            )
    return problems
