"""Issue search: JQL, cursor bounds, both paging styles, records."""

import re
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from airbyte_cdk.models import SyncMode

from integration_tests.support.configs import CLOUD_URL, SERVER_URL, cloud_config, server_config
from integration_tests.support.reads import query, read_stream
from integration_tests.support.records import search_issue

_CLOUD_SEARCH = f"{CLOUD_URL}/rest/api/3/search/jql"
_SERVER_SEARCH = f"{SERVER_URL}/rest/api/2/search"
# One window, from yesterday to now: one search per page.
_RECENT = {"start_date": (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
_BOUNDS = re.compile(r"updated >= (\d+) AND updated <= (\d+) ORDER BY updated ASC, id ASC$")
_AFTER = re.compile(r"\(updated > (\d+) OR updated = \d+ AND id > (\d+)\) AND updated <= (\d+)")


def _windows(search: Any) -> list[tuple[int, int]]:
    """The (from, to) epoch-ms bounds of every search sent, in time order."""
    bounds = [_BOUNDS.search(query(request)["jql"][0]) for request in search.request_history]
    return sorted((int(b[1]), int(b[2])) for b in bounds if b)


def test_jql_ands_projects_and_user_filter_with_epoch_ms_bounds(requests_mock: Any) -> None:
    search = requests_mock.get(_CLOUD_SEARCH, json={"issues": [], "isLast": True})
    requests_mock.post(f"{CLOUD_URL}/rest/api/3/jql/parse", json={"queries": [{"query": "x"}]})
    config = cloud_config(projects=["PROJ", "OPS"], jql="status != Done OR labels = x")

    read_stream(
        config, "issues", SyncMode.incremental, state={"updated": "2024-06-05T10:00:00.000000+0200"}
    )

    jqls = {query(request)["jql"][0] for request in search.request_history}
    scope = 'project in ("PROJ", "OPS") AND (status != Done OR labels = x) AND '
    # The issue read, and the deletion sweep that follows it.
    assert {_BOUNDS.sub("", jql) for jql in jqls if _BOUNDS.search(jql)} == {scope}
    assert {jql for jql in jqls if not _BOUNDS.search(jql)} == {f"{scope}id > 0 ORDER BY id ASC"}
    # The saved cursor (08:00 UTC) minus the default search index delay (60 s).
    assert _windows(search)[0][0] == 1717574400000 - 60_000


def test_windows_cover_cursor_less_the_index_delay_to_the_syncs_start_without_gap_or_overlap(
    requests_mock: Any,
) -> None:
    search = requests_mock.get(_CLOUD_SEARCH, json={"issues": [], "isLast": True})
    started = time.time() * 1000
    read_stream(
        cloud_config(search_index_delay_seconds=90),
        "issues",
        SyncMode.incremental,
        state={"updated": "2024-06-05T08:00:00.000000+0000"},
    )
    windows = _windows(search)
    assert windows[0][0] == 1717574400000 - 90_000
    assert all(after[0] == before[1] + 1 for before, after in pairwise(windows))
    assert started <= windows[-1][1] <= time.time() * 1000


def test_state_in_any_time_zone_gives_the_same_utc_bound(requests_mock: Any) -> None:
    search = requests_mock.get(_CLOUD_SEARCH, json={"issues": [], "isLast": True})
    read_stream(
        cloud_config(),
        "issues",
        SyncMode.incremental,
        state={"updated": "2024-06-05T08:00:00.000000+0000"},
    )
    read_stream(
        cloud_config(),
        "issues",
        SyncMode.incremental,
        state={"updated": "2024-06-05T03:00:00.000000-0500"},
    )
    lower_bounds = {_windows(search)[0][0], min(_windows(search)[1:])[0]}
    assert lower_bounds == {1717574400000 - 60_000}


def test_lookback_window_moves_the_lower_bound_back(requests_mock: Any) -> None:
    search = requests_mock.get(_CLOUD_SEARCH, json={"issues": [], "isLast": True})
    config = cloud_config(lookback_window_minutes=5)
    read_stream(
        config, "issues", SyncMode.incremental, state={"updated": "2024-06-05T08:00:00.000000+0000"}
    )
    assert _windows(search)[0][0] == 1717574400000 - 5 * 60 * 1000 - 60_000


def _serve_by_key_set(issues: list[dict[str, Any]], clamp: int, cloud: bool) -> Any:
    """A search that honours the key-set JQL the way Jira does, serving `clamp` issues a page."""

    def search(request: Any, context: Any) -> dict[str, Any]:
        jql = query(request)["jql"][0]
        after, bounds = _AFTER.search(jql), _BOUNDS.search(jql)
        if after:  # strictly after the last (updated, id) read
            start, high = (int(after[1]), int(after[2]) + 1), int(after[3])
        else:  # the window's first page includes its lower bound
            assert bounds is not None
            start, high = (int(bounds[1]), 0), int(bounds[2])
        positions = sorted(((_ms(i["fields"]["updated"]), int(i["id"])), i) for i in issues)
        matching = [i for position, i in positions if start <= position and position[0] <= high]
        page = matching[:clamp]
        if cloud:
            return {"issues": page, "isLast": len(page) == len(matching)}
        return {"startAt": 0, "maxResults": clamp, "total": len(matching), "issues": page}

    return search


def _ms(jira_time: str) -> int:
    return int(datetime.strptime(jira_time, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def _recent(seconds_ago: int) -> str:
    moment = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def test_pages_follow_updated_then_id_through_a_bulk_edit_cluster(requests_mock: Any) -> None:
    """Twelve issues share one `updated` millisecond; pages of five walk them by id."""
    cluster = _recent(3600)
    issues = [search_issue(n, cluster) for n in range(1, 13)] + [search_issue(20, _recent(1800))]
    search = requests_mock.get(_CLOUD_SEARCH, json=_serve_by_key_set(issues, 5, cloud=True))

    output = read_stream(cloud_config(**_RECENT, page_size=5), "issues")

    assert sorted(r.record.data["key"] for r in output.records) == sorted(i["key"] for i in issues)
    assert len(output.records) == len(issues)
    afters = [_AFTER.search(query(r)["jql"][0]) for r in search.request_history]
    assert [(int(a[1]), int(a[2])) if a else None for a in afters] == [
        None,
        (_ms(cluster), 10005),
        (_ms(cluster), 10010),
    ]
    assert all(
        q["fields"] == ["*all"] and q["maxResults"] == ["5"]
        for q in map(query, search.request_history)
    )
    assert all(
        "nextPageToken" not in query(r) and "startAt" not in query(r)
        for r in search.request_history
    )


def test_server_pages_by_key_set_when_the_server_clamps_and_stops_on_total(
    requests_mock: Any,
) -> None:
    issues = [search_issue(n, _recent(3000 - n * 100)) for n in range(1, 6)]
    search = requests_mock.get(_SERVER_SEARCH, json=_serve_by_key_set(issues, 2, cloud=False))

    output = read_stream(server_config(**_RECENT), "issues")

    assert [r.record.data["key"] for r in output.records] == [f"PROJ-{n}" for n in range(1, 6)]
    assert search.call_count == 3


def test_a_short_cloud_page_is_not_the_end(requests_mock: Any) -> None:
    issues = [search_issue(n, _recent(3000 - n * 100)) for n in range(1, 4)]
    search = requests_mock.get(_CLOUD_SEARCH, json=_serve_by_key_set(issues, 1, cloud=True))
    output = read_stream(cloud_config(**_RECENT, page_size=50), "issues")
    assert len(output.records) == 3
    assert search.call_count == 3


def test_records_carry_cursor_and_project_at_top_level(requests_mock: Any) -> None:
    requests_mock.get(
        _SERVER_SEARCH,
        json={
            "startAt": 0,
            "maxResults": 50,
            "total": 1,
            "issues": [search_issue(7, "2099-01-01T10:00:00.123+0200")],
        },
    )
    data = read_stream(server_config(**_RECENT), "issues").records[0].record.data
    assert data["updated"] == data["created"] == data["fields"]["updated"]
    assert (data["projectKey"], data["projectId"]) == ("PROJ", "100")
    assert data["fields"]["summary"] == "Issue 7"


def test_future_state_sends_no_search(requests_mock: Any) -> None:
    search = requests_mock.get(_CLOUD_SEARCH, json={"issues": [], "isLast": True})
    output = read_stream(
        cloud_config(),
        "issues",
        SyncMode.incremental,
        state={"updated": "2999-01-01T00:00:00.000000+0000"},
    )
    assert output.records == []
    assert search.call_count == 0
    assert output.most_recent_state.stream_state.updated == "2999-01-01T00:00:00.000000+0000"
