"""Upgrading: a Port with the blueprints of an earlier version stops the sync before writing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.commands import destination, jira_port, summary_of
from integration_tests.support.configs import write_config
from integration_tests.support.messages import record
from integration_tests.support.records import FIXTURES, load_fixture

pytestmark = pytest.mark.integration

_PORT_SECRET = "port-secret"


def _old_port() -> FakePort:
    """A fake Port with the built-in blueprints of commit 7744c49 (user properties, no jiraUser)."""
    port = FakePort(client_secret=_PORT_SECRET)
    for blueprint in json.loads((FIXTURES / "blueprints_before_jira_user.json").read_text()):
        port.add_blueprint(blueprint)
    return port


def test_sync_into_the_old_built_in_blueprints_exits_2_before_any_entity(tmp_path: Path) -> None:
    with FakeJira("cloud", generate_dataset(projects=2, issues=40)) as jira, _old_port() as port:
        config = write_config(tmp_path, jira, port)
        done = jira_port("sync", "--config", config, "--log-format", "json")
        entity_calls = port.calls(path="/entities")
        blueprint_changes = [r for r in port.calls(path="^/v1/blueprints") if r.method != "GET"]

    assert done.returncode == 2, done.stderr
    assert entity_calls == []
    assert blueprint_changes == []
    message = summary_of(done.stderr)["error"]
    assert (
        "jiraIssue in Port lacks the properties created, labels, resolutionDate, updated "
        "and relations assignee, fixVersions, reporter"
    ) in message
    assert "jiraProject in Port lacks the properties totalIssues" in message
    assert '"assignee": {"target": "jiraUser"' in message
    assert "create jiraRelease, jiraSprint, jiraUser first" in message
    assert not (tmp_path / "state.json").exists()


def test_destination_check_and_write_fail_on_the_old_built_in_blueprints(tmp_path: Path) -> None:
    messages = [record("issues", load_fixture("cloud_issue_v3.json"))]
    with _old_port() as port:
        config = {
            "port_client_id": "port-client",
            "port_client_secret": _PORT_SECRET,
            "port_base_url": port.base_url,
        }
        check = destination(tmp_path, "check", config)
        write = destination(tmp_path, "write", config, messages)
        entity_calls = port.calls(path="/entities")

    [status] = [m["connectionStatus"] for m in check.messages if m["type"] == "CONNECTION_STATUS"]
    assert status["status"] == "FAILED"
    assert "and relations assignee, fixVersions, reporter" in status["message"]
    assert write.returncode != 0
    error = write.error()
    assert error["failure_type"] == "config_error"
    assert error["message"] == status["message"]
    assert entity_calls == []
