"""Figures for the pending retry: what reading skipped issues again by id costs.

    python -m integration_tests.benchmarks.pending_retry [--issues 5000] [--pending 1000]

For each deployment it serves `--issues` generated issues, runs a first incremental sync, then runs
the next sync (no change in Jira) twice from its state: as saved, and with `--pending` issue
ids in `pending_retry`, as the Port writer leaves them after skipping that many records. It
prints the search requests the retry sent, the records it emitted, the wall time it added, and
the size of the ids in the state. The fake Jira answers ids it does not have with nothing; a
real Jira answers 400, and the source then splits that query in halves (about 2 log2(100)
more requests per missing id, source_jira_port/pending_retry.py).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import tempfile
import time
from pathlib import Path

from integration_tests.benchmarks.read_consistency import read_issues
from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.messages import final_state, records

_BY_ID = re.compile(r"\(id = \d+(?: OR id = \d+)*\)")


def measure(deployment: str, issues: int, pending: int) -> dict[str, float]:
    """Run the scenario once for a deployment and return its figures."""
    figures: dict[str, float] = {}
    with (
        FakeJira(deployment, generate_dataset(issues=issues)) as fake,  # type: ignore[arg-type]
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = fake.source_config(page_size=100)
        state = final_state(read_issues(Path(tmp), config, None))
        ids = sorted((str(issue.id) for issue in fake.dataset.issues.values()), key=int)
        with_pending = copy.deepcopy(state)
        [issues_state] = [
            s for s in with_pending if s["stream"]["stream_descriptor"]["name"] == "issues"
        ]
        issues_state["stream"]["stream_state"]["pending_retry"] = ids[:pending]

        timings, emitted = [], []
        for saved in (state, with_pending):
            since = len(fake.requests_log)
            started = time.perf_counter()
            messages = read_issues(Path(tmp), config, saved)
            timings.append(time.perf_counter() - started)
            read = records(messages, "issues")
            emitted.append(sum(1 for r in read if not r.get("_ab_cdc_deleted_at")))
        by_id = [
            r for r in fake.requests_log[since:] if _BY_ID.search((r.query.get("jql") or [""])[0])
        ]
        figures["pending ids"] = pending
        figures["retry: search requests"] = len(by_id)
        figures["retry: issue records emitted"] = emitted[1] - emitted[0]
        figures["retry: seconds added to the sync"] = round(timings[1] - timings[0], 2)
        figures["state: bytes of pending_retry"] = len(json.dumps(ids[:pending]))
    return figures


def main() -> None:
    """Print the figures for both deployments."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=5_000)
    parser.add_argument("--pending", type=int, default=1_000)
    args = parser.parse_args()
    for deployment in ("cloud", "server"):
        for name, value in measure(deployment, args.issues, args.pending).items():
            print(f"{deployment:6} {name:34} {value:>9}")


if __name__ == "__main__":
    main()
