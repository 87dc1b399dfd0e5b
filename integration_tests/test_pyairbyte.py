"""PyAirbyte runs the installed `source-jira-port` into its DuckDB cache, then reads incrementally.

Optional: needs the `airbyte` package (PyAirbyte, ~800 MB with its dependencies), which the dev
extras leave out. `scripts/pyairbyte_test.sh` installs it into a separate venv and runs this.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.commands import SOURCE_COMMAND

# PyAirbyte reads this when it is imported: without it, get_source() asks Airbyte's registry.
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
ab = pytest.importorskip("airbyte")

pytestmark = [pytest.mark.integration, pytest.mark.pyairbyte]

_ISSUES = 60
_PROJECTS = 3


@pytest.fixture
def fake_cloud() -> Iterator[FakeJira]:
    with FakeJira("cloud", generate_dataset(projects=_PROJECTS, issues=_ISSUES)) as fake:
        yield fake


def _lower_bounds(fake: FakeJira, since: int = 0) -> list[int]:
    """The `updated >= <ms>` bound of each issue search the fake answered after request `since`."""
    return [
        int(bound)
        for request in fake.requests_log[since:]
        if request.path.endswith("/search/jql")
        for jql in request.query.get("jql", [])
        for bound in re.findall(r"updated >= (\d+)", jql)
    ]


def _summaries(cache: Any) -> dict[str, str]:
    return {record["key"]: record["fields"]["summary"] for record in cache["issues"]}


def test_pyairbyte_reads_both_streams_then_only_changed_issues(
    fake_cloud: FakeJira, tmp_path: Path
) -> None:
    source = ab.get_source(
        "source-jira-port",
        config=fake_cloud.source_config(),
        local_executable=SOURCE_COMMAND[0],
        streams=["projects", "issues"],  # users has its own tests
    )
    source.check()
    cache = ab.DuckDBCache(db_path=tmp_path / "jira.duckdb", cache_dir=tmp_path / "cache")

    first = source.read(cache=cache)

    assert set(first.streams) == {"projects", "issues"}
    assert len(cache["projects"]) == _PROJECTS
    assert len(cache["issues"]) == _ISSUES
    assert first.processed_records == _PROJECTS + _ISSUES
    cursor = max(issue.updated for issue in fake_cloud.dataset.issues.values())
    changed = sorted(fake_cloud.dataset.issues)[:3]
    for key in changed:
        fake_cloud.update_issue(key, summary=f"renamed {key}")
    requests_before = len(fake_cloud.requests_log)

    second = source.read(cache=cache)

    # The search starts at the saved cursor, the newest `updated` of the first read (inclusive:
    # the newest old issue comes again), so only the projects and the changes are read.
    assert min(_lower_bounds(fake_cloud, requests_before)) == cursor
    assert _PROJECTS + len(changed) <= second.processed_records <= _PROJECTS + len(changed) + 1
    # The cache merges on the primary key: still every issue once, with the changes.
    assert len(cache["issues"]) == _ISSUES
    summaries = _summaries(cache)
    assert all(summaries[key] == f"renamed {key}" for key in changed)
