"""Throughput of a full issue read: our source, our pipeline into Port, and the official connector.

    python -m integration_tests.benchmarks.throughput [--issues 10000 50000] [--latency-ms 0 150]
        [--repeat 3] [--skip-official] [--official-venv /tmp/official-jira-venv]
        [--port-latency-ms 0] [--port-concurrency N]

For each issue count and Jira latency it serves one generated data set (about 7 KB of JSON per
issue with `fields=*all`, 30 custom fields) from the fake Jira Cloud, with the pre-2025 classic
`/rest/api/3/search` switched on for the official connector, and runs, each as subprocesses:

1. `source-jira-port read` (projects + issues, full refresh), its output counted by `grep`;
2. `source-jira-port read | destination-port write` into a fresh fake Port (in its own process);
3. the official `airbyte-source-jira` 4.0.0 (`official_jira.py` in its own virtualenv) on the
   same streams.

It prints wall time, CPU seconds (user + system), peak RSS (for the pipe: both processes summed;
each measured by `launch.py`, so it is the contender's own and not this process's), Jira
requests, records and records/s, as the median of `--repeat` runs with the spread (max - min),
then the ratios ours/official. Set up the official connector with
`python3.11 -m venv /tmp/official-jira-venv && /tmp/official-jira-venv/bin/pip install
airbyte-source-jira==4.0.0`. The fake runs in this process, so at 0 ms latency its rendering
(shared by all three) is part of every wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import CLOUD_API_TOKEN, CLOUD_EMAIL, FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.catalogs import configured_catalog

_BIN = Path(sys.executable).parent
_SOURCE = str(_BIN / "source-jira-port")
_DESTINATION = str(_BIN / "destination-port")
_OFFICIAL_LAUNCHER = Path(__file__).with_name("official_jira.py")
_LAUNCHER = Path(__file__).with_name("launch.py")
_RECORD = '"type":"RECORD"'
_PROJECTS = 5
_CUSTOM_FIELDS = 30


@dataclass(frozen=True)
class Run:
    """What one run of one contender cost."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    requests: int
    records: int

    @property
    def records_per_s(self) -> float:
        """Records per second of wall time."""
        return self.records / self.wall_s if self.wall_s else 0.0


@dataclass(frozen=True)
class _Usage:
    cpu_s: float
    peak_rss_mib: float


class _Measured:
    """A command started through `launch.py`, which measures its CPU time and peak RSS."""

    def __init__(self, command: list[str], folder: Path, **popen: Any) -> None:
        descriptor, usage = tempfile.mkstemp(prefix="usage-", suffix=".json", dir=folder)
        os.close(descriptor)
        self._usage = Path(usage)
        self.process = subprocess.Popen(
            [sys.executable, str(_LAUNCHER), str(self._usage), "--", *command],
            cwd=folder,
            **popen,
        )

    def wait(self) -> _Usage:
        """Wait for the command; return its usage, or raise if it failed."""
        if self.process.wait() != 0:
            raise RuntimeError(f"{self.process.args} exited with {self.process.returncode}")
        return _Usage(**json.loads(self._usage.read_text()))


def _write_json(folder: Path, name: str, content: Any) -> str:
    path = folder / name
    path.write_text(json.dumps(content))
    return str(path)


