"""Figures for the `teams` stream: requests and wall time of a read, by number of workers.

    python -m integration_tests.benchmarks.teams [--teams 200] [--members 20]
        [--latency-ms 150] [--workers 1 3 10]

Serves `--teams` teams of `--members` members each from the fake Jira Cloud's Teams API, each
answer `--latency-ms` late, and reads the `teams` stream through the real `source-jira-port read`
once per `--workers` value (`num_workers`). It prints the team-list and member requests, the
records, and the wall time of each read (process start included).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.jira_teams import ORGANIZATION_ID, Team
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli
from integration_tests.support.messages import records


def _teams(count: int, members: int) -> list[Team]:
    return [
        Team(
            team_id=f"team-{n:05d}",
            display_name=f"Team {n}",
            description="",
            team_type="OPEN",
            state="ACTIVE",
            member_ids=tuple(f"account-{n:05d}-{m:03d}" for m in range(members)),
        )
        for n in range(count)
    ]


def measure(teams: int, members: int, latency_ms: int, workers: int) -> dict[str, float]:
    """Read the teams stream once and return its figures."""
    with (
        FakeJira("cloud", generate_dataset(projects=1, issues=1), latency_ms=latency_ms) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        fake.teams.teams = _teams(teams, members)
        config = fake.source_config(atlassian_organization_id=ORGANIZATION_ID, num_workers=workers)
        started = time.perf_counter()
        code, messages, stderr = SourceCli(Path(tmp)).run(
            "read", config, configured_catalog("teams")
        )
        wall = time.perf_counter() - started
        if code != 0:
            raise SystemExit(stderr)
        calls = [r.method for r in fake.requests_log if r.path.startswith("/gateway/")]
        return {
            "team list requests": calls.count("GET"),
            "member requests": calls.count("POST"),
            "team records": len(records(messages, "teams")),
            "wall s": round(wall, 2),
        }


def main() -> None:
    """Print the figures of one read per number of workers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3, 10])
    args = parser.parse_args()
    print(f"{args.teams} teams x {args.members} members, {args.latency_ms} ms per request")
    for workers in args.workers:
        figures = measure(args.teams, args.members, args.latency_ms, workers)
        print(f"num_workers {workers}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
