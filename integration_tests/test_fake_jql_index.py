"""The fake Jira's `updated` index answers exactly what a scan of every issue answers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jql import Bounds, IssueIndex, Query, parse_jql

_DATASET = generate_dataset(projects=3, issues=300, seed=3)
_ISSUES = sorted(_DATASET.issues.values(), key=lambda issue: issue.updated)
_MID = _ISSUES[150].updated
_LATE = _ISSUES[220].updated
_ID = _ISSUES[150].id


def _parse(jql: str) -> Query:
    return parse_jql(jql, projects=_DATASET.projects, zone=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("jql", "bounds"),
    [
        (f"updated >= {_MID} ORDER BY updated, id", (_MID, None)),
        (f"updated > {_MID} AND updated <= {_LATE}", (_MID + 1, _LATE)),
        (f"updated < {_MID} ORDER BY key DESC", (None, _MID - 1)),
        (f"updated = {_MID}", (_MID, _MID)),
        (
            f"(updated > {_MID} OR updated = {_MID} AND id > {_ID}) AND updated <= {_LATE} "
            "ORDER BY updated ASC, id ASC",
            (_MID, _LATE),
        ),
        (f"updated > {_MID} OR project = MOB", (None, None)),
        (f"NOT updated > {_MID}", (None, None)),
        (f"updated != {_MID} ORDER BY id DESC", (None, None)),
        (f"created > {_MID}", (None, None)),
        (f"project = DATA AND updated >= {_MID} AND updated >= {_LATE}", (_LATE, None)),
    ],
)
def test_index_bounds_and_results_match_a_full_scan(jql: str, bounds: Bounds) -> None:
    query = _parse(jql)
    index = IssueIndex(_DATASET.issues.values())

    assert query.updated_bounds == bounds
    assert index.search(query) == query.run(index.in_key_order)
    assert index.search(query)  # a bound that hid everything would pass the comparison above
