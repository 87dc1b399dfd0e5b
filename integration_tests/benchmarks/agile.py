"""Figures for the agile streams: requests and wall time of each stream's read, by workers.

    python -m integration_tests.benchmarks.agile [--projects 10] [--boards 20] [--sprints 200]
        [--issues 2000] [--latency-ms 150] [--workers 1 3 10]

Serves `--boards` boards (one scrum board per project, one kanban board, the rest scrum boards
of the projects in turn) with `--sprints` sprints spread over the scrum boards, and the epics of
`--issues` generated issues, from the fake Jira Cloud's agile API, each answer `--latency-ms`
late. Reads `boards`, `sprints` and `epics`, each alone, through the real `source-jira-port
read` once per `--workers` value (`num_workers`), and prints each read's agile requests,
records and wall time (process start included).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli
from integration_tests.support.messages import records

STREAMS = ("boards", "sprints", "epics")


def fill_agile(fake: FakeJira, boards: int, sprints: int) -> None:
    """Add scrum boards and sprints (mostly closed) until the fake has `boards` and `sprints`."""
    agile = fake.agile
    keys = itertools.cycle(p.key for p in fake.dataset.projects)
    while len(agile.boards) < boards:
        agile.add_board(f"Extra {len(agile.boards)}", "scrum", next(keys))
    scrum = itertools.cycle([b.id for b in agile.boards.values() if b.type == "scrum"])
    states = itertools.cycle(("closed", "closed", "closed", "active", "future"))
    at = max(issue.updated for issue in fake.dataset.issues.values())
    while len(agile.sprints) < sprints:
        agile.add_sprint(next(scrum), next(states), at)


def measure(args: argparse.Namespace, stream: str, workers: int) -> dict[str, float]:
    """Read one agile stream once and return its figures."""
    dataset = generate_dataset(projects=args.projects, issues=args.issues)
    with (
        FakeJira("cloud", dataset, latency_ms=args.latency_ms) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        fill_agile(fake, args.boards, args.sprints)
        config = fake.source_config(num_workers=workers)
        started = time.perf_counter()
        code, messages, stderr = SourceCli(Path(tmp)).run(
            "read", config, configured_catalog(stream)
        )
        wall = time.perf_counter() - started
        if code != 0:
            raise SystemExit(stderr)
        calls = [r.path for r in fake.requests_log if r.path.startswith("/rest/agile/")]
        return {
            "requests": len(calls),
            "records": len(records(messages, stream)),
            "wall s": round(wall, 2),
        }


def main() -> None:
    """Print the figures of one read per stream and number of workers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--sprints", type=int, default=200)
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3, 10])
    args = parser.parse_args()
    print(
        f"{args.projects} projects, {args.boards} boards, {args.sprints} sprints, "
        f"{args.issues} issues, {args.latency_ms} ms per request"
    )
    for stream in STREAMS:
        for workers in args.workers:
            figures = measure(args, stream, workers)
            print(
                f"{stream}, num_workers {workers}: "
                + ", ".join(f"{k} {v}" for k, v in figures.items())
            )


if __name__ == "__main__":
    main()
