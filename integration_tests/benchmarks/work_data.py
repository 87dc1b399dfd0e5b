"""Figures for the agile and work data streams on one site: requests and wall time per stream.

    python -m integration_tests.benchmarks.work_data [--deployment cloud] [--projects 10]
        [--boards 20] [--sprints 200] [--issues 10000] [--worklogs-per-issue 3]
        [--latency-ms 150] [--workers 3]

Serves one fake Jira site (`--projects` projects, `--issues` issues, `--boards` boards,
`--sprints` sprints, `--worklogs-per-issue` worklogs on every issue), each answer
`--latency-ms` late, and reads each stream alone through the real `source-jira-port read`
with `num_workers` `--workers`. It prints, per stream, the requests the read sent to Jira, its
records, and its wall time (process start included). The per-stream figures of the streams
that have their own benchmark (`agile`, `project_parts`, `worklogs`) come out the same here;
this one shows them side by side at one site's size.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from integration_tests.benchmarks.agile import fill_agile
from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli
from integration_tests.support.messages import records

STREAMS = ("boards", "sprints", "epics", "backlog", "releases", "components", "worklogs")


def measure(fake: FakeJira, cli: SourceCli, stream: str, workers: int) -> dict[str, float]:
    """Read `stream` alone once and return its figures."""
    logged = len(fake.requests_log)
    started = time.perf_counter()
    code, messages, stderr = cli.run(
        "read", fake.source_config(num_workers=workers), configured_catalog(stream)
    )
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(stderr)
    sent = [r for r in fake.requests_log[logged:] if "serverInfo" not in r.path]
    return {
        "requests": len(sent),
        "records": len(records(messages, stream)),
        "wall s": round(wall, 2),
    }


def main() -> None:
    """Print one line of figures per stream."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deployment", choices=["cloud", "server"], default="cloud")
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--sprints", type=int, default=200)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--worklogs-per-issue", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    dataset = generate_dataset(projects=args.projects, issues=args.issues)
    with (
        FakeJira(args.deployment, dataset, latency_ms=args.latency_ms) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        fake.with_worklogs(every=1, per_issue=args.worklogs_per_issue)
        fill_agile(fake, args.boards, args.sprints)
        print(
            f"{args.deployment}: {args.projects} projects, {len(fake.agile.boards)} boards, "
            f"{len(fake.agile.sprints)} sprints, {args.issues} issues, "
            f"{len(fake.worklogs.worklogs)} worklogs; {args.latency_ms} ms per request, "
            f"num_workers {args.workers}"
        )
        cli = SourceCli(Path(tmp))
        for stream in STREAMS:
            figures = measure(fake, cli, stream, args.workers)
            print(f"{stream}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
