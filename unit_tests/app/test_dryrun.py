from __future__ import annotations

import io
import json

import pytest

from integration_tests.support.messages import record, state
from integration_tests.support.records import make_issue, make_project
from source_jira_port.app.dryrun import DryRun
from source_jira_port.app.progress import SyncProgress
from source_jira_port.port.mapping import EntityMapper, load_app_config
from source_jira_port.port.stats import WriteStats

_DELETED = {
    "id": "10042",
    "key": "ACME-42",
    "updated": "2026-01-01T00:00:00.000+0000",
    "_ab_cdc_deleted_at": "2026-01-01T00:00:00.000000+00:00",
}
_MESSAGES = [
    record("projects", make_project("ACME")),
    state("projects", {}),
    record("issues", make_issue("ACME-1", summary="A fairly long summary " * 4)),
    record("issues", make_issue("BAD KEY")),
    record("issues", {"fields": {}}),
    record("issues", _DELETED),
    record("comments", {"id": "1"}),
]


def _dry_run(output: str) -> tuple[str, SyncProgress]:
    out = io.StringIO()
    progress = SyncProgress(WriteStats(), started=0.0, dry_run=True)
    DryRun(EntityMapper(load_app_config()), progress, out, output).run(_MESSAGES)  # type: ignore[arg-type]
    return out.getvalue(), progress


def test_json_lines_hold_the_mapped_entities(caplog: pytest.LogCaptureFixture) -> None:
    text, progress = _dry_run("jsonl")

    entities = [json.loads(line) for line in text.splitlines()]
    assert [(e["blueprint"], e["identifier"]) for e in entities] == [
        ("jiraProject", "ACME"),
        ("jiraIssue", "ACME-1"),
        ("jiraIssue", "ACME-42"),
    ]
    assert entities[1]["properties"]["url"] == "https://acme.atlassian.net/browse/ACME-1"
    assert progress.mapped == {"jiraProject": 1, "jiraIssue": 1}
    assert progress.stats.of("jiraIssue").failed == 2
    assert "Record BAD KEY of stream issues would fail: identifier" in caplog.text


def test_a_deletion_record_prints_the_entity_it_deletes(caplog: pytest.LogCaptureFixture) -> None:
    text, progress = _dry_run("jsonl")

    deletion = json.loads(text.splitlines()[-1])
    assert deletion == {"operation": "delete", "blueprint": "jiraIssue", "identifier": "ACME-42"}
    assert progress.deletions == {"jiraIssue": 1}
    assert "ACME-42" not in caplog.text  # not a failure


def test_the_table_has_a_row_per_entity_with_a_shortened_title() -> None:
    text, _ = _dry_run("table")

    assert text.splitlines() == [
        "OPERATION  BLUEPRINT        IDENTIFIER        TITLE",
        "upsert     jiraProject      ACME              Project ACME",
        "upsert     jiraIssue        ACME-1            "
        + ("A fairly long summary " * 4)[:59]
        + "…",
        "delete     jiraIssue        ACME-42",
    ]
