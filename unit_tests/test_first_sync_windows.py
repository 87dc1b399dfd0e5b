"""Issue windows planned for a first sync: from the oldest issue, a few per worker."""

from datetime import UTC, datetime
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.state_builder import StateBuilder

from integration_tests.support.configs import CLOUD_URL, cloud_config
from integration_tests.support.reads import query
from integration_tests.support.records import search_issue
from source_jira_port.config_problems import source_spec_defaults
from source_jira_port.first_sync_windows import plan_issue_windows
from source_jira_port.jira_client import JiraClient

_SEARCH = f"{CLOUD_URL}/rest/api/3/search/jql"
_COUNT = f"{CLOUD_URL}/rest/api/3/search/approximate-count"
_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _config(**overrides: Any) -> dict[str, Any]:
    resolved = {"api_base": CLOUD_URL, "resolved_deployment": "cloud", "num_workers": 4}
    return source_spec_defaults() | cloud_config(**resolved) | overrides


def _catalog(sync_mode: SyncMode = SyncMode.full_refresh) -> Any:
    return CatalogBuilder().with_stream("issues", sync_mode).build()


def _serve(requests_mock: Any, count: int = 1000) -> Any:
    def search(request: Any, context: Any) -> dict[str, Any]:
        descending = query(request)["jql"][0].endswith("DESC")
        updated = "2025-01-01T00:00:00.000+0000" if descending else "2024-01-01T12:34:56.789+0100"
        return {"issues": [search_issue(1, updated)], "isLast": True}

    requests_mock.post(_COUNT, json={"count": count})
    return requests_mock.get(_SEARCH, json=search)


def test_windows_start_at_the_oldest_issue_and_split_its_range(requests_mock: Any) -> None:
    search = _serve(requests_mock, count=1000)
    config = _config()

    plan_issue_windows(config, _catalog(), None, JiraClient(config), now=_NOW)

    # 1000 issues / 2 pages of 100 = 5 windows over 2024-01-01T11:34:56Z .. 2025-01-01
    assert config["_issues_start"] == "2024-01-01T11:34:56Z"
    assert config["_issues_step"] == "PT6316141S"  # (2025-01-01 - start) / 5, rounded up
    jqls = [query(r)["jql"][0] for r in search.request_history]
    assert sorted(j.rsplit(" ORDER BY ", 1)[1] for j in jqls) == ["updated ASC", "updated DESC"]
    assert all(j.startswith("updated >= 1704067200000 AND updated <= ") for j in jqls)


def test_at_most_four_windows_a_worker(requests_mock: Any) -> None:
    _serve(requests_mock, count=1_000_000)
    config = _config()
    plan_issue_windows(config, _catalog(), None, JiraClient(config), now=_NOW)
    span = datetime(2025, 1, 1, tzinfo=UTC) - datetime(2024, 1, 1, 11, 34, 56, tzinfo=UTC)
    assert config["_issues_step"] == f"PT{-(-span.total_seconds() // 16):.0f}S"


@pytest.mark.parametrize(
    ("overrides", "state"),
    [
        ({"num_workers": 1}, None),  # one worker reads windows one after another anyway
        ({"start_date": "2025-12-15T00:00:00Z"}, None),  # a short range
        ({}, {"updated": "2025-06-01T00:00:00.000000+0000"}),  # incremental from a cursor
    ],
)
def test_nothing_is_planned_or_asked_when_it_would_not_help(
    requests_mock: Any, overrides: dict[str, Any], state: dict[str, Any] | None
) -> None:
    search = _serve(requests_mock)
    config = _config(**overrides)
    before = dict(config)
    messages = StateBuilder().with_stream_state("issues", state).build() if state else None

    catalog = _catalog(SyncMode.incremental)
    plan_issue_windows(config, catalog, messages, JiraClient(config), now=_NOW)

    assert config == before
    assert search.call_count == 0


def test_a_failed_probe_leaves_the_default_windows(requests_mock: Any) -> None:
    requests_mock.get(_SEARCH, status_code=401, json={"errorMessages": ["no"]})
    requests_mock.post(_COUNT, json={"count": 10})
    config = _config()
    before = dict(config)
    plan_issue_windows(config, _catalog(), None, JiraClient(config), now=_NOW)
    assert config == before
