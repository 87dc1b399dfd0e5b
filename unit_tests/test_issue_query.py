"""The issue query built from the config: scope and time bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from source_jira_port.config_problems import source_spec_defaults
from source_jira_port.issue_query import (
    RESOURCE_JQL,
    in_projects_option,
    issue_scope_jql,
    issues_jql,
)

# A config as the source resolves it: the spec's defaults filled in.
_CLOUD = source_spec_defaults() | {"jira_url": "https://acme.atlassian.net"}
_2000 = "updated >= 946684800000"


@pytest.mark.parametrize(
    ("extra", "cursor", "jql"),
    [
        ({}, None, _2000),
        ({"start_date": "2024-01-01T00:00:00Z"}, None, "updated >= 1704067200000"),
        (
            {"projects": ["PLAT", "MOB"], "jql": "status != Done"},
            None,
            f'project in ("PLAT", "MOB") AND (status != Done) AND {_2000}',
        ),
        # The cursor less the search index delay (default 60 s) and the lookback.
        ({}, "2024-06-05T10:00:00.123000+0200", "updated >= 1717574340123"),
        (
            {"search_index_delay_seconds": 0},
            "2024-06-05T10:00:00.123000+0200",
            "updated >= 1717574400123",
        ),
        (
            {"lookback_window_minutes": 60},
            "2024-06-05T10:00:00.123000+0200",
            "updated >= 1717570740123",
        ),
        # The cursor never goes back before start_date.
        (
            {"start_date": "2024-06-05T09:00:00Z", "lookback_window_minutes": 600},
            "2024-06-05T10:00:00.000000+0000",
            "updated >= 1717578000000",
        ),
    ],
)
def test_the_jql_is_the_syncs_lower_bound(
    extra: dict[str, Any], cursor: str | None, jql: str
) -> None:
    assert issues_jql({**_CLOUD, **extra}, cursor) == jql


def test_the_upper_bound_is_added_when_asked() -> None:
    until = datetime(2024, 1, 1, tzinfo=UTC)
    assert issues_jql(_CLOUD, None, until=until) == f"{_2000} AND updated <= 1704067200000"


def test_the_scope_covers_the_union_of_the_resources_jql_when_each_has_one() -> None:
    config = {"projects": ["A"], "jql": "type = Bug"}
    each = {**config, RESOURCE_JQL: {"1": "status = Done", "2": 'status = "To Do"'}}
    one_without = {**config, RESOURCE_JQL: {"1": "status = Done", "2": None}}

    assert issue_scope_jql(each) == (
        'project in ("A") AND (type = Bug) AND ((status = Done) OR (status = "To Do"))'
    )
    assert issue_scope_jql(one_without) == issue_scope_jql(config)


def test_the_projects_option_lets_in_its_projects_only_and_every_project_when_unset() -> None:
    assert in_projects_option("PLAT", {"projects": ["PLAT", "MOB"]})
    assert not in_projects_option("DATA", {"projects": ["PLAT", "MOB"]})
    assert not in_projects_option(None, {"projects": ["PLAT"]})
    assert in_projects_option("DATA", {"projects": []})
    assert in_projects_option("DATA", {})
