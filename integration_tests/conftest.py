"""Fake Jira servers on 127.0.0.1 and configs that point the connector at them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira

# The console script installed next to this interpreter, as users run it.
SOURCE_COMMAND = [str(Path(sys.executable).with_name("source-jira-port"))]


@pytest.fixture(params=["cloud", "server"])
def fake_jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    """A fresh fake Jira of each deployment with the default generated dataset."""
    with FakeJira(request.param, generate_dataset()) as fake:
        yield fake


class SourceCli:
    """Runs the real `source-jira-port` command line with files in a temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def run(
        self,
        command: str,
        config: dict[str, Any] | None = None,
        catalog: dict[str, Any] | None = None,
        state: list[dict[str, Any]] | None = None,
    ) -> tuple[int, list[dict[str, Any]], str]:
        """Return the exit code, the Airbyte messages printed, and stderr."""
        args = [command]
        for name, content in (("config", config), ("catalog", catalog), ("state", state)):
            if content is not None:
                path = self.folder / f"{name}.json"
                path.write_text(json.dumps(content))
                args += [f"--{name}", str(path)]
        done = subprocess.run(
            [*SOURCE_COMMAND, *args], capture_output=True, text=True, timeout=300, check=False
        )
        messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return done.returncode, messages, done.stderr


@pytest.fixture
def source_cli(tmp_path: Path) -> SourceCli:
    return SourceCli(tmp_path)


def configured_catalog(*streams: str, incremental: bool = False) -> dict[str, Any]:
    """A configured catalog for `streams`; `issues` is incremental when asked."""
    entries = []
    for name in streams:
        sync_mode = "incremental" if incremental and name == "issues" else "full_refresh"
        entries.append(
            {
                "stream": {
                    "name": name,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"],
                },
                "sync_mode": sync_mode,
                "destination_sync_mode": "append_dedup"
                if sync_mode == "incremental"
                else "overwrite",
                "cursor_field": ["updated"] if sync_mode == "incremental" else None,
                "primary_key": [["id"]],
            }
        )
    return {"streams": entries}


def of_type(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [message for message in messages if message["type"] == kind]


def records(messages: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    return [
        m["record"]["data"] for m in of_type(messages, "RECORD") if m["record"]["stream"] == stream
    ]


def final_state(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last STATE of each stream, as a `--state` file holds them."""
    latest: dict[str, dict[str, Any]] = {}
    for message in of_type(messages, "STATE"):
        latest[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
    return list(latest.values())
