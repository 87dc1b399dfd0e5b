"""Issue search: JQL, cursor bounds, both paging styles, records."""

import re
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from airbyte_cdk.models import SyncMode

from unit_tests.conftest import (
    CLOUD_URL,
    SERVER_URL,
    cloud_config,
    issue,
    query,
    read_stream,
    server_config,
)

_CLOUD_SEARCH = f"{CLOUD_URL}/rest/api/3/search/jql"
_SERVER_SEARCH = f"{SERVER_URL}/rest/api/2/search"
# One window, from yesterday to now: one search per page.
_RECENT = {"start_date": (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
_BOUNDS = re.compile(r"updated >= (\d+) AND updated <= (\d+) ORDER BY updated ASC, key ASC$")


def _windows(search: Any) -> list[tuple[int, int]]:
    """The (from, to) epoch-ms bounds of every search sent, in time order."""
    bounds = [_BOUNDS.search(query(request)["jql"][0]) for request in search.request_history]
    return sorted((int(b[1]), int(b[2])) for b in bounds if b)


def test_jql_ands_projects_and_user_filter_with_epoch_ms_bounds(requests_mock: Any) -> None:
    search = requests_mock.get(_CLOUD_SEARCH, json={"issues": [], "isLast": True})
    config = cloud_config(projects=["PROJ", "OPS"], jql="status != Done OR labels = x")

    read_stream(
        config, "issues", SyncMode.incremental, state={"updated": "2024-06-05T10:00:00.000000+0200"}
    )

    jqls = {_BOUNDS.sub("", query(request)["jql"][0]) for request in search.request_history}
    assert jqls == {'project in ("PROJ", "OPS") AND (status != Done OR labels = x) AND '}
    assert _windows(search)[0][0] == 1717574400000


def test_windows_cover_state_to_now_without_gap_or_overlap(requests_mock: Any) -> None:
    search = requests_mock.get(_CLOUD_SEARCH, json={"issues": [], "isLast": True})
    started = time.time() * 1000
    read_stream(
        cloud_config(),
        "issues",
        SyncMode.incremental,
        state={"updated": "2024-06-05T08:00:00.000000+0000"},
    )
    windows = _windows(search)
    assert windows[0][0] == 1717574400000
    assert all(after[0] == before[1] + 1 for before, after in pairwise(windows))
    assert started - 1000 <= windows[-1][1] <= time.time() * 1000


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
    assert lower_bounds == {1717574400000}


def test_lookback_window_moves_the_lower_bound_back(requests_mock: Any) -> None:
    search = requests_mock.get(_CLOUD_SEARCH, json={"issues": [], "isLast": True})
    config = cloud_config(lookback_window_minutes=5)
    read_stream(
        config, "issues", SyncMode.incremental, state={"updated": "2024-06-05T08:00:00.000000+0000"}
    )
    assert _windows(search)[0][0] == 1717574400000 - 5 * 60 * 1000


def test_cloud_asks_all_fields_and_follows_next_page_token_until_is_last(
    requests_mock: Any,
) -> None:
    pages = [
        {
            "issues": [issue(1, "2099-01-01T00:00:01.000+0000")],
            "nextPageToken": "t1",
            "isLast": False,
        },
        # a short page is not the end
        {"issues": [], "nextPageToken": "t2", "isLast": False},
        {"issues": [issue(2, "2099-01-01T00:00:02.000+0000")], "isLast": True},
    ]
    search = requests_mock.get(_CLOUD_SEARCH, [{"json": page} for page in pages])

    output = read_stream(cloud_config(**_RECENT, page_size=50), "issues")

    assert [r.record.data["key"] for r in output.records] == ["PROJ-1", "PROJ-2"]
    sent = [query(request) for request in search.request_history]
    assert [q.get("nextPageToken") for q in sent] == [None, ["t1"], ["t2"]]
    assert all(q["fields"] == ["*all"] and q["maxResults"] == ["50"] for q in sent)


def test_cloud_stops_when_the_token_is_absent_even_without_is_last(requests_mock: Any) -> None:
    search = requests_mock.get(
        _CLOUD_SEARCH, json={"issues": [issue(1, "2099-01-01T00:00:01.000+0000")]}
    )
    output = read_stream(cloud_config(**_RECENT), "issues")
    assert len(output.records) == 1
    assert search.call_count == 1


def test_server_strides_by_what_came_back_and_stops_on_total(requests_mock: Any) -> None:
    """The server clamps maxResults to 2 although 100 were asked for."""
    issues = [issue(n, f"2099-01-01T00:00:0{n}.000+0000") for n in range(1, 6)]

    def page(request: Any, context: Any) -> dict[str, Any]:
        start = int(query(request).get("startAt", ["0"])[0])
        return {"startAt": start, "maxResults": 2, "total": 5, "issues": issues[start : start + 2]}

    search = requests_mock.get(_SERVER_SEARCH, json=page)
    output = read_stream(server_config(**_RECENT), "issues")

    assert [r.record.data["key"] for r in output.records] == [f"PROJ-{n}" for n in range(1, 6)]
    assert [query(r).get("startAt") for r in search.request_history] == [None, ["2"], ["4"]]


def test_records_carry_cursor_and_project_at_top_level(requests_mock: Any) -> None:
    requests_mock.get(
        _SERVER_SEARCH,
        json={
            "startAt": 0,
            "maxResults": 50,
            "total": 1,
            "issues": [issue(7, "2099-01-01T10:00:00.123+0200")],
        },
    )
    data = read_stream(server_config(**_RECENT), "issues").records[0].record.data
    assert (data["updated"], data["created"]) == ("2099-01-01T10:00:00.123+0200",) * 2
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
