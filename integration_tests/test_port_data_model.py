"""The default mapping against a Port as strict as its docs, on every generated record."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from integration_tests.fakes.jira_data import Deployment, Renderer, generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.jira_teams import ORGANIZATION_ID
from integration_tests.fakes.jql import issue_order, parse_jql
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.commands import jira_port, summary_of
from integration_tests.support.configs import write_config
from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.client import PortClient
from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config
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


_PORT_FORMAT = Path(__file__).parent / "support" / "fixtures" / "port_format_app_config.yaml"


def _port_format(deployment: Deployment) -> str:
    """Port's format as pasted; Server / Data Center people have a `key`, not an `accountId`."""
    text = _PORT_FORMAT.read_text()
    # Legacy Server keys may hold characters Port refuses in identifiers: escape them.
    return text if deployment == "cloud" else text.replace(".accountId", ".key | port_identifier")


def _issue_jql() -> str:
    [issue] = [
        r for r in yaml.safe_load(_PORT_FORMAT.read_text())["resources"] if r["kind"] == "issue"
    ]
    return str(issue["selector"]["jql"])


def test_a_kind_no_stream_produces_is_refused_by_name(tmp_path: Path) -> None:
    document = yaml.safe_load(_PORT_FORMAT.read_text())
    document["resources"].append(
        {
            "kind": "velocity",
            "selector": {"query": "true"},
            "port": {"entity": {"mappings": {"identifier": ".id", "blueprint": '"jiraVelocity"'}}},
        }
    )
    index = len(document["resources"]) - 1
    with pytest.raises(MappingError) as raised:
        load_app_config(yaml.safe_dump(document))
    message = str(raised.value)
    assert f"resources[{index}]: kind velocity is neither a stream" in message
    assert f"resources[{index - 1}]" not in message  # Port's own kinds are all served

    with FakeJira("cloud", generate_dataset(projects=1, issues=5)) as jira, FakePort() as port:
        config = write_config(tmp_path, jira, port, mapping=yaml.safe_dump(document))
        done = jira_port("sync", "--config", config)
        assert port.entities("jiraIssue") == {}
    assert done.returncode == 2, done.stderr
    assert f"port.mapping: resources[{index}]: kind velocity" in done.stderr


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_ports_own_jira_mapping_syncs_everything_and_a_mapping_edit_re_maps_it(
    tmp_path: Path, deployment: Deployment
) -> None:
    """Kinds project, user, team and issue, an issue `selector.jql`, a team `includeMembers`."""
    dataset = generate_dataset(projects=3, issues=300)
    mapping = _port_format(deployment)
    edited = mapping.replace(
        "title: .fields.summary", """title: '"[" + .key + "] " + .fields.summary'"""
    )
    organization = {"atlassian_organization_id": ORGANIZATION_ID} if deployment == "cloud" else {}
    with FakeJira(deployment, dataset) as jira, FakePort(client_secret="port-secret") as port:
        config = write_config(tmp_path, jira, port, mapping=mapping, **organization)
        done = jira_port("sync", "--config", config)
        issues, projects = port.entities("jiraIssue"), port.entities("jiraProject")
        users, teams = port.entities("jiraUser"), port.entities("jiraTeam")
        expected_teams = jira.teams.teams if deployment == "cloud" else []
        query = parse_jql(
            _issue_jql(),
            projects=dataset.projects,
            zone=jira.zone,
            issue_ids=frozenset(i.id for i in dataset.issues.values()),
        )
        in_scope = {i.key for i in query.run(sorted(dataset.issues.values(), key=issue_order))}
        write_config(tmp_path, jira, port, mapping=edited, **organization)
        again = jira_port("sync", "--config", config)
        retitled = port.entities("jiraIssue")

    assert done.returncode == 0, done.stderr
    assert set(projects) == {project.key for project in dataset.projects}
    per_project = {
        p.key: sum(i.project_key == p.key for i in dataset.issues.values())
        for p in dataset.projects
    }
    totals = {key: entity["properties"]["totalIssues"] for key, entity in projects.items()}
    # Project insight exists on Cloud only; Server leaves the property null.
    assert totals == (per_project if deployment == "cloud" else dict.fromkeys(per_project))
    listed = [u for u in dataset.users if deployment == "cloud" or u.on_server]
    assert len(users) == len(listed)
    assert all(user["title"] for user in users.values())
    assert set(teams) == {team.team_id for team in expected_teams}
    for team in expected_teams:
        assert teams[team.team_id]["relations"]["members"] == list(team.member_ids)
        assert set(team.member_ids) <= set(users)
    if deployment == "server":  # Port's team kind maps nothing there, and says so
        assert "resource of kind teams (Port's team) that maps nothing" in done.stderr
    assert 0 < len(in_scope) < len(dataset.issues)
    # Parents and sub-tasks outside the jql exist only as Port's bare related entities.
    assert {key for key, entity in issues.items() if entity["properties"]} == in_scope
    for key in in_scope:
        issue, properties = dataset.issues[key], issues[key]["properties"]
        assert properties["labels"] == issue.labels
        assert properties["created"] and properties["updated"]
        assert (properties["resolutionDate"] is None) == (issue.resolved is None)
        assert properties["components"] == [c.name for c in issue.components]
        assert properties["url"].endswith(f"/browse/{key}")
        for relation in ("assignee", "reporter"):
            target = issues[key]["relations"].get(relation)
            assert target is None or users[target]["title"], (key, relation)

    assert again.returncode == 0, again.stderr
    assert "The mapping of stream issues changed since the last sync" in again.stderr
    assert {key: entity["title"] for key, entity in retitled.items() if entity["properties"]} == {
        key: f"[{key}] {dataset.issues[key].summary}" for key in in_scope
    }


