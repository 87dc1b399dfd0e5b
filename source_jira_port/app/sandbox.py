"""`jira-port sandbox`: the whole job on a local fake Jira and a local fake Port.

It starts the servers the tests use on 127.0.0.1 (a fake Jira with a generated dataset, and a
fake Port), writes a sync.yaml for them, then: 1. syncs every project and issue into the local
Port; 2. changes a few issues and adds one in the fake Jira; 3. runs the incremental sync;
4. prints what changed in Port. `--serve` only starts the servers and writes sync.yaml, so that
`jira-port sync --config <it>` can be run by hand; Enter changes issues again, Ctrl-C stops.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

import yaml

from source_jira_port.app.config import ConfigError, load_job
from source_jira_port.app.progress import Reporter
from source_jira_port.app.sync import EXIT_OK, SyncOptions, sync
from source_jira_port.port.mapping import EntityMapper, load_app_config

if TYPE_CHECKING:  # the fakes are imported when the sandbox runs: they are not in the wheel
    from integration_tests.fakes.jira_data import Issue
    from integration_tests.fakes.jira_server import FakeJira
    from integration_tests.fakes.port_server import FakePort

Snapshot = dict[str, dict[str, dict[str, Any]]]  # blueprint -> identifier -> entity
_STATE_FILE = "sync.state.json"
_NOT_IN_A_CHECKOUT = (
    "jira-port sandbox runs the fake Jira and fake Port of a source checkout "
    "(integration_tests/fakes), which this installation does not have ({error}). "
    "In a checkout of source-jira-port, run ./scripts/sandbox.sh, "
    "or run jira-port sandbox with the checkout on PYTHONPATH."
)
# Edits the sandbox makes, in turn, to the issues it picks: field -> new value.
_EDITS: tuple[Callable[[Issue], dict[str, Any]], ...] = (
    lambda issue: {"status": "In Progress" if issue.status.name == "Done" else "Done"},
    lambda issue: {"summary": f"{issue.summary} (edited in the sandbox)"},
    lambda issue: {"priority": "Lowest" if issue.priority.name == "Highest" else "Highest"},
    lambda issue: {"status": "In Review" if issue.status.name != "In Review" else "To Do"},
    lambda issue: {"issuetype": "Bug" if issue.issuetype.name == "Task" else "Task"},
)


@dataclasses.dataclass(frozen=True)
class SandboxOptions:
    """Command line choices of `jira-port sandbox`."""

    deployment: Literal["cloud", "server"] = "cloud"
    issues: int = 3000
    projects: int = 4
    seed: int = 0
    directory: Path | None = None
    serve: bool = False


def run_sandbox(options: SandboxOptions, reporter: Reporter, out: TextIO) -> int:
    """Run the sandbox tour (or serve); return the exit code of the first failing sync, or 0.

    Raises `ConfigError` when the fakes cannot be imported (not a source checkout).
    """
    try:
        from integration_tests.fakes.jira_data import generate_dataset  # noqa: PLC0415
        from integration_tests.fakes.jira_server import FakeJira  # noqa: PLC0415
        from integration_tests.fakes.port_server import FakePort  # noqa: PLC0415
    except ImportError as error:
        raise ConfigError(_NOT_IN_A_CHECKOUT.format(error=error)) from error
    dataset = generate_dataset(projects=options.projects, issues=options.issues, seed=options.seed)
    folder = options.directory or Path(tempfile.mkdtemp(prefix="jira-port-sandbox-"))
    with FakeJira(options.deployment, dataset) as jira, FakePort() as port:
        config = write_sync_yaml(folder, jira, port)
        _say(
            out,
            f"Fake Jira ({jira.deployment}, {len(dataset.issues):,} issues in "
            f"{len(dataset.projects)} projects, {len(dataset.users)} users) at {jira.base_url}\n"
            f"Fake Port at {port.base_url}\nConfig: {config}",
        )
        if options.serve:
            return _serve(config, jira, out)
        return _tour(config, jira, port, reporter, out)


def write_sync_yaml(folder: Path, jira: FakeJira, port: FakePort) -> Path:
    """Write a sync.yaml for the two fakes (and drop any state left from an earlier sandbox)."""
    from integration_tests.fakes.jira_data import DEFAULT_START  # noqa: PLC0415

    document = {
        "jira": jira.source_config(start_date=f"{DEFAULT_START:%Y-%m-%dT%H:%M:%SZ}"),
        "port": {
            "port_client_id": port.client_id,
            "port_client_secret": port.client_secret,
            "port_base_url": port.base_url,
            "delete_missing_entities": True,
        },
        "state_file": _STATE_FILE,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _STATE_FILE).unlink(missing_ok=True)  # a new fake Port starts empty
    path = folder / "sync.yaml"
    header = "# Written by `jira-port sandbox` for its local fake Jira and fake Port.\n"
    path.write_text(header + yaml.safe_dump(document, sort_keys=False))
    return path


def change_issues(jira: FakeJira, count: int = 5) -> list[str]:
    """Edit `count` issues spread over the dataset, add one, delete one; describe each change."""
    issues = sorted(jira.dataset.issues.values(), key=lambda issue: issue.id)
    picks = [issues[(2 * n + 1) * len(issues) // (2 * count)] for n in range(count)]
    lines = []
    for n, issue in enumerate(picks):
        edit = _EDITS[n % len(_EDITS)](issue)
        jira.update_issue(issue.key, **edit)
        lines.append(
            f"{issue.key}: " + ", ".join(f"{k} -> {json.dumps(v)}" for k, v in edit.items())
        )
    project = jira.dataset.projects[0].key
    added = jira.add_issue(project, summary="Created in the sandbox", issuetype="Bug")
    lines.append(f"{added['key']}: new issue in {project}")
    chosen = {issue.key for issue in picks}
    gone = next(
        issue.key
        for issue in reversed(issues)
        if issue.key not in chosen and not issue.subtask_keys and issue.parent_key is None
    )
    jira.delete_issue(gone)
    lines.append(f"{gone}: deleted")
    return lines


def remove_user(jira: FakeJira) -> str:
    """Remove the last user account that no issue refers to; describe the change."""
    referenced = {
        user.key
        for issue in jira.dataset.issues.values()
        for user in (issue.assignee, issue.reporter, issue.creator)
        if user is not None
    }
    gone = next(u for u in reversed(jira.dataset.users) if u.key not in referenced)
    jira.delete_user(gone.key)
    return f"user {gone.display_name}: removed"


def describe_changes(before: Snapshot, after: Snapshot) -> list[str]:
    """Return lines naming each created, deleted and changed entity, with changed fields."""
    lines, totals = [], {"changed": 0, "created": 0, "deleted": 0, "unchanged": 0}
    for blueprint in sorted(after):
        old, new = before.get(blueprint, {}), after[blueprint]
        for identifier in sorted(new.keys() - old.keys()):
            totals["created"] += 1
            title = json.dumps(new[identifier].get("title"))
            lines.append(f"  + {blueprint} {identifier} created: title {title}")
        for identifier in sorted(old.keys() - new.keys()):
            totals["deleted"] += 1
            lines.append(f"  - {blueprint} {identifier} deleted")
        for identifier in sorted(old.keys() & new.keys()):
            changes = _changed_fields(old[identifier], new[identifier])
            totals["changed" if changes else "unchanged"] += 1
            if changes:
                lines.append(f"  ~ {blueprint} {identifier}: " + "; ".join(changes))
    lines.append("  " + ", ".join(f"{n:,} {what}" for what, n in totals.items()) + ".")
    return lines


def _tour(config: Path, jira: FakeJira, port: FakePort, reporter: Reporter, out: TextIO) -> int:
    job = load_job(config)
    blueprints = EntityMapper(load_app_config(job.port.mapping)).blueprints()
    _say(out, "\n1/4 First sync: every project, user and issue into the local Port")
    code = sync(job, SyncOptions(), reporter, out)
    if code != EXIT_OK:
        return code
    before = _snapshot(port, blueprints)
    changed = [*change_issues(jira), remove_user(jira)]
    _say(out, "\n2/4 Changing issues and users in the fake Jira:\n  " + "\n  ".join(changed))
    _say(
        out,
        "\n3/4 Incremental sync: the issues updated since the saved state, and a sweep of "
        "issue ids for deletions",
    )
    code = sync(job, SyncOptions(), reporter, out)
    if code != EXIT_OK:
        return code
    changes = describe_changes(before, _snapshot(port, blueprints))
    _say(out, "\n4/4 What changed in Port:\n" + "\n".join(changes))
    _say(
        out,
        f"\nRun the syncs yourself: jira-port sandbox --serve --dir {config.parent}\n"
        f"and in another terminal: jira-port sync --config {config}",
    )
    return EXIT_OK


def _serve(config: Path, jira: FakeJira, out: TextIO) -> int:
    _say(
        out,
        f"\nIn another terminal:\n  jira-port sync --config {config}\n"
        "Press Enter to change issues in the fake Jira, Ctrl-C to stop.",
    )
    try:
        for _ in sys.stdin:
            _say(out, "Changed:\n  " + "\n  ".join(change_issues(jira)))
        threading.Event().wait()  # stdin closed: serve until Ctrl-C
    except KeyboardInterrupt:
        _say(out, "Stopped.")
    return EXIT_OK


def _snapshot(port: FakePort, blueprints: frozenset[str]) -> Snapshot:
    return {blueprint: port.entities(blueprint) for blueprint in blueprints}


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    fields = {"title": (old.get("title"), new.get("title"))}
    for group in ("properties", "relations"):
        names = old.get(group, {}).keys() | new.get(group, {}).keys()
        for name in names:
            fields[name] = (old.get(group, {}).get(name), new.get(group, {}).get(name))
    return [
        f"{name} {json.dumps(was)} -> {json.dumps(now)}"
        for name, (was, now) in sorted(fields.items())
        if was != now
    ]


def _say(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()
