"""Figures for the `worklogs` stream: requests and wall time of a first and an incremental read.

    python -m integration_tests.benchmarks.worklogs [--issues 10000] [--worklogs-per-issue 3]
        [--projects 10] [--latency-ms 150] [--changes 100] [--deletions 10]

Serves `--issues` issues with `--worklogs-per-issue` worklogs each from the fake Jira Cloud and
Server, each answer `--latency-ms` late, and reads the `worklogs` stream through the real
`source-jira-port read`: once to the end, then, after `--changes` worklogs changed and
`--deletions` deleted, once more from the first read's state. It prints the requests of each
endpoint, the records, and the wall time of each read (process start included). Port's own
integration reads worklogs with one request per issue (at least `--issues` requests).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from integration_tests.fakes.jira_data import Deployment, generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.jira_worklogs import RECENT_MS
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli
from integration_tests.support.messages import final_state, records

_CATALOG = configured_catalog("worklogs", incremental=True)


def _read(
    fake: FakeJira, cli: SourceCli, state: list[dict[str, Any]] | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    logged = len(fake.requests_log)
    started = time.perf_counter()
    code, messages, stderr = cli.run("read", fake.source_config(), _CATALOG, state)
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(stderr)
    calls = Counter(
        r.path.split("/rest/api/")[-1][2:]
        for r in fake.requests_log[logged:]
        if "/rest/api/" in r.path and "serverInfo" not in r.path
    )
    found = records(messages, "worklogs")
    deletions = sum(1 for r in found if "_ab_cdc_deleted_at" in r)
    figures = {
        **{f"{name} requests": count for name, count in sorted(calls.items())},
        "records": len(found) - deletions,
        "deletion records": deletions,
        "wall s": round(wall, 2),
    }
    return figures, final_state(messages)


def measure(deployment: Deployment, args: argparse.Namespace) -> None:
    """Print the figures of a first and an incremental read on one deployment."""
    dataset = generate_dataset(projects=args.projects, issues=args.issues)
    with (
        FakeJira(deployment, dataset, latency_ms=args.latency_ms) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        fake.with_worklogs(every=1, per_issue=args.worklogs_per_issue)
        cli = SourceCli(Path(tmp))
        first, state = _read(fake, cli, None)
        print(f"{deployment} first read: " + ", ".join(f"{k} {v}" for k, v in first.items()))
        at = int(time.time() * 1000) - 2 * RECENT_MS
        with fake.lock:
            worklogs = list(fake.worklogs.worklogs)
            for worklog_id in worklogs[: args.changes]:
                fake.worklogs.update(worklog_id, at_ms=at, seconds=1800)
            for worklog_id in worklogs[-args.deletions :]:
                fake.worklogs.delete(worklog_id, at_ms=at)
        second, _ = _read(fake, cli, state)
        print(f"{deployment} incremental: " + ", ".join(f"{k} {v}" for k, v in second.items()))


def main() -> None:
    """Print the figures of both deployments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--worklogs-per-issue", type=int, default=3)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--deletions", type=int, default=10)
    parser.add_argument("--deployments", nargs="+", default=["cloud", "server"])
    args = parser.parse_args()
    print(
        f"{args.issues} issues x {args.worklogs_per_issue} worklogs, "
        f"{args.latency_ms} ms per request; {args.changes} changed and {args.deletions} deleted "
        "before the incremental read"
    )
    for deployment in args.deployments:
        measure(deployment, args)


if __name__ == "__main__":
    main()
