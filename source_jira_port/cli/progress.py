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
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TextIO

import airbyte_cdk
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

from source_jira_port.port.stats import WriteStats

Mode = Literal["text", "json", "quiet"]
_CLEAR_LINE = "\r\x1b[K"
_CDK_DIR = str(Path(airbyte_cdk.__file__).parent)


@dataclasses.dataclass
class SyncProgress:
    """Counters of one sync; the reporter reads them whenever it draws."""

    stats: WriteStats
    started: float
    dry_run: bool = False
    expected_issues: int | None = None
    records: Counter[str] = dataclasses.field(default_factory=Counter)
    mapped: Counter[str] = dataclasses.field(default_factory=Counter)  # dry run, per blueprint
    first_issue_at: float | None = None

    def add_record(self, stream: str, now: float) -> None:
        """Count a record read from `stream`."""
        self.records[stream] += 1
        if stream == "issues" and self.first_issue_at is None:
            self.first_issue_at = now

    def rate(self, now: float) -> float:
        """Return the records read per second since the start."""
        elapsed = now - self.started
        return self.records.total() / elapsed if elapsed > 0 else 0.0

    def eta(self, now: float) -> float | None:
        """Return the seconds left for the expected issues, at the rate issues have come so far.

        None until Jira counted the issues and some have been read: the time before the first
        issue (setup, projects) says nothing about the rate.
        """
        read, first = self.records["issues"], self.first_issue_at
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
    """How a sync ended: `succeeded`, `failed` or `interrupted`, with its exit code."""

    status: str
    exit_code: int
    duration: float
    progress: SyncProgress
    state_file: Path
    error: str | None = None


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
        expected = progress.expected_issues if stream == "issues" else None
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
    """Return the human summary: outcome, records, a table per blueprint, the state."""
    progress = summary.progress
    verb = {"succeeded": "finished in", "failed": "failed after"}.get(
        summary.status, "was interrupted after"
    )
    what = "Dry run" if progress.dry_run else "Sync"
    streams = ", ".join(f"{stream} {n:,}" for stream, n in sorted(progress.records.items()))
    lines = [
        f"{what} {verb} {format_duration(summary.duration)}: read "
        f"{progress.records.total():,} records" + (f" ({streams})." if streams else ".")
    ]
    if progress.dry_run:
        mapped = ", ".join(f"{bp} {n:,}" for bp, n in sorted(progress.mapped.items()))
        lines.append(f"Would write {progress.mapped.total():,} entities ({mapped or 'none'}).")
    lines += _table(progress.stats, with_writes=not progress.dry_run)
    if progress.dry_run:
        lines.append("Nothing was written: Port and the state file are unchanged.")
    elif summary.status == "succeeded":
        lines.append(f"State saved to {summary.state_file}; the next run is incremental.")
    else:
        lines.append(
            f"State is at the last confirmed checkpoint ({summary.state_file}); run the same "
            "command again to resume."
        )
    return lines


def _table(stats: WriteStats, *, with_writes: bool) -> list[str]:
    columns = ("created", "updated", "deleted", "failed") if with_writes else ("failed",)
    rows = [
        (blueprint, [getattr(counts, column) for column in columns])
        for blueprint, counts in sorted(stats.blueprints.items())
        if with_writes or counts.failed
    ]
    if not rows:
        return []
    width = max(len("blueprint"), *(len(blueprint) for blueprint, _ in rows))
    header = "  " + "blueprint".ljust(width) + "".join(f"{c:>10}" for c in columns)
    body = ["  " + b.ljust(width) + "".join(f"{n:>10,}" for n in values) for b, values in rows]
    return [header, *body]


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
                state_file=str(summary.state_file),
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
        if self.level > logging.INFO and record.pathname.startswith(_CDK_DIR):
            return
        self._reporter.log(record.levelno, record.getMessage())
