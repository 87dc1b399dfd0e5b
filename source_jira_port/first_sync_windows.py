"""Time windows for a first issue sync, planned so that concurrent workers share the work.

Issues are paged by key set on (updated, id) inside each `updated` window, so one window is read
page after page: the only concurrency is between windows. The manifest's default windows start
at `start_date` (or 2000) and are a fixed step long, which on a typical site makes most windows
empty and leaves a few full ones to a few workers. Before a read without saved state, three
small requests find the oldest and newest `updated` in the sync's scope and Jira's count of its
issues; the windows then start at the oldest issue (no issue can later be updated before it) and
are cut so that each worker gets a few of them:

- `ISSUES_START`: the oldest issue's `updated`, rounded down to the second;
- `ISSUES_STEP`: the window length, about (newest - oldest) / windows, where windows is the
  issue count / (2 pages), at most 4 per worker, and at least a minute.

Nothing is planned (the manifest's defaults apply) with one worker, with saved state (an
incremental sync reads from its cursor, usually a short range), for a range shorter than a
month, or when a probe fails: planning only ever costs speed, never a record. The probes go
through the Jira client, so a rate limit (429, 503) is waited out and retried as in the read,
and an answer that proves the config wrong (401, 403, a bad JQL) stops the probes and, through
the run's `ConfigFailure`, fails the read before it sends a request. The oldest issue is asked
for first, alone, so a wrong password costs one failed login, not three.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalog, SyncMode
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.cdk_compat import state_values
from source_jira_port.estimate import count_issues
from source_jira_port.issue_query import (
    ISSUES_START,
    ISSUES_STEP,
    JIRA_TIME_FORMAT,
    START_DATE_FORMAT,
    issues_jql,
    sync_start,
)
from source_jira_port.jira_client import JiraClient, search_path
from source_jira_port.rate_limit import RUN_ID, config_failure_for
from source_jira_port.stream_names import ISSUES

_LOGGER = logging.getLogger("airbyte")
_MIN_RANGE = timedelta(days=30)
_MIN_STEP = timedelta(minutes=1)
_PAGES_PER_WINDOW = 2
_WINDOWS_PER_WORKER = 4
# Windows after the newest issue (up to now) may add at most this many empty windows per window.
_TAIL_FACTOR = 2


def plan_issue_windows(
    config: MutableMapping[str, Any],
    catalog: ConfiguredAirbyteCatalog | None,
    state: list[AirbyteStateMessage] | None,
    client: JiraClient,
    now: datetime | None = None,
) -> None:
    """Add `ISSUES_START` and `ISSUES_STEP` to `config` when a plan helps (module docstring).

    `config` is the resolved config (`api_base`, `resolved_deployment`, the spec's defaults);
    `client` sends the probes. Errors are logged and leave `config` as it was.
    """
    workers = int(config["num_workers"])
    if workers < 2 or "api_base" not in config or not _reads_issues_from_scratch(catalog, state):
        return
    if config_failure_for(config.get(RUN_ID)).message is not None:
        return  # the run has failed already (a bad jql): the read sends nothing
    now = now or datetime.now(UTC)
    lower = sync_start(config, None)
    upper = now  # the sync reads up to its start (manifest `end_datetime`)
    if upper - lower < _MIN_RANGE:
        return
    try:
        plan = _plan(client, config, upper, workers)
    except AirbyteTracedException as error:
        _LOGGER.info("Issue windows not planned: %s", error.message)
        return
    except (ValueError, KeyError, TypeError, IndexError) as error:
        _LOGGER.info("Issue windows not planned, the default ones are read (%s)", error)
        return
    if plan is not None:
        config[ISSUES_START], config[ISSUES_STEP] = plan


def _reads_issues_from_scratch(
    catalog: ConfiguredAirbyteCatalog | None, state: list[AirbyteStateMessage] | None
) -> bool:
    """Whether the catalog reads issues, in full refresh or incrementally without a state."""
    streams = [s for s in (catalog.streams if catalog else []) if s.stream.name == ISSUES]
    if not streams:
        return False
    if streams[0].sync_mode != SyncMode.incremental:
        return True
    for message in state or []:
        stream = getattr(message, "stream", None)
        if stream is not None and stream.stream_descriptor.name == ISSUES:
            return not state_values(stream.stream_state)  # `{}` too: a re-read after a remap
    return True


def _plan(
    client: JiraClient, config: Mapping[str, Any], upper: datetime, workers: int
) -> tuple[str, str] | None:
    """Probe Jira (the oldest issue, then two requests at once) and return (start, step).

    Return None when the scope has no issue.
    """
    scope = issues_jql(config, None, until=upper)
    first = _edge(client, config, scope, "ASC")
    if first is None:
        return None
    with ThreadPoolExecutor(max_workers=2) as pool:
        newest = pool.submit(_edge, client, config, scope, "DESC")
        count = pool.submit(count_issues, client, config, scope)
        last = newest.result()
        if last is None:
            return None
        try:
            issues: int | None = count.result()
        except (AirbyteTracedException, ValueError, KeyError, TypeError):
            issues = None
    page_size = int(config["page_size"])
    most = _WINDOWS_PER_WORKER * workers
    windows = most if issues is None else math.ceil(issues / (_PAGES_PER_WINDOW * page_size))
    windows = min(max(windows, 1), most)
    start = first.replace(microsecond=0)
    step = max(
        (last - start) / windows, (upper - start) / (windows * (_TAIL_FACTOR + 1)), _MIN_STEP
    )
    first_window = start.astimezone(UTC).strftime(START_DATE_FORMAT)
    return first_window, f"PT{math.ceil(step.total_seconds())}S"


def _edge(client: JiraClient, config: Mapping[str, Any], scope: str, order: str) -> datetime | None:
    """Return the `updated` of the first issue of `scope` by `updated` `order`, or None."""
    params = {"jql": f"{scope} ORDER BY updated {order}", "maxResults": "1", "fields": "updated"}
    issues = client.get(search_path(config), params).get("issues") or []
    if not issues:
        return None
    return datetime.strptime(issues[0]["fields"]["updated"], JIRA_TIME_FORMAT)
