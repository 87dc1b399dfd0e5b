"""Figures for the `releases` and `components` streams: requests and wall time, by workers.

    python -m integration_tests.benchmarks.project_parts [--projects 10] [--latency-ms 150]
        [--deployment cloud] [--workers 1 3 10]

Serves `--projects` projects (three versions and three components each) from the fake Jira,
each answer `--latency-ms` late, and reads both streams through the real `source-jira-port read`
once per `--workers` value (`num_workers`). Each project is a partition, so the per-project
requests run concurrently; it prints the project list, version and component requests, the
records, and the wall time of each read (process start included).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from integration_tests.fakes.jira_data import Deployment, generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli
from integration_tests.support.messages import records


def measure(
    deployment: Deployment, projects: int, latency_ms: int, workers: int
) -> dict[str, float]:
    """Read both streams once and return their figures."""
    dataset = generate_dataset(projects=projects, issues=projects)
    with (
        FakeJira(deployment, dataset, latency_ms=latency_ms) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = fake.source_config(num_workers=workers)
        catalog = configured_catalog("releases", "components")
        started = time.perf_counter()
        code, messages, stderr = SourceCli(Path(tmp)).run("read", config, catalog)
        wall = time.perf_counter() - started
        if code != 0:
            raise SystemExit(stderr)
        paths = [r.path for r in fake.requests_log]
        return {
            "project list requests": sum(p.endswith(("/project", "/search")) for p in paths),
            "version requests": sum(p.endswith(("/version", "/versions")) for p in paths),
            "component requests": sum(p.endswith(("/component", "/components")) for p in paths),
            "records": len(records(messages, "releases")) + len(records(messages, "components")),
            "wall s": round(wall, 2),
        }


def main() -> None:
    """Print the figures of one read per number of workers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--deployment", choices=["cloud", "server"], default="cloud")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3, 10])
    args = parser.parse_args()
    print(f"{args.deployment}: {args.projects} projects, {args.latency_ms} ms per request")
    for workers in args.workers:
        figures = measure(args.deployment, args.projects, args.latency_ms, workers)
        print(f"num_workers {workers}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
