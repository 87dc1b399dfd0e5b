"""`selector.jql` on issue resources: `jira-port sync` reads the union of the resources' JQL
once and maps each issue only with the resources whose JQL matches it."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.commands import destination, jira_port
from integration_tests.support.configs import port_config, write_config
from integration_tests.support.messages import record, state
from integration_tests.support.records import make_issue

pytestmark = pytest.mark.integration

_DEFAULT = (
    resources.files("source_jira_port.port") / "defaults" / "port-app-config.yaml"
).read_text()
_DONE, _TO_DO = "status = Done", 'status = "To Do"'


def _two_issue_resources(to_do_jql: str = _TO_DO) -> str:
    """The default mapping with its issue resource split: Done issues as `KEY` titled "done: …",
    To Do issues as `KEY-todo`; issues in other statuses match neither. No relations to other
    issues, which Port would create bare."""
    document = yaml.safe_load(_DEFAULT)
    [issues] = [r for r in document["resources"] if r["kind"] == "issues"]
    # not the backlog: its `issue` relation would have Port create issues bare, by key
    others = [r for r in document["resources"] if r["kind"] not in ("issues", "backlog")]
    for relation in ("parentIssue", "subtasks"):  # Port would create their targets bare
        del issues["port"]["entity"]["mappings"]["relations"][relation]
    done, to_do = yaml.safe_load(yaml.safe_dump(issues)), issues
    done["selector"]["jql"] = _DONE
    done["port"]["entity"]["mappings"]["title"] = '"done: " + .fields.summary'
    to_do["selector"]["jql"] = to_do_jql
    to_do["port"]["entity"]["mappings"]["identifier"] = '.key + "-todo"'
    document["resources"] = [*others, done, to_do]
    return str(yaml.safe_dump(document))


def _config(folder: Path, jira: FakeJira, port: FakePort, mapping: str) -> Path:
    config = write_config(folder, jira, port)
    document = yaml.safe_load(config.read_text())
    document["port"]["mapping"] = mapping
    config.write_text(yaml.safe_dump(document))
    return config


def _expected(jira: FakeJira) -> dict[str, str]:
    """The jiraIssue entities the split mapping makes: identifier -> title."""
    expected = {}
    for key, issue in jira.dataset.issues.items():
        if issue.status.name == "Done":
            expected[key] = f"done: {issue.summary}"
        elif issue.status.name == "To Do":
            expected[f"{key}-todo"] = issue.summary
    return expected


def _titles(port: FakePort) -> dict[str, Any]:
    return {key: entity["title"] for key, entity in port.entities("jiraIssue").items()}


@pytest.fixture(params=["cloud", "server"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param, generate_dataset(projects=2, issues=80)) as fake:
        yield fake


@pytest.fixture
def port() -> Iterator[FakePort]:
    with FakePort(client_secret="port-secret") as fake:
        yield fake


def test_each_issue_is_written_with_the_resources_whose_jql_matches_it_only(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = _config(tmp_path, jira, port, _two_issue_resources())
    statuses = {issue.status.name for issue in jira.dataset.issues.values()}
    assert {"Done", "To Do"} < statuses  # and issues in neither

    done = jira_port("sync", "--config", config)

    assert done.returncode == 0, done.stderr
    assert _titles(port) == _expected(jira)
    jql = [r.query.get("jql", [""])[0] or (r.json or {}).get("jql", "") for r in jira.requests_log]
    union = f"(({_DONE}) OR ({_TO_DO}))"
    reads = [q for q in jql if "updated <= " in q]
    assert reads and all(union in q for q in reads)  # one read of the union

    to_do = next(k for k, i in jira.dataset.issues.items() if i.status.name == "To Do")
    finished = next(k for k, i in jira.dataset.issues.items() if i.status.name == "Done")
    jira.update_issue(to_do, status="Done")  # leaves one resource's JQL for the other's
    jira.update_issue(finished, status="In Progress")  # leaves every resource's JQL

    again = jira_port("sync", "--config", config)

    assert again.returncode == 0, again.stderr
    titles = _titles(port)
    assert f"{to_do}-todo" not in titles
    assert titles[to_do] == f"done: {jira.dataset.issues[to_do].summary}"
    assert finished not in titles
    assert titles == _expected(jira)


def _deleted_issues(port: FakePort) -> list[str]:
    """Return the jiraIssue identifiers the writer asked Port to delete, in order."""
    bulk = port.calls("POST", r"/jiraIssue/bulk/entities/delete$")
    single = port.calls("DELETE", r"/jiraIssue/entities/")
    return [i for r in bulk for i in r.body["entities"]] + [r.path.rsplit("/")[-1] for r in single]


def test_a_first_sync_sends_no_delete_for_issues_outside_a_resources_jql(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = _config(tmp_path, jira, port, _two_issue_resources())

    first = jira_port("sync", "--config", config)

    assert first.returncode == 0, first.stderr
    assert _titles(port) == _expected(jira)
    assert _deleted_issues(port) == []  # Port never had them: nothing to delete

    to_do = next(k for k, i in jira.dataset.issues.items() if i.status.name == "To Do")
    jira.update_issue(to_do, status="Done")

    again = jira_port("sync", "--config", config)

    assert again.returncode == 0, again.stderr
    assert f"{to_do}-todo" in _deleted_issues(port)  # a known issue left that resource's JQL


def test_a_resource_jql_jira_rejects_fails_before_any_issue_is_read(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    mapping = _two_issue_resources("stauts = Done")
    config = _config(tmp_path, jira, port, mapping)
    index = len(yaml.safe_load(mapping)["resources"]) - 1  # the To Do resource comes last

    done = jira_port("sync", "--config", config)

    assert done.returncode == 2, done.stderr
    assert f"mapping resources[{index}].selector.jql: Jira rejects" in done.stderr
    assert not [r for r in jira.requests_log if "updated >= " in str(r.query) + str(r.json)]
    assert port.entities("jiraIssue") == {}


def test_the_destination_alone_warns_that_it_cannot_apply_a_resource_jql(
    tmp_path: Path, port: FakePort
) -> None:
    messages = [record("issues", make_issue("ACME-1")), state("issues", {"updated": "1"})]

    mapping = _two_issue_resources()
    last = len(yaml.safe_load(mapping)["resources"]) - 1  # the two issue resources come last

    run = destination(tmp_path, "write", port_config(port, mapping=mapping), messages)

    assert run.returncode == 0
    [warning] = [w for w in run.logs("WARN") if "selector.jql" in w]
    assert f"resources[{last - 1}], resources[{last}] have a selector.jql" in warning