def _read_and_count(command: list[str], folder: Path) -> tuple[float, _Usage, int]:
    """Run a source, count the records it prints; return wall seconds, usage and records.

    `grep` counts them in its own process: a reader sharing this process's GIL with the fake
    Jira falls behind and holds the source back.
    """
    started = time.perf_counter()
    source = _Measured(command, folder, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    counter = subprocess.Popen(
        ["grep", "--count", "--fixed-strings", _RECORD],
        stdin=source.process.stdout,
        stdout=subprocess.PIPE,
    )
    assert source.process.stdout is not None
    source.process.stdout.close()  # grep holds the read end now
    usage = source.wait()
    count, _ = counter.communicate()
    return time.perf_counter() - started, usage, int(count)


def run_source(fake: FakeJira, folder: Path) -> Run:
    """Our source alone: `source-jira-port read`, its output only counted."""
    config = _write_json(folder, "source.json", fake.source_config())
    catalog = _write_json(folder, "catalog.json", configured_catalog("projects", "issues"))
    before = len(fake.requests_log)
    wall, usage, records = _read_and_count(
        [_SOURCE, "read", "--config", config, "--catalog", catalog], folder
    )
    return Run(wall, usage.cpu_s, usage.peak_rss_mib, len(fake.requests_log) - before, records)


@dataclass(frozen=True)
class PortSetup:
    """The fake Port's latency per request and the writer's `concurrency` (None: its default)."""

    latency_ms: int = 0
    concurrency: int | None = None


def _serve_port(connection: Connection, latency_ms: int) -> None:
    """Child process: serve a fresh fake Port, send its URL, then its entity count when asked."""
    with FakePort(latency_ms=latency_ms) as port:
        connection.send(port.base_url)
        connection.recv()
        connection.send(sum(port.entity_counts().values()))


@contextlib.contextmanager
def _fake_port_process(latency_ms: int) -> Iterator[tuple[str, Callable[[], int]]]:
    """A fake Port in its own process (a real Port does not share the fake Jira's GIL).

    Yields its base URL and a function that returns how many entities it holds.
    """
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_port, args=(theirs, latency_ms)
    )
    process.start()
    try:

        def count() -> int:
            ours.send("count")
            return int(ours.recv())

        yield str(ours.recv()), count
    finally:
        process.terminate()
        process.join()


