"""The issues a sync covers: the JQL condition and the time bound built from the config.

The formats and the default start are the manifest's `issues_incremental_sync`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

JIRA_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"
START_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DEFAULT_START = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_INDEX_DELAY_SECONDS = 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def issue_scope_jql(config: Mapping[str, Any]) -> str:
    """Return the `projects` and `jql` options ANDed as JQL, or "" when neither is set."""
    clauses = []
    if config.get("projects"):
        clauses.append("project in (" + ", ".join(f'"{key}"' for key in config["projects"]) + ")")
    if config.get("jql"):
        clauses.append(f"({config['jql']})")
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
