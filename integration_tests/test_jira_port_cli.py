"""`jira-port sync` and `jira-port sandbox` end to end, as subprocesses, against the fakes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from integration_tests.fakes.jira_data import EPIC, format_jira_time, generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.commands import JIRA_PORT, events, jira_port, summary_of
from integration_tests.support.configs import PORT_SECRET, write_config

pytestmark = pytest.mark.integration

_JIRA_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud", generate_dataset(projects=3, issues=150)) as fake:
        yield fake


@pytest.fixture
def port() -> Iterator[FakePort]:
    with FakePort(client_secret=PORT_SECRET) as fake:
        yield fake


def saved_cursor(folder: Path) -> datetime:
    states = json.loads((folder / "state.json").read_text())
    [issues] = [s for s in states if s["stream"]["stream_descriptor"]["name"] == "issues"]
    assert set(issues) == {"type", "stream"}  # what `source-jira-port read --state` takes
    return datetime.strptime(issues["stream"]["stream_state"]["updated"], _JIRA_TIME)


def updated(jira: FakeJira, key: str) -> datetime:
    return _EPOCH + timedelta(milliseconds=jira.dataset.issues[key].updated)


def expected_issue(jira: FakeJira, key: str) -> dict[str, Any]:
    """The entity the default mapping makes of a Cloud issue, from the fake's own data."""
    issue = jira.dataset.issues[key]

    def email(person: Any) -> str | None:
        return str(person.email) if person.email_visible_on_cloud else None

    def account(person: Any) -> str | None:
        return None if person is None else str(person.account_id)

    return {
        "identifier": key,
        "title": issue.summary,
        "properties": {
            "url": f"{jira.base_url}/browse/{key}",
            "status": issue.status.name,
            "issueType": issue.issuetype.name,
            "components": [component.name for component in issue.components],
            "creator": email(issue.creator),
            "priority": issue.priority.name,
            "labels": issue.labels,
            "created": format_jira_time(issue.created, jira.zone),
            "updated": format_jira_time(issue.updated, jira.zone),
            "resolutionDate": issue.resolved and format_jira_time(issue.resolved, jira.zone),
        },
        "relations": {
            "project": issue.project_key,
            "parentIssue": issue.parent_key,
            "subtasks": issue.subtask_keys,
            "assignee": account(issue.assignee),
            "reporter": account(issue.reporter),
            "fixVersions": [version.id for version in issue.fix_versions],
            "sprints": sorted(str(i) for i in issue.custom.get(jira.agile.sprint_field) or ()),
        },
    }


def agile_entities(jira: FakeJira) -> int:
    """The boards, sprints and epics (one per id) the default mapping writes."""
    epics = sum(1 for issue in jira.dataset.issues.values() if issue.issuetype == EPIC)
    return len(jira.agile.boards) + len(jira.agile.sprints) + epics


def in_port(port: FakePort, key: str) -> dict[str, Any]:
    entity = port.entities("jiraIssue")[key]
    return {field: entity[field] for field in ("identifier", "title", "properties", "relations")}


def test_first_sync_writes_every_project_and_issue(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port)

    done = jira_port("sync", "--config", config)

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "Jira counts 150 issues to read." in done.stderr
    assert "Sync finished in" in done.stderr
    assert set(port.entities("jiraIssue")) == set(jira.dataset.issues)
    subtask = next(i.key for i in jira.dataset.issues.values() if i.parent_key)
    parent = jira.dataset.issues[subtask].parent_key or ""
    for key in ("PLAT-1", "MOB-7", subtask, parent):
        assert in_port(port, key) == expected_issue(jira, key)
    project = jira.dataset.projects[0]
    assert port.entities("jiraProject")[project.key]["properties"] == {
        "url": f"{jira.base_url}/projects/{project.key}",
        "projectType": project.type_key,
        "totalIssues": sum(i.project_key == project.key for i in jira.dataset.issues.values()),
    }
    assert saved_cursor(tmp_path) == max(updated(jira, key) for key in jira.dataset.issues)


