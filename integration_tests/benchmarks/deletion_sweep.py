"""Figures for deletion detection: what the sweep costs, and what an incremental sync reads.

    python -m integration_tests.benchmarks.deletion_sweep [--issues 10000] [--changes 100]
        [--deletes 50]

For each deployment it serves `--issues` generated issues, runs a first incremental sync, then
updates `--changes` issues and deletes `--deletes`, and runs the next sync twice from the same
state: with the sweep (`deletion_sweep_every: 1`) and without (`0`). It prints the records each
sync read against the issues that changed, the deletion records, the sweep's search requests
(also per 10k issues), the wall time the sweep added, and the size of the issues state that
carries the known ids. Server's fake clamps pages at its default `maxResults` of 1000.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from integration_tests.benchmarks.read_consistency import read_issues
from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.messages import final_state, records


def _sweep_requests(fake: FakeJira, since: int) -> int:
    return sum(
        1
        for request in fake.requests_log[since:]
        if "ORDER BY id ASC" in (request.query.get("jql") or [""])[0]
    )


def measure(deployment: str, issues: int, changes: int, deletes: int) -> dict[str, float]:
    """Run the scenario once for a deployment and return its figures."""
    figures: dict[str, float] = {}
    with (
        FakeJira(deployment, generate_dataset(issues=issues)) as fake,  # type: ignore[arg-type]
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = fake.source_config(page_size=100)
        first = read_issues(Path(tmp), config, None)
        state = final_state(first)
        figures["sync 1: issue records"] = len(records(first, "issues"))
        [issues_state] = [s for s in state if s["stream"]["stream_descriptor"]["name"] == "issues"]
        figures["state bytes (issues stream)"] = len(json.dumps(issues_state))

        ordered = sorted(fake.dataset.issues.values(), key=lambda issue: issue.id)
        for issue in ordered[: changes * 2 : 2]:
            fake.update_issue(issue.key, summary="changed between syncs")
        gone = [i.key for i in ordered[1::2] if not i.subtask_keys][:deletes]
        for key in gone:
            fake.delete_issue(key)
        deleted = issues - len(fake.dataset.issues)

        timings = {}
        for every in (1, 0):
            since = len(fake.requests_log)
            started = time.perf_counter()
            second = read_issues(Path(tmp), {**config, "deletion_sweep_every": every}, state)
            timings[every] = time.perf_counter() - started
            sweeps = _sweep_requests(fake, since)
            if every:
                read = records(second, "issues")
                figures["issues changed between syncs"] = changes
                figures["issues deleted between syncs"] = deleted
                figures["sync 2: issue records read"] = sum(
                    1 for r in read if not r.get("_ab_cdc_deleted_at")
                )
                figures["sync 2: deletion records"] = sum(
                    1 for r in read if r.get("_ab_cdc_deleted_at")
                )
                figures["sweep: search requests"] = sweeps
                figures["sweep: requests per 10k issues"] = round(sweeps * 10_000 / issues, 1)
        figures["sweep: seconds added to sync 2"] = round(timings[1] - timings[0], 2)
    return figures


def main() -> None:
    """Print the figures for both deployments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--deletes", type=int, default=50)
    args = parser.parse_args()
    for deployment in ("cloud", "server"):
        for name, value in measure(deployment, args.issues, args.changes, args.deletes).items():
            print(f"{deployment:6} {name:34} {value:>9}")


if __name__ == "__main__":
    main()
