"""The real command lines as subprocesses: `source-jira-port`, `destination-port`, `jira-port`."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteMessage

from integration_tests.fakes.jira_server import CLOUD_API_TOKEN
from integration_tests.support.catalogs import catalog_json
from integration_tests.support.configs import PORT_SECRET
from integration_tests.support.messages import serialize
from source_jira_port.state_keys import MAPPING_FINGERPRINT

# The console script installed next to this interpreter, as users run it.
SOURCE_COMMAND = [str(Path(sys.executable).with_name("source-jira-port"))]
JIRA_PORT = [sys.executable, "-m", "source_jira_port.app.main"]
_REPO = Path(__file__).resolve().parents[2]
_INCREMENTAL = (("projects", "append"), ("issues", "append_dedup"))


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


@dataclasses.dataclass
class DestinationRun:
    """What a `destination-port` run printed."""

    returncode: int
    messages: list[dict[str, Any]]
    stdout: str

    def states(self) -> list[dict[str, Any]]:
        """The stream states of the STATE messages, in order, without a mapping fingerprint.

        The writer stamps one on the states of incremental streams (`fingerprints` has them).
        """
        return [
            {key: value for key, value in state.items() if key != MAPPING_FINGERPRINT}
            for state in self._stream_states()
        ]

    def fingerprints(self) -> list[str | None]:
        """The mapping fingerprint of each STATE message, in order."""
        return [state.get(MAPPING_FINGERPRINT) for state in self._stream_states()]

    def _stream_states(self) -> list[dict[str, Any]]:
        return [m["state"]["stream"]["stream_state"] for m in self.messages if m["type"] == "STATE"]

    def logs(self, level: str) -> list[str]:
        """The LOG messages of one level."""
        return [
            m["log"]["message"]
            for m in self.messages
            if m["type"] == "LOG" and m["log"]["level"] == level
        ]

    def error(self) -> dict[str, Any]:
        """The one error TRACE."""
        [trace] = [m["trace"] for m in self.messages if m["type"] == "TRACE"]
        return dict(trace["error"])


def destination(
    folder: Path,
    command: str,
    config: dict[str, Any],
    messages: Sequence[AirbyteMessage] = (),
    streams: Sequence[tuple[str, str]] = _INCREMENTAL,
) -> DestinationRun:
    """Run `destination-port <command>` with `messages` on stdin; `PORT_SECRET` never shows."""
    (folder / "c.json").write_text(json.dumps(config))
    (folder / "cat.json").write_text(json.dumps(catalog_json(*streams)))
    args = [command, "--config", str(folder / "c.json")]
    if command == "write":
        args += ["--catalog", str(folder / "cat.json")]
    completed = subprocess.run(
        [sys.executable, "-m", "source_jira_port.port.run", *args],
        input="".join(serialize(message) + "\n" for message in messages),
        capture_output=True,
        text=True,
        cwd=_REPO,
        timeout=120,
        check=False,
    )
    assert PORT_SECRET not in completed.stdout + completed.stderr
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    return DestinationRun(
        completed.returncode, [json.loads(line) for line in lines], completed.stdout
    )


def jira_port(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run `jira-port` with `args`; neither the fake Jira's nor the fake Port's secret shows."""
    done = subprocess.run(
        [*JIRA_PORT, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )
    for secret in (CLOUD_API_TOKEN, PORT_SECRET):
        assert secret not in done.stdout + done.stderr
    return done


def events(stderr: str) -> list[dict[str, Any]]:
    """The events `jira-port --log-format json` printed on stderr."""
    return [json.loads(line) for line in stderr.splitlines()]


def summary_of(stderr: str) -> dict[str, Any]:
    """The one `summary` event of a `jira-port --log-format json` run."""
    [summary] = [e for e in events(stderr) if e["event"] == "summary"]
    return summary
