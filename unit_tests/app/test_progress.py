from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import airbyte_cdk
import pytest
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets

from source_jira_port.app.progress import (
    Reporter,
    ReporterLogHandler,
    Summary,
    SyncProgress,
    count_note,
    format_duration,
    progress_line,
    summary_lines,
)
from source_jira_port.port.stats import WriteStats


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _progress(issues: int = 0, expected: int | None = None, dry_run: bool = False) -> SyncProgress:
    progress = SyncProgress(WriteStats(), started=100.0, dry_run=dry_run, expected_issues=expected)
    for _ in range(3):
        progress.add_record("projects", 100.0)
    for n in range(issues):
        progress.add_record("issues", 102.0 + n * 0.01)
    return progress


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0s"), (4.25, "4.2s"), (59.9, "59.9s"), (61, "1:01"), (3725, "1:02:05")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_eta_uses_the_rate_since_the_first_issue() -> None:
    progress = _progress(issues=100, expected=1100)

    # 100 issues in 10 s after the first one: 1,000 left take 100 s.
    assert progress.eta(112.0) == pytest.approx(100.0)
    assert progress.rate(112.0) == pytest.approx(103 / 12)


@pytest.mark.parametrize(("issues", "expected"), [(0, 100), (1, 100), (50, None)])
def test_no_eta_without_a_count_or_issues(issues: int, expected: int | None) -> None:
    assert _progress(issues=issues, expected=expected).eta(110.0) is None


def test_eta_is_zero_when_more_issues_came_than_counted() -> None:
    assert _progress(issues=20, expected=10).eta(110.0) == 0


def test_progress_line_shows_counts_percent_written_rate_and_eta() -> None:
    progress = _progress(issues=100, expected=1100)
    progress.stats.of("jiraIssue").created = 80

    line = progress_line(progress, 112.0)

    assert line == (
        "[12.0s] issues 100/1,100 (9%) · projects 3 · 80 entities written · 9 records/s · ETA 1:40"
    )


def test_progress_line_without_count_and_in_a_dry_run() -> None:
    progress = _progress(issues=5, dry_run=True)
    progress.mapped["jiraIssue"] = 5

    assert progress_line(progress, 102.0) == (
        "[2.0s] issues 5 · projects 3 · 5 entities mapped · 4 records/s"
    )


def _summary(
    status: str = "succeeded", dry_run: bool = False, code: int = 0, state_saved: bool = False
) -> Summary:
    progress = _progress(issues=4, dry_run=dry_run)
    issue = progress.stats.of("jiraIssue")
    issue.created, issue.updated, issue.deleted, issue.placeholders = 1200, 3, 2, 7
    progress.stats.of("jiraProject").failed = 1
    progress.mapped["jiraIssue"] = 4
    return Summary(
        status, code, 75.0, progress, Path("/s/state.json"), None, state_saved=state_saved
    )


def test_summary_of_a_sync_that_skipped_a_record() -> None:
    summary = _summary("partial", code=3)
    summary.progress.stats.pending_retry = 1

    assert summary_lines(summary) == [
        "Sync finished in 1:15: read 7 records (issues 4, projects 3).",
        "  blueprint     created   updated  placeholders   deleted    failed",
        "  jiraIssue       1,200         3             7         2         0",
        "  jiraProject         0         0             0         0         1",
        "  (placeholders: entities Port had created bare, as the target of a relation, and this "
        "sync wrote in full)",
        "1 entity was skipped; the errors above say why.",
        "1 record pending retry: later syncs retry it until Port takes or Jira deletes it.",
        "State saved to /s/state.json; the next run is incremental.",
    ]


def test_summary_shows_bare_relation_targets_only_when_there_are_some() -> None:
    summary = _summary()
    summary.progress.stats.of("jiraUser").bare = 13

    lines = summary_lines(summary)

    assert lines[1].split() == [
        "blueprint",
        "created",
        "updated",
        "placeholders",
        "bare",
        "deleted",
        "failed",
    ]
    assert lines[4].split() == ["jiraUser", "0", "0", "0", "13", "0", "0"]
    assert any(line.startswith("  (bare: relation targets") for line in lines)


@pytest.mark.parametrize(
    ("status", "code", "verb"),
    [("failed", 1, "failed after"), ("interrupted", 130, "was interrupted after")],
)
def test_summary_of_a_stopped_sync_with_a_checkpoint_tells_how_to_resume(
    status: str, code: int, verb: str
) -> None:
    lines = summary_lines(_summary(status, code=code, state_saved=True))

    assert lines[0].startswith(f"Sync {verb} 1:15")
    assert not any("skipped" in line for line in lines)  # the failure is no skipped record
    assert lines[-1] == (
        "State is at the last confirmed checkpoint (/s/state.json); run the same command again "
        "to resume."
    )


@pytest.mark.parametrize(
    ("code", "state_saved", "advice"),
    [
        (1, False, "No checkpoint was reached, so no state was saved: the next run starts from "),
        (2, False, "Fix what the error names, then run again. No state was saved."),
        (2, True, "Fix what the error names, then run again; /s/state.json keeps the last "),
    ],
)
def test_a_failed_sync_advises_resuming_only_from_a_checkpoint(
    code: int, state_saved: bool, advice: str
) -> None:
    last = summary_lines(_summary("failed", code=code, state_saved=state_saved))[-1]

    assert last.startswith(advice)
    assert "resume" not in last


def test_summary_of_a_dry_run() -> None:
    summary = _summary(dry_run=True, code=3)
    summary.progress.deletions["jiraIssue"] = 2

    assert summary_lines(summary) == [
        "Dry run finished in 1:15: read 7 records (issues 4, projects 3).",
        "Would write 4 entities (jiraIssue 4) and delete 2 (jiraIssue 2).",
        "  blueprint      failed",
        "  jiraProject         1",
        "1 entity would fail; the errors above say why.",
        "Nothing was written: Port and the state file are unchanged.",
    ]


