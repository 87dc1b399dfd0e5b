"""No record lost while Jira changes under a sync: key-set paging, bulk edits, index delay."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from integration_tests.consistency import PAGE, jira_now, latest, offset_read
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli
from integration_tests.support.messages import final_state, records

pytestmark = pytest.mark.integration

_CATALOG = configured_catalog("issues", incremental=True)


def _oldest(fake: FakeJira, count: int, skip: int = 0) -> list[str]:
    ordered = sorted(fake.dataset.issues.values(), key=lambda i: (i.updated, i.id))
    return [issue.key for issue in ordered[skip : skip + count]]


def _churn(fake: FakeJira) -> None:
    """A bulk edit of 3 pages' worth of issues at one millisecond, then updates mid-read."""
    cluster_at = datetime(2023, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    for key in _oldest(fake, 3 * PAGE, skip=20):
        fake.update_issue(key, at=cluster_at, labels=["bulk-edited"])

    def update_early_issues(jira: FakeJira) -> None:
        for key in _oldest(jira, 3):
            jira.update_issue(key, summary=f"updated mid-read {key}")

    fake.after_searches(3, update_early_issues)


def test_offset_paging_loses_issues_under_the_same_changes(fake_jira: FakeJira) -> None:
    """Why the source pages by key set: a plain offset reader of the same search skips issues."""
    _churn(fake_jira)
    fake_jira.max_results_cap = PAGE
    now_ms = int(time.time() * 1000)

    seen = offset_read(fake_jira, f"updated <= {now_ms} ORDER BY updated ASC")

    unchanged = {i.id for i in fake_jira.dataset.issues.values() if i.updated <= now_ms}
    assert unchanged - seen, "the fake reproduces the skip that offset paging suffers"


def test_key_set_reads_lose_nothing_while_issues_change_mid_read(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    _churn(fake_jira)
    config = fake_jira.source_config(
        page_size=PAGE,
        num_workers=1,
        search_index_delay_seconds=0,
        start_date="2023-01-01T00:00:00Z",
    )

    code, first, _ = source_cli.run("read", config, _CATALOG)
    assert code == 0
    first_keys = [(i["id"], i["updated"]) for i in records(first, "issues")]
    assert len(first_keys) == len(set(first_keys)), "no record is read twice in one sync"

    code, second, _ = source_cli.run("read", config, _CATALOG, final_state(first))
    assert code == 0

    assert latest(first, second) == jira_now(fake_jira)
    changed = sum(1 for i in fake_jira.dataset.issues.values() if "mid-read" in i.summary)
    assert changed == 3
    assert len(records(second, "issues")) <= changed + 1, "the next sync re-reads only the changes"


def test_issues_not_yet_indexed_are_read_by_the_next_sync(source_cli: SourceCli) -> None:
    """Cloud search lags behind writes: the next sync starts the index delay before the cursor.

    The fake's index lags a minute during the first sync (whatever the machine's speed), then
    catches up, as Jira's does.
    """
    with FakeJira("cloud", index_delay_ms=60_000) as fake:
        lagging, older = _oldest(fake, 2)
        changed_at = datetime.now(UTC)
        fake.update_issue(lagging, at=changed_at - timedelta(milliseconds=500))
        fake.update_issue(older, at=changed_at - timedelta(minutes=2))
        config = fake.source_config(start_date="2023-01-01T00:00:00Z")
        assert config["search_index_delay_seconds"] == 60

        code, first, _ = source_cli.run("read", config, _CATALOG)
        assert code == 0
        first_keys = {i["key"] for i in records(first, "issues")}
        assert older in first_keys
        assert lagging not in first_keys

        fake.index_delay_ms = 0
        code, second, _ = source_cli.run("read", config, _CATALOG, final_state(first))

        assert code == 0
        assert lagging in {i["key"] for i in records(second, "issues")}
        assert latest(first, second) == jira_now(fake)


def test_a_change_made_a_second_before_a_sync_is_in_that_sync(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    """The read ends at the sync's start, not an index delay before it (default 60 s)."""
    config = fake_jira.source_config(search_index_delay_seconds=60)
    [first_key, second_key] = _oldest(fake_jira, 2)
    fake_jira.update_issue(first_key, at=datetime.now(UTC) - timedelta(seconds=1))

    code, first, stderr = source_cli.run("read", config, _CATALOG)
    assert code == 0, stderr
    assert first_key in {i["key"] for i in records(first, "issues")}

    fake_jira.update_issue(second_key, at=datetime.now(UTC) - timedelta(seconds=1))
    code, second, stderr = source_cli.run("read", config, _CATALOG, final_state(first))
    assert code == 0, stderr
    assert second_key in {i["key"] for i in records(second, "issues")}