def run_pipeline(fake: FakeJira, folder: Path, port: PortSetup) -> Run:
    """`source-jira-port read | destination-port write` into a fresh fake Port.

    CPU and peak RSS are both processes' summed; records are the entities Port holds afterwards.
    """
    config = _write_json(folder, "source.json", fake.source_config())
    catalog = _write_json(folder, "catalog.json", configured_catalog("projects", "issues"))
    concurrency = {} if port.concurrency is None else {"concurrency": port.concurrency}
    with _fake_port_process(port.latency_ms) as (port_url, port_entities):
        destination_config = _write_json(
            folder,
            "destination.json",
            {
                "port_client_id": "port-client",
                "port_client_secret": "port-secret",
                "port_base_url": port_url,
                "delete_missing_entities": True,
                **concurrency,
            },
        )
        before = len(fake.requests_log)
        started = time.perf_counter()
        source = _Measured(
            [_SOURCE, "read", "--config", config, "--catalog", catalog],
            folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        destination = _Measured(
            [_DESTINATION, "write", "--config", destination_config, "--catalog", catalog],
            folder,
            stdin=source.process.stdout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert source.process.stdout is not None
        source.process.stdout.close()  # the destination holds the read end now
        source_usage, destination_usage = source.wait(), destination.wait()
        wall = time.perf_counter() - started
        records = port_entities()
    return Run(
        wall,
        source_usage.cpu_s + destination_usage.cpu_s,
        source_usage.peak_rss_mib + destination_usage.peak_rss_mib,
        len(fake.requests_log) - before,
        records,
    )


def run_official(fake: FakeJira, folder: Path, venv: Path) -> Run:
    """The official connector 4.0.0 on `projects` + `issues`, its output only counted.

    It runs in `folder`: from a directory holding a `manifest.yaml` (like the repo root) the
    CDK would load that file instead of its own.
    """
    config = _write_json(
        folder,
        "official.json",
        {
            "domain": fake.base_url.removeprefix("http://"),
            "email": CLOUD_EMAIL,
            "api_token": CLOUD_API_TOKEN,
        },
    )
    catalog = _write_json(folder, "catalog.json", configured_catalog("projects", "issues"))
    command = [str(venv / "bin" / "python"), str(_OFFICIAL_LAUNCHER), "read"]
    before = len(fake.requests_log)
    wall, usage, records = _read_and_count(
        [*command, "--config", config, "--catalog", catalog], folder
    )
    return Run(wall, usage.cpu_s, usage.peak_rss_mib, len(fake.requests_log) - before, records)


def _summary(runs: list[Run]) -> dict[str, tuple[float, float]]:
    """Median and spread (max - min) of each figure."""
    figures = {
        "wall s": [r.wall_s for r in runs],
        "CPU s": [r.cpu_s for r in runs],
        "peak RSS MiB": [r.peak_rss_mib for r in runs],
        "requests": [float(r.requests) for r in runs],
        "records": [float(r.records) for r in runs],
        "records/s": [r.records_per_s for r in runs],
    }
    return {
        name: (statistics.median(values), max(values) - min(values))
        for name, values in figures.items()
    }


def _print_table(title: str, results: dict[str, list[Run]]) -> None:
    """One row per contender (median ± spread), then the ratios ours/official."""
    summaries = {name: _summary(runs) for name, runs in results.items()}
    columns = list(next(iter(summaries.values())))
    print(f"\n## {title}")
    print(f"| {'run':<30} | " + " | ".join(f"{c:>18}" for c in columns) + " |")
    print(f"|{'-' * 32}|" + "|".join("-" * 20 for _ in columns) + "|")
    for name, summary in summaries.items():
        cells = [f"{median:>10.2f} ± {spread:<5.2f}" for median, spread in summary.values()]
        print(f"| {name:<30} | " + " | ".join(cells) + " |")
    official = summaries.get("official 4.0.0")
    if official is None:
        return
    for name in ("ours: source", "ours: source → Port"):
        ratios = [
            summaries[name][column][0] / official[column][0] if official[column][0] else 0.0
            for column in columns
        ]
        label = f"{name} / official"
        print(f"| {label:<30} | " + " | ".join(f"{r:>17.2f}x" for r in ratios) + " |")


def benchmark(
    issues: int, latency_ms: int, repeat: int, official_venv: Path | None, port: PortSetup
) -> dict[str, list[Run]]:
    """Run every contender `repeat` times on one data set and latency; return their runs."""
    dataset = generate_dataset(
        projects=_PROJECTS, issues=issues, seed=0, custom_fields=_CUSTOM_FIELDS
    )
    results: dict[str, list[Run]] = {"ours: source": [], "ours: source → Port": []}
    if official_venv is not None:
        results["official 4.0.0"] = []
    with (
        FakeJira("cloud", dataset, latency_ms=latency_ms, classic_search=True) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        for _ in range(repeat):
            results["ours: source"].append(run_source(fake, folder))
            results["ours: source → Port"].append(run_pipeline(fake, folder, port))
            if official_venv is not None:
                results["official 4.0.0"].append(run_official(fake, folder, official_venv))
            fake.requests_log.clear()
    return results


def main(argv: list[str] | None = None) -> None:
    """CLI: benchmark each issue count at each latency and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 150])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--official-venv", type=Path, default=Path("/tmp/official-jira-venv"))
    parser.add_argument("--port-latency-ms", type=int, default=0)
    parser.add_argument("--port-concurrency", type=int, help="the writer's default when absent")
    args = parser.parse_args(argv)
    port = PortSetup(args.port_latency_ms, args.port_concurrency)
    official_venv = None if args.skip_official else args.official_venv
    if official_venv is not None and not (official_venv / "bin" / "python").exists():
        parser.error(f"no virtualenv at {official_venv}; create it or pass --skip-official")
    for issues in args.issues:
        for latency_ms in args.latency_ms:
            results = benchmark(issues, latency_ms, args.repeat, official_venv, port)
            _print_table(
                f"{issues} issues, {latency_ms} ms Jira latency, {port.latency_ms} ms Port "
                f"latency, median ± spread of {args.repeat}",
                results,
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
