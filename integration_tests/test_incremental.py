"""Incremental reads of issues through the command line, as a platform would chain them."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SOURCE_COMMAND, SourceCli
from integration_tests.support.messages import final_state, of_type, records

pytestmark = pytest.mark.integration

_CATALOG = configured_catalog("issues", incremental=True)


def _instant(jira_time: str) -> datetime:
    return datetime.strptime(jira_time, "%Y-%m-%dT%H:%M:%S.%f%z")


def _cursor(state: list[dict[str, Any]]) -> datetime:
    return _instant(state[0]["stream"]["stream_state"]["updated"])


def _read(
    cli: SourceCli, fake: FakeJira, state: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    code, messages, stderr = cli.run("read", fake.source_config(), _CATALOG, state)
    assert code == 0, stderr
    return messages


def test_first_read_saves_the_newest_updated_as_cursor(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    messages = _read(source_cli, fake_jira)
    issues = records(messages, "issues")
    assert len(issues) == len(fake_jira.dataset.issues)
    assert _cursor(final_state(messages)) == max(_instant(i["updated"]) for i in issues)


def test_future_state_reads_nothing_and_keeps_the_state(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    future = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "issues"},
                "stream_state": {"updated": "2099-01-01T00:00:00.000000+0000"},
            },
        }
    ]
    messages = _read(source_cli, fake_jira, future)
    assert records(messages, "issues") == []
    assert _cursor(final_state(messages)) == datetime(2099, 1, 1, tzinfo=UTC)
    assert not any(r.path.endswith(("/search", "/search/jql")) for r in fake_jira.requests_log)


def test_second_read_returns_exactly_the_changes_and_the_boundary(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    first = _read(source_cli, fake_jira)
    state = final_state(first)
    boundary = {
        i["key"] for i in records(first, "issues") if _instant(i["updated"]) == _cursor(state)
    }

    changed = sorted(fake_jira.dataset.issues)[:3]
    for key in changed:
        fake_jira.update_issue(key, summary=f"changed {key}")
    added = fake_jira.add_issue(fake_jira.dataset.projects[0].key, summary="brand new")["key"]

    second = _read(source_cli, fake_jira, state)

    keys = [i["key"] for i in records(second, "issues")]
    assert sorted(keys) == sorted({*changed, added} | boundary)
    assert len(keys) == len(set(keys))
    assert {i["fields"]["summary"] for i in records(second, "issues") if i["key"] in changed} == {
        f"changed {key}" for key in changed
    }
    assert _cursor(final_state(second)) > _cursor(state)


def test_interrupted_read_resumes_from_its_last_state_without_loss(
    source_cli: SourceCli, fake_jira: FakeJira, tmp_path: Path
) -> None:
    config = fake_jira.source_config(num_workers=1, page_size=10)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(_CATALOG))
    process = subprocess.Popen(
        [
            *SOURCE_COMMAND,
            "read",
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    delivered: list[dict[str, Any]] = []
    for line in process.stdout:
        delivered.append(json.loads(line))
        if delivered[-1]["type"] == "STATE" and records(delivered, "issues"):
            process.kill()  # a crash right after the first checkpoint with data
            break
    process.wait(timeout=30)
    checkpoint = final_state(delivered)
    newest = max(_instant(i["updated"]) for i in records(delivered, "issues"))
    assert _cursor(checkpoint) < max(issue_time(fake_jira, key) for key in fake_jira.dataset.issues)
    assert _cursor(checkpoint) <= newest + timedelta(milliseconds=1)

    resumed = _read(source_cli, fake_jira, checkpoint)

    seen = {i["key"] for i in records(delivered, "issues")} | {
        i["key"] for i in records(resumed, "issues")
    }
    assert seen == set(fake_jira.dataset.issues)
    assert all(_instant(i["updated"]) >= _cursor(checkpoint) for i in records(resumed, "issues"))


def issue_time(fake: FakeJira, key: str) -> datetime:
    return datetime.fromtimestamp(fake.dataset.issues[key].updated / 1000, tz=UTC)


def test_state_messages_count_the_records_before_them(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    messages = _read(source_cli, fake_jira)
    counted = sum(m["state"]["sourceStats"]["recordCount"] for m in of_type(messages, "STATE"))
    assert counted == len(records(messages, "issues"))