def test_incremental_sync_rereads_exactly_the_changed_issues(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port, projects=["PLAT", "MOB"])
    assert jira_port("sync", "--config", config).returncode == 0
    newest = saved_cursor(tmp_path)
    synced = [key for key in jira.dataset.issues if key.startswith(("PLAT-", "MOB-"))]
    boundary = {key for key in synced if updated(jira, key) == newest}
    changed = ["PLAT-2", "MOB-3", "MOB-4"]
    for key in changed:
        jira.update_issue(key, summary=f"changed {key}", status="Done")
    added = jira.add_issue("PLAT", summary="brand new")["key"]
    jira.update_issue("DATA-1", summary="outside the synced projects")

    done = jira_port("sync", "--config", config, "--log-format", "json")

    assert done.returncode == 0, done.stderr
    summary = summary_of(done.stderr)
    assert summary["records"]["issues"] == len({*changed, added} | boundary)
    [start] = [e for e in events(done.stderr) if e["event"] == "start"]
    assert start["expected_issues"] == summary["records"]["issues"]
    for key in changed:
        assert in_port(port, key) == expected_issue(jira, key)
    assert in_port(port, added) == expected_issue(jira, added)
    assert "DATA-1" not in port.entities("jiraIssue")
    log = jira.requests_log
    [count_at] = [n for n, r in enumerate(log) if r.path.endswith("approximate-count")][-1:]
    searches = [
        r.query["jql"][0]
        for r in log[count_at:]
        if r.path.endswith("search/jql") and "updated >= " in r.query["jql"][0]
    ]  # the issue read, not the deletion sweep after it
    earliest = min(searches, key=lambda jql: int(jql.split("updated >= ")[1].split()[0]))
    count_jql = log[count_at].json["jql"]
    assert earliest.startswith(count_jql + " AND updated <= ")  # the sync's own lower bound
    assert count_jql.endswith(f"updated >= {(newest - _EPOCH) // timedelta(milliseconds=1)}")


def test_full_refresh_deletes_the_entities_jira_no_longer_has(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port)  # delete_missing_entities stays false
    assert jira_port("sync", "--config", config).returncode == 0
    gone = next(i.key for i in jira.dataset.issues.values() if not i.subtask_keys)
    jira.delete_issue(gone)

    done = jira_port("sync", "--config", config, "--full-refresh", "--log-format", "json")

    assert done.returncode == 0, done.stderr
    summary = summary_of(done.stderr)
    assert summary["records"]["issues"] == len(jira.dataset.issues)
    assert summary["entities"]["jiraIssue"]["deleted"] == 1
    assert set(port.entities("jiraIssue")) == set(jira.dataset.issues)
    assert saved_cursor(tmp_path) == max(updated(jira, key) for key in jira.dataset.issues)


def test_failed_sync_keeps_the_last_checkpoint_and_the_rerun_completes(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port, page_size=10, num_workers=1)
    port.fail(
        500, times=None, path="/jiraIssue/entities/bulk$", after=4, headers={"Retry-After": "0"}
    )

    failed = jira_port("sync", "--config", config)

    assert failed.returncode == 1
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "HTTP 500" in errors[0]
    assert "Traceback" not in failed.stderr
    cursor = saved_cursor(tmp_path)
    written = set(port.entities("jiraIssue"))
    assert cursor < max(updated(jira, key) for key in jira.dataset.issues)
    assert {key for key in jira.dataset.issues if updated(jira, key) < cursor} <= written
    assert written < set(jira.dataset.issues)

    port.clear_faults()
    resumed = jira_port("sync", "--config", config, "--log-format", "json")

    assert resumed.returncode == 0, resumed.stderr
    assert summary_of(resumed.stderr)["records"]["issues"] < len(jira.dataset.issues)
    assert {key: in_port(port, key) for key in jira.dataset.issues} == {
        key: expected_issue(jira, key) for key in jira.dataset.issues
    }


