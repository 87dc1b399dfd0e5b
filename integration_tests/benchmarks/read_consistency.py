"""Figures for the read strategy: what a sync reads, and what it loses, while Jira changes.

    python -m integration_tests.benchmarks.read_consistency [--issues 5000] [--changes 25]

For each deployment: a bulk edit gives 300 issues one `updated` millisecond, and `--changes` issues
are updated while the first sync pages through. It prints how many issues a naive offset reader
of the same search loses, how many records each of our two syncs reads, and how many issues are
missing or stale after them (the goal: 0).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from integration_tests.consistency import jira_now, latest, offset_read
from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.messages import final_state, records

_SOURCE = str(Path(sys.executable).with_name("source-jira-port"))


def read_issues(
    folder: Path, config: dict[str, Any], state: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """Run `source-jira-port read` of the issues stream (incremental); return its messages."""
    files = {"config": config, "catalog": configured_catalog("issues", incremental=True)}
    if state:
        files["state"] = state
    args = ["read"]
    for name, content in files.items():
        (folder / f"{name}.json").write_text(json.dumps(content))
        args += [f"--{name}", str(folder / f"{name}.json")]
    done = subprocess.run([_SOURCE, *args], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _churn(fake: FakeJira, changes: int) -> None:
    ordered = sorted(fake.dataset.issues.values(), key=lambda i: (i.updated, i.id))
    at = datetime(2023, 6, 1, 9, 30, 0, 500000, tzinfo=UTC)
    for issue in ordered[100:400]:
        fake.update_issue(issue.key, at=at)

    def change(jira: FakeJira) -> None:
        for issue in ordered[:changes]:
            jira.update_issue(issue.key, summary="changed during the sync")

    fake.after_searches(5, change)


def measure(deployment: str, issues: int, changes: int) -> dict[str, int]:
    """Run the scenario once for a deployment and return its figures."""
    figures: dict[str, int] = {}
    with FakeJira(deployment, generate_dataset(issues=issues)) as fake:  # type: ignore[arg-type]
        fake.max_results_cap = 100
        _churn(fake, changes)
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        seen = offset_read(fake, f"updated <= {now_ms} ORDER BY updated ASC")
        figures["offset reader: issues lost"] = len(
            {i.id for i in fake.dataset.issues.values() if i.updated <= now_ms} - seen
        )
    with (
        FakeJira(deployment, generate_dataset(issues=issues)) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):  # type: ignore[arg-type]
        _churn(fake, changes)
        config = fake.source_config(page_size=100, num_workers=1, start_date="2023-01-01T00:00:00Z")
        first = read_issues(Path(tmp), config, None)
        second = read_issues(Path(tmp), config, final_state(first))
        jira, synced = jira_now(fake), latest(first, second)
        figures["sync 1: records read"] = len(records(first, "issues"))
        figures["sync 2: records read"] = len(records(second, "issues"))
        figures["issues changed during sync 1"] = changes
        figures["after both: missing"] = len(set(jira) - set(synced))
        figures["after both: stale"] = sum(1 for k, v in synced.items() if jira.get(k, v) != v)
    return figures


def main() -> None:
    """Print the figures for both deployments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--changes", type=int, default=25)
    args = parser.parse_args()
    for deployment in ("cloud", "server"):
        for name, value in measure(deployment, args.issues, args.changes).items():
            print(f"{deployment:6} {name:32} {value:>7}")


if __name__ == "__main__":
    main()
