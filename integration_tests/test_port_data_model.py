"""The default mapping against a Port as strict as its docs, on every generated record."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from integration_tests.fakes.jira_data import Deployment, Renderer, generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.commands import jira_port, summary_of
from integration_tests.support.configs import write_config
from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.client import PortClient
from source_jira_port.port.mapping import EntityMapper, load_app_config
from source_jira_port.port.validation import EntityValidator

pytestmark = pytest.mark.integration


def _records(deployment: Deployment) -> list[tuple[str, dict[str, Any]]]:
    """Every project, user and issue of a generated site as the source emits them."""
    data = generate_dataset(projects=3, issues=400)
    version = "3" if deployment == "cloud" else "2"
    site = "https://jira.example.com/jira"
    renderer = Renderer(data, deployment, version, site, ZoneInfo("Europe/Berlin"))
    records = [("projects", renderer.project(project)) for project in data.projects]
    listed = [u for u in data.users if deployment == "cloud" or u.on_server]
    records += [("users", renderer.user(user) or {}) for user in listed]
    for issue in data.issues.values():
        record = renderer.issue(issue, data.field_ids())
        fields = record["fields"]
        record |= {"updated": fields["updated"], "created": fields["created"]}
        record |= {"projectKey": issue.project_key, "projectId": fields["project"]["id"]}
        records.append(("issues", record))
    return records


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_every_generated_record_maps_to_entities_a_strict_port_accepts(
    deployment: Deployment,
) -> None:
    records = _records(deployment)
    users = [r["fields"]["assignee"] for _, r in records if r.get("fields", {}).get("assignee")]
    if deployment == "cloud":
        hidden = {u["accountId"] for u in users if "emailAddress" not in u}
        assert 0.25 < len(hidden) / len({u["accountId"] for u in users}) < 0.45
    else:
        assert {"edsger dijkstra", "f.allen=ibm#1"} <= {u["key"] for u in users}
    mapper = EntityMapper(load_app_config())
    validator = EntityValidator(default_blueprints())
    entities: dict[str, list[dict[str, Any]]] = {}
    for stream, record in records:
        for entity in mapper.map_record(stream, record):
            assert validator.problem(entity) is None, entity
            entities.setdefault(entity["blueprint"], []).append(entity)

    with FakePort() as port, PortClient(port.base_url, "port-client", "port-secret") as client:
        for blueprint in default_blueprints().values():
            port.add_blueprint(blueprint)
        errors = []
        for blueprint in ("jiraProject", "jiraUser", "jiraIssue"):
            batch = entities[blueprint]
            for start in range(0, len(batch), 20):
                chunk = batch[start : start + 20]
                result = client.upsert_entities(
                    blueprint, chunk, merge=True, create_missing_related_entities=True
                )
                errors += [(chunk[e.index]["identifier"], e.message, e.details) for e in result]
        stored_users = port.entities("jiraUser")

    assert errors == []
    assert len(entities["jiraIssue"]) == 400
    people = {(u.get("accountId") or u["key"]) for u in users}
    escaped = {"edsger dijkstra": "edsger=20dijkstra", "f.allen=ibm#1": "f.allen=3Dibm=231"}
    assert set(stored_users) >= {escaped.get(p, p) for p in people}
    assert len(stored_users) == len(entities["jiraUser"])  # every relation target is a user read
    assert all(user["title"] for user in stored_users.values())
    emails = [e["properties"]["emailAddress"] for e in entities["jiraUser"]]
    assert None in emails if deployment == "cloud" else None not in emails
    creators = [e["properties"]["creator"] for e in entities["jiraIssue"]]
    assert None in creators if deployment == "cloud" else None not in creators
    assert all(c is None or c.endswith("@example.com") for c in creators)


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_first_sync_into_a_strict_empty_port_writes_everything_and_counts_placeholders(
    tmp_path: Path, deployment: Deployment
) -> None:
    dataset = generate_dataset(projects=3, issues=300)
    with FakeJira(deployment, dataset) as jira, FakePort(client_secret="port-secret") as port:
        config = write_config(tmp_path, jira, port)
        done = jira_port("sync", "--config", config, "--log-format", "json")
        issues, projects = port.entities("jiraIssue"), port.entities("jiraProject")
        users = port.entities("jiraUser")

    assert done.returncode == 0, done.stderr
    assert set(issues) == set(dataset.issues)
    assert set(projects) == {project.key for project in dataset.projects}
    counts = summary_of(done.stderr)["entities"]
    issue_counts = counts["jiraIssue"]
    assert issue_counts["updated"] == issue_counts["failed"] == 0
    assert issue_counts["created"] + issue_counts["placeholders"] == 300
    assert issue_counts["placeholders"] > 0  # parents and sub-tasks Port first made bare
    # Users are read before issues: the relations land on titled users, none on a bare one.
    listed = [u for u in dataset.users if deployment == "cloud" or u.on_server]
    assert "bare" not in counts["jiraUser"] or counts["jiraUser"]["bare"] == 0
    assert counts["jiraUser"]["created"] + counts["jiraUser"]["placeholders"] == len(listed)
    assert len(users) == len(listed)
    assert all(user["title"] for user in users.values())
    for issue in issues.values():
        for relation in ("assignee", "reporter"):
            target = issue["relations"].get(relation)
            assert target is None or users[target]["title"], (issue["identifier"], relation)
