"""`sync`'s exit codes and state file with a scripted source and a writer that confirms all."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteStateStats,
    AirbyteTraceMessage,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.utils import AirbyteTracedException

from integration_tests.support.messages import record, state
from source_jira_port.app import sync as sync_module
from source_jira_port.app.config import SyncJob
from source_jira_port.app.progress import Reporter
from source_jira_port.app.sync import SyncOptions, sync
from source_jira_port.port.client import PortAuthError
from source_jira_port.port.config import PortSettings
from source_jira_port.port.stats import WriteStats

_FAILED_READ = AirbyteTracedException(
    message="During the sync, the following streams did not sync successfully: issues",
    failure_type=FailureType.config_error,  # what the concurrent source ends any failure with
)


def _error(text: str, failure_type: FailureType) -> AirbyteMessage:
    error = AirbyteErrorTraceMessage(message=text, failure_type=failure_type)
    trace = AirbyteTraceMessage(type=TraceType.ERROR, emitted_at=1, error=error)
    return AirbyteMessage(type=Type.TRACE, trace=trace)


class _Writer:
    """Confirms every STATE with the count of records before it, as PortWriter does."""

    mapping_fingerprints: dict[str, str] = {}  # noqa: RUF012 (read only)

    def __init__(self, stats: WriteStats, fail: Exception | None) -> None:
        self.stats, self.fail = stats, fail

    def select_by_jql(
        self, matches: dict[int, frozenset[str]], known: frozenset[str] | None
    ) -> None:
        assert matches == {}  # the mapping has no selector.jql

    def write(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
        if self.fail:
            raise self.fail
        since: Counter[str] = Counter()
        for message in messages:
            if message.record is not None:
                since[message.record.stream] += 1
                self.stats.of("jiraIssue").created += 1
            elif message.state is not None and message.state.stream is not None:
                count = since.pop(message.state.stream.stream_descriptor.name, 0)
                stats = AirbyteStateStats(recordCount=count)
                yield dataclasses.replace(
                    message, state=dataclasses.replace(message.state, destinationStats=stats)
                )


def _run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    script: list[AirbyteMessage | Exception],
    *,
    writer: type[_Writer] = _Writer,
    writer_fails: Exception | None = None,
) -> tuple[int, dict[str, Any]]:
    class Source:
        def __init__(self, *_: Any) -> None:
            pass

        resolved_config: dict[str, Any] = {}  # noqa: RUF012 (read only)

        def estimate_issues(self, *_: Any) -> None:
            return None

        def issue_ids_matching(self, *_: Any) -> dict[int, frozenset[str]]:
            return {}

        def known_issue_ids(self) -> frozenset[str] | None:
            return None

        def read(self, *_: Any) -> Iterator[AirbyteMessage]:
            for item in script:
                if isinstance(item, Exception):
                    raise item
                yield item

    @contextlib.contextmanager
    def open_writer(*args: Any, **_: Any) -> Iterator[_Writer]:
        yield writer(args[3], writer_fails)  # args: settings, catalog, logger, stats

    monkeypatch.setattr(sync_module, "SourceJiraPort", Source)
    monkeypatch.setattr(sync_module, "open_writer", open_writer)
    monkeypatch.setattr(sync_module, "resolve_deployment", lambda *_: "cloud")
    port = PortSettings.from_config({"port_client_id": "i", "port_client_secret": "port-secret"})
    credentials = {"auth_type": "api_token", "email": "e@acme.com", "api_token": "jira-token"}
    jira = {"jira_url": "https://acme.atlassian.net", "credentials": credentials}
    job = SyncJob(tmp_path / "sync.yaml", jira, port, tmp_path / "state.json", ())
    stderr = io.StringIO()
    code = sync(job, SyncOptions(), Reporter("json", stderr), io.StringIO())
    [summary] = [
        e for e in map(json.loads, stderr.getvalue().splitlines()) if e["event"] == "summary"
    ]
    return code, summary


def _saved(tmp_path: Path) -> dict[str, Any]:
    states = json.loads((tmp_path / "state.json").read_text())
    return {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in states}


def test_a_config_error_before_any_record_exits_2_and_writes_no_state(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = [
        state("projects", {}),
        state("issues", {"updated": "2000-01-01T00:00:00.000+0000"}),  # no progress
        _error("Jira rejected the credentials", FailureType.config_error),
        _FAILED_READ,
    ]

    code, summary = _run(monkeypatch, tmp_path, script)

    assert code == 2
    assert (summary["error"], summary["state_saved"]) == ("Jira rejected the credentials", False)
    assert not (tmp_path / "state.json").exists()


def test_a_runtime_error_exits_1_keeping_the_checkpoints_of_streams_that_read_records(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = [
        record("projects", {"id": "1", "key": "ACME"}),
        state("projects", {"n": 1}),
        state("issues", {"updated": "2000-01-01T00:00:00.000+0000"}),
        _error("Jira answered HTTP 500", FailureType.system_error),
        _FAILED_READ,
    ]

    code, summary = _run(monkeypatch, tmp_path, script)

    assert code == 1
    assert summary["state_saved"] is True
    assert _saved(tmp_path) == {"projects": {"n": 1}}


def test_a_config_error_decides_the_exit_code_even_after_a_runtime_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = [
        _error("Jira answered HTTP 500", FailureType.system_error),
        _error("The JQL is not valid", FailureType.config_error),
        _FAILED_READ,
    ]

    code, summary = _run(monkeypatch, tmp_path, script)

    assert (code, summary["error"]) == (2, "The JQL is not valid")


def test_a_complete_sync_saves_its_states_even_without_records(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = [state("issues", {"updated": "2026-01-01T00:00:00.000+0000"})]

    code, _ = _run(monkeypatch, tmp_path, script)

    assert code == 0
    assert _saved(tmp_path) == {"issues": {"updated": "2026-01-01T00:00:00.000+0000"}}


def test_a_held_state_is_replaced_by_the_first_state_after_a_record(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = [
        state("issues", {"updated": "2000"}),
        record("issues", {"id": "1"}),
        state("issues", {"updated": "2026"}),
        _error("Jira answered HTTP 500", FailureType.system_error),
        _FAILED_READ,
    ]

    code, _ = _run(monkeypatch, tmp_path, script)

    assert code == 1
    assert _saved(tmp_path) == {"issues": {"updated": "2026"}}


def test_port_refusing_the_credentials_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    refused = PortAuthError("Port did not accept the credentials (HTTP 401)", 401)

    code, summary = _run(monkeypatch, tmp_path, [], writer_fails=refused)

    assert (code, summary["status"], summary["state_saved"]) == (2, "failed", False)


def test_a_sync_that_skipped_records_exits_3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class Skipping(_Writer):
        def write(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
            yield from super().write(messages)
            self.stats.of("jiraIssue").failed += 1
            self.stats.pending_retry = 1

    script = [record("issues", {"id": "1"}), state("issues", {"updated": "2026"})]

    code, summary = _run(monkeypatch, tmp_path, script, writer=Skipping)

    assert (code, summary["status"], summary["pending_retry"]) == (3, "partial", 1)
    assert _saved(tmp_path) == {"issues": {"updated": "2026"}}