def _issue(number: int, deleted: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {"id": str(number), "key": f"A-{number}"}
    return {**record, "_ab_cdc_deleted_at": "2026-01-01T00:00:00Z"} if deleted else record


@pytest.mark.parametrize(
    ("ids", "expected", "note"),
    [
        ([1, 2, 3], 3, None),
        ([1, 2], None, None),
        (
            [1, 2, 2, -3, 4, 5],
            3,
            "Jira counted 3 issues at the start; 6 issue records were read: 1 deletion record "
            "of deleted or moved issues; 1 issue read again (changed during the read); 1 issue "
            "created or changed in scope after the count.",
        ),
        (
            [1, 2],
            4,
            "Jira counted 4 issues at the start; 2 issue records were read: 2 counted not read "
            "(deleted or changed out of scope during the read; Jira Cloud's count is "
            "approximate).",
        ),
    ],
)
def test_the_count_note_says_why_the_records_read_differ_from_jiras_count(
    ids: list[int], expected: int | None, note: str | None
) -> None:
    progress = SyncProgress(WriteStats(), started=0.0, expected_issues=expected)
    for number in ids:
        progress.add_record("issues", 1.0, _issue(abs(number), deleted=number < 0))

    assert count_note(progress) == note


def test_text_mode_prints_progress_lines_at_the_interval_without_a_terminal() -> None:
    stream, clock = io.StringIO(), Clock()
    reporter = Reporter("text", stream, clock=clock, interval=10)
    progress = _progress(issues=10)
    reporter.start(progress, "First sync.")

    reporter.tick()
    clock.now = 111.0
    reporter.tick()
    reporter.tick()

    lines = stream.getvalue().splitlines()
    assert lines[0] == "First sync."
    assert len(lines) == 2 and lines[1].startswith("[11.0s] issues 10")


def test_a_terminal_gets_one_status_line_redrawn_and_cleared_for_other_lines() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream, clock = Terminal(), Clock()
    reporter = Reporter("text", stream, clock=clock)
    reporter.start(_progress(issues=2), "First sync.")
    clock.now = 101.0
    reporter.tick()
    reporter.log(logging.WARNING, "careful")

    assert stream.getvalue() == (
        "First sync.\n\r\x1b[K[1.0s] issues 2 · projects 3 · 0 entities written · "
        "5 records/s\r\x1b[Kwarning: careful\n"
    )


def test_json_mode_writes_one_event_per_line() -> None:
    stream, clock = io.StringIO(), Clock()
    reporter = Reporter("json", stream, clock=clock, interval=0)
    progress = _progress(issues=2, expected=10)
    reporter.start(progress, "First sync.")
    clock.now = 103.0
    reporter.checkpoint("issues", {"updated": "x"})
    reporter.log(logging.WARNING, "two\nlines")
    reporter.finish(_summary())

    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["start", "checkpoint", "progress", "log", "summary"]
    assert events[0]["expected_issues"] == 10
    assert events[1]["state"] == {"updated": "x"}
    assert events[2]["records"] == {"projects": 3, "issues": 2} and events[2]["eta_seconds"] == 4
    assert events[3] == {**events[3], "level": "warning", "message": "two lines"}
    summary = events[4]
    assert (summary["status"], summary["exit_code"], summary["duration_seconds"]) == (
        "succeeded",
        0,
        75,
    )
    assert summary["entities"]["jiraIssue"] == {
        "created": 1200,
        "updated": 3,
        "deleted": 2,
        "failed": 0,
        "placeholders": 7,
        "bare": 0,
    }
    assert (summary["pending_retry"], summary["state_saved"]) == (0, False)


def test_quiet_mode_prints_only_what_is_logged_to_it() -> None:
    stream = io.StringIO()
    reporter = Reporter("quiet", stream, interval=0)
    reporter.start(_progress(), "First sync.")
    reporter.tick()
    reporter.finish(_summary("failed"))
    reporter.error("Port answered HTTP 500")

    assert stream.getvalue() == "error: Port answered HTTP 500\n"


def test_secrets_are_masked_in_every_mode() -> None:
    update_secrets(["hunter2"])
    try:
        for mode in ("text", "json"):
            stream = io.StringIO()
            Reporter(mode, stream).log(logging.ERROR, "token hunter2 rejected")  # type: ignore[arg-type]
            assert "hunter2" not in stream.getvalue() and "****" in stream.getvalue()
    finally:
        update_secrets([])


def test_debug_errors_come_with_the_traceback() -> None:
    stream = io.StringIO()
    reporter = Reporter("text", stream, debug=True)
    try:
        raise ValueError("boom")
    except ValueError:
        reporter.error("it failed")

    assert stream.getvalue().startswith("error: it failed\nTraceback (most recent call last):")


def test_log_handler_hides_the_cdks_own_logs_unless_verbose() -> None:
    def record(pathname: str) -> logging.LogRecord:
        return logging.LogRecord("airbyte", logging.ERROR, pathname, 1, "details", None, None)

    cdk = str(Path(airbyte_cdk.__file__).parent / "sources" / "x.py")
    for level, shown in (
        (logging.WARNING, ["error: mine"]),
        (logging.INFO, ["error: details", "error: mine"]),
    ):
        stream = io.StringIO()
        handler = ReporterLogHandler(Reporter("text", stream), level)
        handler.handle(record(cdk))
        handler.handle(logging.LogRecord("airbyte", logging.ERROR, __file__, 1, "mine", None, None))
        assert stream.getvalue().splitlines() == shown
