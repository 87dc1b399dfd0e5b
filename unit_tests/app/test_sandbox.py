from __future__ import annotations

from pathlib import Path

import yaml

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from source_jira_port.app.config import validate
from source_jira_port.app.sandbox import change_issues, describe_changes, write_sync_yaml


def test_change_issues_edits_spread_issues_adds_one_and_deletes_one() -> None:
    jira = FakeJira("cloud", generate_dataset(issues=50))
    before = {key: issue.updated for key, issue in jira.dataset.issues.items()}

    lines = change_issues(jira)

    changed = {
        key for key, issue in jira.dataset.issues.items() if issue.updated != before.get(key)
    }
    [deleted] = set(before) - set(jira.dataset.issues)
    assert len(lines) == 7 and len(changed) == 6
    assert [line.split(":")[0] for line in lines[:-1]] == sorted(
        changed, key=lambda key: jira.dataset.issues[key].id
    )
    assert lines[-2].endswith("new issue in PLAT")
    assert lines[-1] == f"{deleted}: deleted"


def test_describe_changes_names_entities_and_fields() -> None:
    def issue(title: str, status: str) -> dict[str, object]:
        return {"title": title, "properties": {"status": status}, "relations": {"project": "A"}}

    before = {
        "jiraIssue": {
            "A-1": issue("one", "To Do"),
            "A-2": issue("two", "To Do"),
            "A-3": issue("x", "Done"),
        }
    }
    after = {
        "jiraIssue": {
            "A-1": issue("one!", "Done"),
            "A-2": issue("two", "To Do"),
            "A-4": issue("four", "To Do"),
        }
    }

    assert describe_changes(before, after) == [
        '  + jiraIssue A-4 created: title "four"',
        "  - jiraIssue A-3 deleted",
        '  ~ jiraIssue A-1: status "To Do" -> "Done"; title "one" -> "one!"',
        "  1 changed, 1 created, 1 deleted, 1 unchanged.",
    ]


def test_the_sandbox_config_is_a_valid_sync_yaml(tmp_path: Path) -> None:
    (tmp_path / "sync.state.json").write_text("[]")
    jira, port = FakeJira("server", generate_dataset(issues=1)), FakePort()
    jira.base_url = "http://127.0.0.1:1"
    port.start()
    try:
        path = write_sync_yaml(tmp_path, jira, port)
    finally:
        port.stop()

    document = yaml.safe_load(path.read_text())
    assert validate(document) == []
    assert document["jira"]["credentials"]["auth_type"] == "basic"
    assert not (tmp_path / "sync.state.json").exists()