_SELECTORS_MAPPING = """
resources:
  - kind: project
    selector: {query: "true", expand: "insight,lead"}
    port:
      entity:
        mappings:
          identifier: .key
          blueprint: '"selectedProject"'
          properties: {issueCount: .insight.totalIssueCount, lead: .lead.displayName}
  - kind: issue
    selector: {query: "true", fields: "summary,status", expand: "changelog,renderedFields,names"}
    port:
      entity:
        mappings:
          identifier: .key
          title: .fields.summary
          blueprint: '"selectedIssue"'
          properties:
            status: .fields.status.name
            hasLabels: .fields | has("labels")
            statusChanges: .changelog.total
            descriptionHtml: .renderedFields.description
            summaryName: .names.summary
"""
_SELECTED_BLUEPRINTS = [
    {
        "identifier": "selectedProject",
        "title": "Project",
        "schema": {
            "properties": {"issueCount": {"type": "number"}, "lead": {"type": "string"}},
        },
        "relations": {},
    },
    {
        "identifier": "selectedIssue",
        "title": "Issue",
        "schema": {
            "properties": {
                "status": {"type": "string"},
                "hasLabels": {"type": "boolean"},
                "statusChanges": {"type": "number"},
                "descriptionHtml": {"type": "string"},
                "summaryName": {"type": "string"},
            }
        },
        "relations": {},
    },
]


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_selector_fields_and_expand_reach_the_mapping_through_jira_port_sync(
    tmp_path: Path, deployment: Deployment
) -> None:
    dataset = generate_dataset(projects=2, issues=60)
    with FakeJira(deployment, dataset) as jira, FakePort(client_secret="port-secret") as port:
        for blueprint in _SELECTED_BLUEPRINTS:
            port.add_blueprint(blueprint)
        config = write_config(tmp_path, jira, port, mapping=_SELECTORS_MAPPING)
        done = jira_port("sync", "--config", config)
        issues, projects = port.entities("selectedIssue"), port.entities("selectedProject")
        searches = [r.query for r in jira.requests_log if r.path.endswith(("2/search", "/jql"))]

    assert done.returncode == 0, done.stderr
    reads = [q for q in searches if q.get("maxResults") == ["100"]]  # not probes nor sweeps
    assert reads
    assert all(q["fields"] == ["status,summary,updated,created,project"] for q in reads), reads
    assert all(q["expand"] == ["changelog,names,renderedFields"] for q in reads), reads
    assert set(issues) == set(dataset.issues)
    for key, entity in issues.items():
        issue, properties = dataset.issues[key], entity["properties"]
        assert properties["hasLabels"] is False  # only the fields asked for were read
        assert properties["status"] == issue.status.name
        assert properties["statusChanges"] == (0 if issue.status.name == "To Do" else 1)
        assert properties["descriptionHtml"] == (
            f"<p>{issue.description}</p>" if issue.description else None
        )
        assert properties["summaryName"] == "Summary"
    for key, entity in projects.items():
        count = sum(i.project_key == key for i in dataset.issues.values())
        assert entity["properties"]["issueCount"] == (count if deployment == "cloud" else None)
        assert entity["properties"]["lead"]
