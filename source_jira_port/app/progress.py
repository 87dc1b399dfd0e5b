"""What a person (text), a machine (JSON lines) or nobody (quiet) sees of a sync, on stderr.

Text mode redraws one status line on a terminal (a plain line every 10 s otherwise); JSON mode
writes one object per line with an `event`: start, progress, checkpoint, log, summary. Quiet
mode writes error lines only. Every line passes the CDK's secret filter.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TextIO

from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

from source_jira_port import cdc
from source_jira_port.cdk_compat import logged_by_cdk
from source_jira_port.port.stats import WriteStats
from source_jira_port.stream_names import ISSUES

Mode = Literal["text", "json", "quiet"]
_CLEAR_LINE = "\r\x1b[K"


@dataclasses.dataclass
class SyncProgress:
    """Counters of one sync; the reporter reads them whenever it draws."""

    stats: WriteStats
    started: float
    dry_run: bool = False
    expected_issues: int | None = None
    records: Counter[str] = dataclasses.field(default_factory=Counter)
    mapped: Counter[str] = dataclasses.field(default_factory=Counter)  # dry run, per blueprint
    deletions: Counter[str] = dataclasses.field(default_factory=Counter)  # dry run, likewise
    first_issue_at: float | None = None
    deleted_issues: int = 0  # deletion records (`_ab_cdc_deleted_at`) of the issues stream
    reread_issues: int = 0  # issue records of an id read before in this sync
    _issue_ids: set[str] = dataclasses.field(default_factory=set, repr=False)

    def add_record(self, stream: str, now: float, data: Mapping[str, Any] | None = None) -> None:
        """Count a record read from `stream` (`data`: its fields, to tell what it is)."""
        self.records[stream] += 1
        if stream != ISSUES:
            return
        if self.first_issue_at is None:
            self.first_issue_at = now
        if data is None:
            return
        if data.get(cdc.DELETED_AT):
            self.deleted_issues += 1
        elif str(data.get("id")) in self._issue_ids:
            self.reread_issues += 1
        else:
            self._issue_ids.add(str(data.get("id")))

    def failed(self) -> int:
        """Return the entities that failed (or in a dry run, would fail), over all blueprints."""
        return sum(counts.failed for counts in self.stats.blueprints.values())

    def rate(self, now: float) -> float:
        """Return the records read per second since the start."""
        elapsed = now - self.started
        return self.records.total() / elapsed if elapsed > 0 else 0.0

    def eta(self, now: float) -> float | None:
        """Return the seconds left for the expected issues, at the rate issues have come so far.

        None until Jira counted the issues and some have been read: the time before the first
        issue (setup, projects) says nothing about the rate.
        """
        read, first = self.records[ISSUES], self.first_issue_at
        if self.expected_issues is None or first is None or read < 2 or now <= first:
            return None
        return max(self.expected_issues - read, 0) * (now - first) / read

    def fields(self, now: float) -> dict[str, Any]:
        """Return the counters as JSON fields."""
        eta = self.eta(now)
        return {
            "elapsed_seconds": round(now - self.started, 3),
            "records": dict(self.records),
            "entities_written": self.stats.written,
            "records_per_second": round(self.rate(now), 1),
            "expected_issues": self.expected_issues,
            "eta_seconds": None if eta is None else round(eta, 1),
        }


@dataclasses.dataclass(frozen=True)
class Summary:
    """How a sync ended: `succeeded`, `partial` (records skipped), `failed` or `interrupted`.

    `state_saved`: the state file holds a checkpoint to resume from (this sync's or an earlier
    one's).
    """

    status: str
    exit_code: int
    duration: float
    progress: SyncProgress
    state_file: Path
    error: str | None = None
    state_saved: bool = False

    @property
    def completed(self) -> bool:
        """Whether the sync read everything (even if it skipped records)."""
        return self.status in ("succeeded", "partial")


def format_duration(seconds: float) -> str:
    """`4.2s` under a minute, else `m:ss` or `h:mm:ss`."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_line(progress: SyncProgress, now: float) -> str:
    """One status line: records per stream (of the expected issues), written, rate, ETA."""
    parts = []
    for stream, count in sorted(progress.records.items()):
        expected = progress.expected_issues if stream == ISSUES else None
        if expected:
            percent = min(100, count * 100 // expected)
            parts.append(f"{stream} {count:,}/{expected:,} ({percent}%)")
        else:
            parts.append(f"{stream} {count:,}")
    if progress.dry_run:
        parts.append(f"{progress.mapped.total():,} entities mapped")
    else:
        parts.append(f"{progress.stats.written:,} entities written")
    parts.append(f"{progress.rate(now):,.0f} records/s")
    eta = progress.eta(now)
    if eta is not None:
        parts.append(f"ETA {format_duration(eta)}")
    return f"[{format_duration(now - progress.started)}] " + " · ".join(parts)


def summary_lines(summary: Summary) -> list[str]:
    """Return the human summary: outcome, records, a table per blueprint, what to do next."""
    progress = summary.progress
    verb = {"succeeded": "finished in", "partial": "finished in", "failed": "failed after"}.get(
        summary.status, "was interrupted after"
    )
    what = "Dry run" if progress.dry_run else "Sync"
    streams = ", ".join(f"{stream} {n:,}" for stream, n in sorted(progress.records.items()))
    lines = [
        f"{what} {verb} {format_duration(summary.duration)}: read "
        f"{progress.records.total():,} records" + (f" ({streams})." if streams else ".")
    ]
    note = count_note(progress) if summary.completed else None
    if note:
        lines.append(note)
    if progress.dry_run:
        lines.append(_would_write(progress))
    lines += _table(progress.stats, with_writes=not progress.dry_run)
    lines += _placeholder_note(progress.stats) if not progress.dry_run else []
    if summary.completed:  # a failed sync's failures are its error, not skipped records
        lines += _skipped_lines(progress)
    lines.append(_next_step(summary))
    return lines


def count_note(progress: SyncProgress) -> str | None:
    """Explain why a complete sync's issue records differ from Jira's count at the start."""
    expected, read = progress.expected_issues, progress.records[ISSUES]
    if expected is None or read == expected:
        return None
    reasons = []
    if progress.deleted_issues:
        reasons.append(
            f"{_count(progress.deleted_issues, 'deletion record')} of deleted or moved issues"
        )
    if progress.reread_issues:
        reasons.append(
            f"{_count(progress.reread_issues, 'issue')} read again (changed during the read)"
        )
    rest = read - progress.deleted_issues - progress.reread_issues - expected
    if rest > 0:
        reasons.append(f"{_count(rest, 'issue')} created or changed in scope after the count")
    elif rest < 0:
        reasons.append(
            f"{-rest:,} counted not read (deleted or changed out of scope during the read; "
            "Jira Cloud's count is approximate)"
        )
    return (
        f"Jira counted {_count(expected, 'issue')} at the start; {read:,} issue records were "
        f"read: " + "; ".join(reasons) + "."
    )


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def _would_write(progress: SyncProgress) -> str:
    def listed(counts: Counter[str]) -> str:
        return ", ".join(f"{bp} {n:,}" for bp, n in sorted(counts.items())) or "none"

    text = f"Would write {progress.mapped.total():,} entities ({listed(progress.mapped)})"
    if progress.deletions:
        text += f" and delete {progress.deletions.total():,} ({listed(progress.deletions)})"
    return text + "."


def _table(stats: WriteStats, *, with_writes: bool) -> list[str]:
    columns: tuple[str, ...] = ("failed",)
    if with_writes:
        bare = any(counts.bare for counts in stats.blueprints.values())
        columns = ("created", "updated", "placeholders", *(("bare",) if bare else ()), "deleted")
        columns += ("failed",)
    rows = [
        (blueprint, [getattr(counts, column) for column in columns])
        for blueprint, counts in sorted(stats.blueprints.items())
        if with_writes or counts.failed
    ]
    if not rows:
        return []
    width = max(len("blueprint"), *(len(blueprint) for blueprint, _ in rows))
    cells = [max(10, len(column) + 2) for column in columns]
    header = "  " + "blueprint".ljust(width) + "".join(map("{:>{}}".format, columns, cells))
    body = [
        "  " + blueprint.ljust(width) + "".join(map("{:>{},}".format, values, cells))
        for blueprint, values in rows
    ]
    return [header, *body]


def _placeholder_note(stats: WriteStats) -> list[str]:
    notes = []
    if any(counts.placeholders for counts in stats.blueprints.values()):
        notes.append(
            "  (placeholders: entities Port had created bare, as the target of a relation, and "
            "this sync wrote in full)"
        )
    if any(counts.bare for counts in stats.blueprints.values()):
        notes.append(
            "  (bare: relation targets no stream of the mapping writes, such as Jira users; "
            "Port holds them with an identifier only)"
        )
    return notes


def _skipped_lines(progress: SyncProgress) -> list[str]:
    failed, pending = progress.failed(), progress.stats.pending_retry
    lines = []
    if failed:
        if progress.dry_run:
            outcome = "would fail"
        else:
            outcome = "was skipped" if failed == 1 else "were skipped"
        entities = _count(failed, "entity", "entities")
        lines.append(f"{entities} {outcome}; the errors above say why.")
    if pending and not progress.dry_run:
        lines.append(
            f"{_count(pending, 'record')} pending retry: later syncs retry "
            f"{'it' if pending == 1 else 'them'} until Port takes or Jira deletes "
            f"{'it' if pending == 1 else 'them'}."
        )
    return lines


def _next_step(summary: Summary) -> str:
    if summary.progress.dry_run:
        return "Nothing was written: Port and the state file are unchanged."
    path = summary.state_file
    if summary.completed:
        return f"State saved to {path}; the next run is incremental."
    config_problem = summary.exit_code == 2
    if summary.state_saved and config_problem:
        return f"Fix what the error names, then run again; {path} keeps the last checkpoint."
    if summary.state_saved:
        return (
            f"State is at the last confirmed checkpoint ({path}); run the same command again "
            "to resume."
        )
    if config_problem:
        return "Fix what the error names, then run again. No state was saved."
    return (
        "No checkpoint was reached, so no state was saved: the next run starts from the beginning."
    )


class Reporter:
    """Writes a sync's progress, log lines and summary to `stream` (stderr) in one mode."""

    def __init__(
        self,
        mode: Mode = "text",
        stream: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = None,
        debug: bool = False,
    ) -> None:
        self.mode = mode
        self.clock = clock
        self.debug = debug
        self._stream = stream or sys.stderr
        self._live = mode == "text" and self._stream.isatty()
        self._interval = interval if interval is not None else (0.2 if self._live else 10.0)
        self._progress: SyncProgress | None = None
        self._drawn_at = 0.0
        self._status_shown = False
        self._lock = threading.Lock()  # the CDK logs from its reader threads

    def log(self, level: int, message: str) -> None:
        """Write a log line (the caller filters by level); multi-line messages become one."""
        name = logging.getLevelName(level).lower()
        text = " ".join(filter_secrets(message).split())
        if self.mode == "json":
            self._json("log", level=name, message=text)
        else:
            self._line(f"{name}: {text}")

    def error(self, message: str) -> None:
        """Write an error line; with `debug`, also the traceback of the exception in hand."""
        self.log(logging.ERROR, message)
        if not self.debug or sys.exc_info()[0] is None:
            return
        text = traceback.format_exc().rstrip()
        if self.mode == "json":
            self._json("traceback", text=text)
        else:
            self._line(text)

    def start(self, progress: SyncProgress, description: str) -> None:
        """Announce a sync and follow `progress` from now on."""
        self._progress = progress
        self._drawn_at = self.clock()
        if self.mode == "json":
            self._json("start", description=description, expected_issues=progress.expected_issues)
        elif self.mode == "text":
            self._line(description)

    def tick(self) -> None:
        """Draw the progress if the interval has passed (cheap enough to call per record)."""
        now = self.clock()
        if self._progress is None or now - self._drawn_at < self._interval:
            return
        self._drawn_at = now
        if self.mode == "json":
            self._json("progress", **self._progress.fields(now))
        elif self._live:
            self._write(progress_line(self._progress, now), status=True)
        elif self.mode == "text":
            self._line(progress_line(self._progress, now))

    def checkpoint(self, stream: str, state: dict[str, Any]) -> None:
        """Note a STATE that Port confirmed and the state file now holds."""
        if self.mode == "json":
            self._json("checkpoint", stream=stream, state=state)
        self.tick()

    def finish(self, summary: Summary) -> None:
        """Write the summary (nothing in quiet mode: a failure's error line was enough)."""
        self._progress = None
        if self.mode == "json":
            progress = summary.progress
            self._json(
                "summary",
                status=summary.status,
                exit_code=summary.exit_code,
                duration_seconds=round(summary.duration, 3),
                dry_run=progress.dry_run,
                records=dict(progress.records),
                entities={
                    bp: dataclasses.asdict(counts)
                    for bp, counts in sorted(progress.stats.blueprints.items())
                },
                would_write=dict(progress.mapped) if progress.dry_run else None,
                would_delete=dict(progress.deletions) if progress.dry_run else None,
                pending_retry=progress.stats.pending_retry,
                expected_issues=progress.expected_issues,
                count_note=count_note(progress) if summary.completed else None,
                state_file=str(summary.state_file),
                state_saved=summary.state_saved,
                error=summary.error,
            )
        elif self.mode == "text":
            for line in summary_lines(summary):
                self._line(line)

    def _json(self, event: str, **fields: Any) -> None:
        record = {"event": event, "time": round(time.time(), 3), **fields}
        self._write(filter_secrets(json.dumps(record)) + "\n")

    def _line(self, text: str) -> None:
        self._write(filter_secrets(text) + "\n")

    def _write(self, text: str, *, status: bool = False) -> None:
        """Write `text`; a status line stays open and is cleared by whatever comes next."""
        with self._lock:
            if status or self._status_shown:
                text = _CLEAR_LINE + text
            self._status_shown = status
            self._stream.write(text)
            self._stream.flush()


class ReporterLogHandler(logging.Handler):
    """Routes Python logging (the CDK's and the writer's) to a reporter.

    Below INFO verbosity it drops the CDK's own warnings and errors: internals such as the
    request details of a failing stream, which the sync reports once as the source's error.
    """

    def __init__(self, reporter: Reporter, level: int) -> None:
        super().__init__(level)
        self._reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        """Pass the message on, without any traceback (main prints those with --debug)."""
        if self.level > logging.INFO and logged_by_cdk(record):
            return
        self._reporter.log(record.levelno, record.getMessage())