def test_ctrl_c_exits_130_with_the_state_at_the_last_confirmed_checkpoint(
    tmp_path: Path, port: FakePort
) -> None:
    with FakeJira("cloud", generate_dataset(projects=2, issues=2000)) as jira:
        config = write_config(tmp_path, jira, port, page_size=10, num_workers=1)
        process = subprocess.Popen(
            [*JIRA_PORT, "sync", "--config", str(config), "--log-format", "json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        seen: list[dict[str, Any]] = []
        for line in process.stderr:
            seen.append(json.loads(line))
            if seen[-1]["event"] == "checkpoint" and port.entities("jiraIssue"):
                process.send_signal(signal.SIGINT)
                break
        seen += events(process.stderr.read())
        assert process.wait(timeout=30) == 130

    summary = summary_of("\n".join(json.dumps(e) for e in seen))
    assert (summary["status"], summary["exit_code"]) == ("interrupted", 130)
    last = [e for e in seen if e["event"] == "checkpoint" and e["stream"] == "issues"][-1]
    cursor = saved_cursor(tmp_path)
    # The file holds the last checkpoint printed, or one confirmed as the signal arrived.
    assert cursor >= datetime.strptime(last["state"]["updated"], _JIRA_TIME)
    assert {k for k in jira.dataset.issues if updated(jira, k) < cursor} <= set(
        port.entities("jiraIssue")
    )
    assert summary["records"]["issues"] < 2000


def test_dry_run_prints_the_entities_and_writes_nothing(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port)

    done = jira_port("sync", "--config", config, "--dry-run")

    assert done.returncode == 0, done.stderr
    entities = [json.loads(line) for line in done.stdout.splitlines()]
    issues = {e["identifier"]: e for e in entities if e["blueprint"] == "jiraIssue"}
    assert set(issues) == set(jira.dataset.issues)
    users = {e["identifier"]: e for e in entities if e["blueprint"] == "jiraUser"}
    assert set(users) == {user.account_id for user in jira.dataset.users}
    parts = len(jira.dataset.project_versions) + sum(
        len(p.components) for p in jira.dataset.projects
    )
    backlog = len(jira.backlog.items())
    assert len(entities) == (
        len(issues)
        + len(jira.dataset.projects)
        + len(users)
        + parts
        + agile_entities(jira)
        + backlog
    )
    issue = issues["PLAT-1"]
    expected = expected_issue(jira, "PLAT-1")
    assert {k: issue[k] for k in expected} == expected
    assert f"Would write {len(entities)} entities" in done.stderr
    assert port.requests == []
    assert not (tmp_path / "state.json").exists()


def test_bad_config_files_exit_2_naming_the_key(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    good = yaml.safe_load(write_config(tmp_path, jira, port).read_text())
    credentials = good["jira"]["credentials"]
    cases = {
        "secret of the wrong type": (
            {**good, "jira": {**good["jira"], "credentials": {**credentials, "api_token": 98765}}},
            "jira.credentials.api_token: must be a string, not an integer",
        ),
        "missing key": (
            {**good, "jira": {**good["jira"], "credentials": {"auth_type": "api_token"}}},
            "jira.credentials.email: required key is missing",
        ),
        "wrong type": (
            {**good, "port": {**good["port"], "batch_size": "twenty"}},
            "port.batch_size: must be an integer, not a string",
        ),
        "unknown auth_type": (
            {**good, "jira": {**good["jira"], "credentials": {"auth_type": "kerberos"}}},
            "jira.credentials.auth_type: must be one of api_token, basic",
        ),
        "bad YAML": ("jira: {jira_url: [unclosed\n", "is not valid YAML"),
    }
    runs = {}
    for name, (content, _) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.yaml"
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        # Started together: each run is mostly the interpreter importing the CDK.
        runs[name] = subprocess.Popen(
            [*JIRA_PORT, "sync", "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    for name, (_, message) in cases.items():
        stdout, stderr = runs[name].communicate(timeout=60)
        lines = stderr.decode().splitlines()
        assert (runs[name].returncode, stdout, len(lines)) == (2, b"", 1), (name, lines)
        assert lines[0].startswith("error: ") and message in lines[0], (name, lines)
        assert "98765" not in lines[0]
    assert port.requests == [] and jira.requests_log == []


def test_sandbox_syncs_changes_and_shows_what_changed(tmp_path: Path) -> None:
    done = jira_port("sandbox", "--deployment", "server", "--issues", "300", "--dir", tmp_path)

    assert done.returncode == 0, done.stderr
    assert "Jira counts 300 issues to read." in done.stderr  # Server's search `total`
    changes = done.stdout.split("2/4 Changing issues and users in the fake Jira:\n")[1]
    keys = [line.split(":")[0].strip() for line in changes.split("\n\n")[0].splitlines()]
    report = done.stdout.split("4/4 What changed in Port:\n")[1]
    *changed, added, deleted, removed_user = keys
    for key in changed:
        assert f"~ jiraIssue {key}: " in report
    assert f"+ jiraIssue {added} created" in report
    assert f"- jiraIssue {deleted} deleted" in report
    assert removed_user == "user Pat Customer"
    assert "- jiraUser JIRAUSER10015 deleted" in report  # Pat Customer's Server user key
    # 298 issues, 14 users, 12 releases, 12 components, Jira Software's 5 boards, 12 sprints
    # and 16 epics, 36 backlog items; the new issue is in a backlog too
    assert "5 changed, 2 created, 2 deleted, 405 unchanged." in report
    assert done.stderr.count("Sync finished in") == 2
    assert (tmp_path / "sync.yaml").exists() and (tmp_path / "sync.state.json").exists()


def test_sandbox_serve_lets_a_user_run_the_sync(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [*JIRA_PORT, "sandbox", "--serve", "--issues", "80", "--dir", str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        for line in server.stdout:
            if line.startswith("Press Enter"):
                break
        first = jira_port("sync", "--config", tmp_path / "sync.yaml", "--log-format", "json")
        server.stdin.write("\n")
        server.stdin.flush()
        for line in server.stdout:
            if line.startswith("Changed:"):
                break
        second = jira_port("sync", "--config", tmp_path / "sync.yaml", "--log-format", "json")
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=30)

    assert summary_of(first.stderr)["records"]["issues"] == 80
    assert 6 <= summary_of(second.stderr)["records"]["issues"] < 80
    assert code == 0


def test_stdout_holds_only_the_entities_during_a_429_storm(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    # Each 429 makes the CDK print a RATE_LIMITED stream status TRACE to stdout.
    jira.inject_failure(429, times=3, path_prefix="/rest/api/3/search/jql")
    config = write_config(tmp_path, jira, port)

    done = jira_port("sync", "--config", config, "--dry-run", "--verbose")

    assert done.returncode == 0, done.stderr
    entities = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(set(entity) >= {"blueprint", "identifier", "properties"} for entity in entities)
    expected = len(jira.dataset.issues) + len(jira.dataset.projects) + len(jira.dataset.users)
    parts = len(jira.dataset.project_versions) + sum(
        len(p.components) for p in jira.dataset.projects
    )
    expected += len(jira.backlog.items())
    assert len(entities) == expected + parts + agile_entities(jira)
    assert "TRACE" not in done.stdout
    assert "info: Stream issues: rate_limited, retrying as Jira asks" in done.stderr


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_a_wrong_jira_password_exits_2_without_a_state_file(
    tmp_path: Path, port: FakePort, deployment: str
) -> None:
    with FakeJira(deployment, generate_dataset(projects=2, issues=20)) as jira:  # type: ignore[arg-type]
        config = write_config(tmp_path, jira, port)
        document = yaml.safe_load(config.read_text())
        secret = "api_token" if deployment == "cloud" else "password"
        document["jira"]["credentials"][secret] = "wrong-secret"
        config.write_text(yaml.safe_dump(document))

        done = jira_port("sync", "--config", config)

        # One login attempt, not one per window: Server locks an account after a few.
        sent = [r for r in jira.requests_log if not r.path.endswith("/serverInfo")]

    assert len(sent) == 1, [r.path for r in sent]
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "wrong-secret" not in done.stderr
    assert "credentials" in done.stderr
    assert "Jira counts" not in done.stderr  # Cloud's anonymous answer is no count
    assert "resume" not in done.stderr
    assert done.stderr.rstrip().endswith(
        "Fix what the error names, then run again. No state was saved."
    )
    assert not (tmp_path / "state.json").exists()
    assert port.entities("jiraIssue") == {}


def test_port_refusing_the_credentials_exits_2(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port)
    config.write_text(config.read_text().replace(PORT_SECRET, "wrong-port-secret"))

    done = jira_port("sync", "--config", config)

    assert done.returncode == 2, done.stderr
    assert "did not accept the credentials" in done.stderr
    assert not (tmp_path / "state.json").exists()


def test_dry_run_shows_deletions_as_deletions(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port)
    assert jira_port("sync", "--config", config).returncode == 0
    gone = next(i.key for i in jira.dataset.issues.values() if not i.subtask_keys)
    jira.delete_issue(gone)

    done = jira_port("sync", "--config", config, "--dry-run", "--log-format", "json")

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert {"operation": "delete", "blueprint": "jiraIssue", "identifier": gone} in lines
    summary = summary_of(done.stderr)
    assert summary["would_delete"] == {"jiraIssue": 1}
    assert "1 deletion record of deleted or moved issues" in summary["count_note"]
    assert summary["entities"] == {}  # nothing failed
    assert gone in port.entities("jiraIssue")


_PARENT_AS_IDENTIFIER = """
resources:
  - kind: projects
    selector: {query: "true"}
    port:
      entity:
        mappings: {identifier: .key, title: .name, blueprint: '"jiraProject"'}
  - kind: issues
    selector: {query: "true"}
    port:
      entity:
        mappings:
          identifier: .fields.parent.key
          title: .key
          blueprint: '"jiraIssue"'
          properties: {}
"""


def test_records_the_mapping_cannot_write_exit_3_in_a_dry_run_and_a_skipping_sync(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port)
    document = yaml.safe_load(config.read_text())
    document["port"].update(mapping=_PARENT_AS_IDENTIFIER, on_invalid_record="skip")
    config.write_text(yaml.safe_dump(document))
    no_parent = sum(1 for issue in jira.dataset.issues.values() if not issue.parent_key)

    dry = jira_port("sync", "--config", config, "--dry-run")
    done = jira_port("sync", "--config", config, "--log-format", "json")

    assert dry.returncode == 3, dry.stderr
    assert f"{no_parent:,} entities would fail" in dry.stderr
    assert done.returncode == 3, done.stderr
    summary = summary_of(done.stderr)
    assert (summary["status"], summary["entities"]["jiraIssue"]["failed"]) == (
        "partial",
        no_parent,
    )


def test_every_command_tells_its_version() -> None:
    def run(command: str, argument: str) -> subprocess.CompletedProcess[str]:
        script = Path(sys.executable).with_name(command)  # the console script users run
        return subprocess.run(
            [str(script), argument], capture_output=True, text=True, timeout=60, check=False
        )

    for command in ("jira-port", "source-jira-port", "destination-port"):
        done = run(command, "--version")
        expected = f"{command} {version('source-jira-port')}\n"
        assert (done.returncode, done.stdout) == (0, expected), done.stderr
    spec = run("source-jira-port", "spec")
    assert '"type":"SPEC"' in spec.stdout  # the entrypoint's own arguments still work


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"jql": "status = = Done"}, "Error in the JQL Query"),
        ({"projects": ["NOPE"]}, "The value 'NOPE' does not exist for the field 'project'"),
        ({"jira_url": "http://127.0.0.1:1"}, "Cannot reach Jira at http://127.0.0.1:1"),
    ],
)
def test_a_bad_jql_project_or_url_exits_2(
    tmp_path: Path, jira: FakeJira, port: FakePort, setting: dict[str, Any], message: str
) -> None:
    config = write_config(tmp_path, jira, port, **setting)

    done = jira_port("sync", "--config", config)

    assert done.returncode == 2, done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert message in error
    assert "resume" not in done.stderr
