"""The issue query: the JQL of the issues a sync covers and its time bounds, from the config.

Every issue query is built from here. The manifest's searches (issues, the deletion sweep, the
pending retry) read the values `issue_query_config` puts into the config when the source is
built (`components.ResolveJiraSite`, after the spec's defaults); the first sync's planner
(`first_sync_windows.py`) and the ETA (`estimate.py`) build their JQL with `issues_jql`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

JIRA_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"
START_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Where a read starts without a `start_date` ("from the beginning").
DEFAULT_START = datetime(2000, 1, 1, tzinfo=UTC)
# Hidden config keys of the issue query:
# - ISSUE_SCOPE: the `projects` and `jql` options as one JQL condition, which every issue
#   search of the manifest ANDs in front of its own bounds;
# - ISSUES_START: where the first window of `issues_incremental_sync` starts (its
#   `start_datetime`, a START_DATE_FORMAT time): `start_date`, else DEFAULT_START, unless the
#   first sync's planner (first_sync_windows.py) moves it to the oldest issue;
# - ISSUES_STEP: how long those windows are (its `step`, an ISO 8601 duration): DEFAULT_STEP,
#   unless the planner cuts the range for the workers.
# - RESOURCE_JQL (set by `jira-port sync`, not in the spec): the `selector.jql` of each issue
#   resource of the Port mapping, by resource index (None for one without); when every one has
#   a JQL, the scope covers their union (each resource maps only the issues its own JQL
#   matches: `resource_jql.py`).
# - BACKLOG_SCOPE: the `jql` of each board's backlog read: the `projects` and `jql` options and
#   the `backlog_jql` option, ANDed ("" when none is set); not the issue resources' JQL.
ISSUE_SCOPE = "issue_scope"
BACKLOG_SCOPE = "_backlog_scope"
RESOURCE_JQL = "_resource_jql"
ISSUES_START = "_issues_start"
ISSUES_STEP = "_issues_step"
DEFAULT_STEP = "P30D"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def issue_query_config(config: Mapping[str, Any]) -> dict[str, str]:
    """Return the hidden config values the manifest's issue searches read (see above)."""
    return {
        ISSUE_SCOPE: issue_scope_jql(config),
        BACKLOG_SCOPE: backlog_scope_jql(config),
        ISSUES_START: config.get("start_date") or f"{DEFAULT_START:{START_DATE_FORMAT}}",
        ISSUES_STEP: DEFAULT_STEP,
    }


def issue_scope_jql(config: Mapping[str, Any]) -> str:
    """Return the `projects` and `jql` options ANDed as JQL, or "" when neither is set.

    With `RESOURCE_JQL` where every issue resource has a JQL, their union is ANDed too.
    """
    clauses = []
    if config.get("projects"):
        clauses.append("project in (" + ", ".join(f'"{key}"' for key in config["projects"]) + ")")
    if config.get("jql"):
        clauses.append(f"({config['jql']})")
    resource_jql = list((config.get(RESOURCE_JQL) or {}).values())
    if resource_jql and None not in resource_jql:
        clauses.append("(" + " OR ".join(f"({jql})" for jql in resource_jql) + ")")
    return " AND ".join(clauses)


def in_projects_option(project_key: str | None, config: Mapping[str, Any]) -> bool:
    """Whether the `projects` option lets in the project `project_key` (no option: every one).

    The one home of that rule: the projects stream's record filter
    (`components.ProjectsOptionFilter`) and the webhook receiver's project events use it.
    """
    wanted = config.get("projects")
    return not wanted or project_key in wanted


def backlog_scope_jql(config: Mapping[str, Any]) -> str:
    """Return the `projects`, `jql` and `backlog_jql` options ANDed as JQL, or "" for none."""
    scope = issue_scope_jql({key: config.get(key) for key in ("projects", "jql")})
    backlog = config.get("backlog_jql")
    return " AND ".join(clause for clause in (scope, backlog and f"({backlog})") if clause)


def issues_jql(config: Mapping[str, Any], cursor: str | None, until: datetime | None = None) -> str:
    """Return the JQL of the issues a sync from `cursor` reads, without ORDER BY.

    The scope, then `updated >=` the read's lower bound (`sync_start`), and `updated <=` `until`
    when given (the manifest's windows end at the sync's start). Bounds are epoch milliseconds,
    which Jira does not read in the user's time zone.
    """
    scope = issue_scope_jql(config)
    clauses = [scope] if scope else []
    clauses.append(f"updated >= {epoch_ms(sync_start(config, cursor))}")
    if until is not None:
        clauses.append(f"updated <= {epoch_ms(until)}")
    return " AND ".join(clauses)


def sync_start(config: Mapping[str, Any], cursor: str | None) -> datetime:
    """Return the read's lower bound, not before `start_date`.

    With a cursor: the cursor minus the search index delay and the lookback (the manifest's
    `lookback_window`), so what the index had not caught up with last time is read again.
    `config` has the spec's defaults (`components.ResolveJiraSite`).
    """
    start = DEFAULT_START
    if config.get("start_date"):
        start = datetime.strptime(config["start_date"], START_DATE_FORMAT).replace(tzinfo=UTC)
    if cursor:
        lookback = timedelta(
            minutes=config["lookback_window_minutes"], seconds=config["search_index_delay_seconds"]
        )
        start = max(start, datetime.strptime(cursor, JIRA_TIME_FORMAT) - lookback)
    return start


def epoch_ms(moment: datetime) -> int:
    """Return `moment` as epoch milliseconds, the zone-free form JQL bounds use."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)
