"""The issue query: the JQL of the issues a sync covers and its time bounds, from the config.

Every issue query is built from here: the manifest's searches take the scope from the config
(`issue_scope`, set by `components.ResolveJiraSite`) and their windows from `ISSUES_START` and
`ISSUES_STEP`; the first sync's planner (`windows.py`) and the ETA (`estimate.py`) build theirs
with `issues_jql`. The formats and the default start are the manifest's
`issues_incremental_sync`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

JIRA_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"
START_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DEFAULT_START = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_INDEX_DELAY_SECONDS = 60
# Hidden config keys the manifest's `issues_incremental_sync` reads: where the first window
# starts (`start_datetime`, a START_DATE_FORMAT time) and how long windows are (`step`, an ISO
# 8601 duration). The first sync's planner sets them (windows.py); without them the windows
# start at `start_date` and last 30 days.
ISSUES_START = "_issues_start"
ISSUES_STEP = "_issues_step"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def issue_scope_jql(config: Mapping[str, Any]) -> str:
    """Return the `projects` and `jql` options ANDed as JQL, or "" when neither is set."""
    clauses = []
    if config.get("projects"):
        clauses.append("project in (" + ", ".join(f'"{key}"' for key in config["projects"]) + ")")
    if config.get("jql"):
        clauses.append(f"({config['jql']})")
    return " AND ".join(clauses)


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
    """
    start = DEFAULT_START
    if config.get("start_date"):
        start = datetime.strptime(config["start_date"], START_DATE_FORMAT).replace(tzinfo=UTC)
    if cursor:
        lookback = timedelta(
            minutes=config.get("lookback_window_minutes", 0),
            seconds=config.get("search_index_delay_seconds", DEFAULT_INDEX_DELAY_SECONDS),
        )
        start = max(start, datetime.strptime(cursor, JIRA_TIME_FORMAT) - lookback)
    return start


def epoch_ms(moment: datetime) -> int:
    """Return `moment` as epoch milliseconds, the zone-free form JQL bounds use."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)
