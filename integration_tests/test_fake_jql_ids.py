"""The fake Jira refuses an equality on an issue id it does not have, as Jira's JQL does."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jql import JqlError, parse_jql

_DATASET = generate_dataset(projects=2, issues=20, seed=5)
_IDS = frozenset(issue.id for issue in _DATASET.issues.values())
_KNOWN = min(_IDS)
_GONE = max(_IDS) + 1


def _matches(jql: str) -> list[int]:
    query = parse_jql(jql, projects=_DATASET.projects, zone=ZoneInfo("UTC"), issue_ids=_IDS)
    return sorted(issue.id for issue in query.run(_DATASET.issues.values()))


@pytest.mark.parametrize(
    "jql", [f"id = {_GONE}", f"id = {_KNOWN} OR id = {_GONE}", f"id != {_GONE}", "id = abc"]
)
def test_an_equality_on_a_missing_id_fails_the_whole_query(jql: str) -> None:
    with pytest.raises(JqlError, match="does not exist for the field 'id'"):
        _matches(jql)


def test_known_ids_and_ranges_are_answered() -> None:
    assert _matches(f"id = {_KNOWN}") == [_KNOWN]
    assert _matches(f"id > {_GONE}") == []
    assert len(_matches("id > 0")) == len(_IDS)
