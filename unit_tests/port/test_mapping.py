from __future__ import annotations

from typing import Any

import jq
import pytest

from integration_tests.support.records import make_issue, make_project
from source_jira_port.port import mapping
from source_jira_port.port.formats import identifier_problem
from source_jira_port.port.mapping import (
    EntityMapper,
    MappingError,
    RecordMappingError,
    load_app_config,
)

_ONE_RESOURCE = """
resources:
  - kind: issues
    selector:
      query: {selector}
    port:
      entity:
        mappings:
          identifier: .key
          title: .fields.summary
          blueprint: '"jiraIssue"'
          properties:
            status: {status}
"""


def _mapper(selector: str = "'true'", status: str = ".fields.status.name") -> EntityMapper:
    return EntityMapper(load_app_config(_ONE_RESOURCE.format(selector=selector, status=status)))


def _default_issue(record: dict[str, Any]) -> dict[str, Any]:
    [entity] = EntityMapper(load_app_config()).map_record("issues", record)
    return entity


def test_default_mapping_reproduces_the_seed_result_for_bsd6(server_issue: dict[str, Any]) -> None:
    entity = _default_issue(server_issue)

    assert entity["identifier"] == "BSD-6"
    assert entity["title"] == "As a user, I want to login"
    assert entity["blueprint"] == "jiraIssue"
    properties = entity["properties"]
    assert properties["url"] == "https://jira.example.com/browse/BSD-6"
    assert properties["status"] == "To Do"
    assert properties["issueType"] == "Story"
    assert "assignee" not in properties and "reporter" not in properties
    assert properties["creator"] is None  # the fixture's emailAddress is empty
    assert properties["priority"] == "Medium"
    assert properties["components"] == []
    assert entity["relations"] == {
        "project": "BSD",
        "parentIssue": None,
        "subtasks": [],
        "assignee": "JIRAUSER10001",  # the user key, not the renamable name `janedoe`
        "reporter": "JIRAUSER10002",
        "fixVersions": [],
        "sprints": [],  # its sprint field is empty
    }


def test_cloud_users_relate_by_account_id_and_only_emails_go_into_user_properties(
    cloud_issue: dict[str, Any],
) -> None:
    entity = _default_issue(cloud_issue)

    assert entity["relations"]["assignee"] == "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"
    assert entity["relations"]["reporter"] == "5b10a2844c20165700ede21g"  # no emailAddress
    assert entity["properties"]["creator"] is None  # empty emailAddress, never the accountId


def test_visible_creator_email_is_the_user_property() -> None:
    creator = {"accountId": "5b10a2844c20165700ede21g", "emailAddress": "mia@acme.example"}

    assert _default_issue(make_issue("ACME-1", creator=creator))["properties"]["creator"] == (
        "mia@acme.example"
    )


@pytest.mark.parametrize(
    ("key", "identifier"),
    [
        ("JIRAUSER10001", "JIRAUSER10001"),
        ("edsger dijkstra", "edsger=20dijkstra"),
        ("f.allen=ibm#1", "f.allen=3Dibm=231"),
        ("o'neil~x", "o=27neil=7Ex"),
        ("x²", "x=C2=B2"),
        ("Ünïcødé", "Ünïcødé"),
        (".", "=2E"),
    ],
)
def test_server_user_keys_are_escaped_into_port_identifiers(key: str, identifier: str) -> None:
    assignee = {"name": "renamed", "key": key, "emailAddress": "x@example.com"}

    entity = _default_issue(make_issue("ACME-1", assignee=assignee))

    assert entity["relations"]["assignee"] == identifier
    assert identifier_problem(identifier) is None


def test_malformed_creator_email_becomes_null() -> None:
    creator = {"name": "admin", "key": "admin", "emailAddress": "admin@localhost"}

    assert _default_issue(make_issue("ACME-1", creator=creator))["properties"]["creator"] is None


def test_cloud_issue_maps_type_url_and_relations(cloud_issue: dict[str, Any]) -> None:
    entity = _default_issue(cloud_issue)

    assert entity["identifier"] == "ACME-2"
    assert entity["properties"]["url"] == "https://acme.atlassian.net/browse/ACME-2"
    assert entity["properties"]["issueType"] == "Sub-task"
    assert entity["properties"]["status"] == "In Progress"
    relations = entity["relations"]
    assert (relations["project"], relations["parentIssue"], relations["subtasks"]) == (
        "ACME",
        "ACME-1",
        [],
    )


def test_components_map_to_their_names(cloud_issue: dict[str, Any]) -> None:
    assert _default_issue(cloud_issue)["properties"]["components"] == ["Backend", "Payments"]


def test_subtasks_map_to_their_keys() -> None:
    issue = make_issue("ACME-1", subtasks=[{"key": "ACME-2"}, {"key": "ACME-3"}])

    assert _default_issue(issue)["relations"]["subtasks"] == ["ACME-2", "ACME-3"]


def test_unassigned_issue_maps_assignee_to_null() -> None:
    assert _default_issue(make_issue("ACME-1", assignee=None))["relations"]["assignee"] is None


def test_server_context_path_survives_in_urls(server_issue: dict[str, Any]) -> None:
    server_issue["self"] = "https://jira.example.com/jira/rest/api/2/issue/10303"
    project = make_project("BSD") | {"self": "https://jira.example.com/jira/rest/api/2/project/1"}

    mapper = EntityMapper(load_app_config())
    assert _default_issue(server_issue)["properties"]["url"] == (
        "https://jira.example.com/jira/browse/BSD-6"
    )
    [entity] = mapper.map_record("projects", project)
    assert entity["properties"] == {
        "url": "https://jira.example.com/jira/projects/BSD",
        "projectType": "software",
        "totalIssues": None,
    }
    assert (entity["identifier"], entity["title"]) == ("BSD", "Project BSD")


def test_selector_false_skips_the_record() -> None:
    mapper = _mapper(selector="'.fields.status.name != \"Done\"'")

    assert mapper.map_record("issues", make_issue("ACME-1", status={"name": "Done"})) == []
    assert len(mapper.map_record("issues", make_issue("ACME-2"))) == 1


def test_selector_that_is_not_boolean_is_a_record_error() -> None:
    with pytest.raises(RecordMappingError, match="must return true or false"):
        _mapper(selector=".key").map_record("issues", make_issue("ACME-1"))


def test_records_of_other_kinds_produce_nothing() -> None:
    assert _mapper().map_record("projects", make_project("ACME")) == []


def test_jq_runtime_error_names_the_field() -> None:
    mapper = _mapper(status="'.fields.status.name | ascii_downcase | tonumber'")

    with pytest.raises(RecordMappingError, match=r"properties\.status: "):
        mapper.map_record("issues", make_issue("ACME-1"))


def test_expression_with_several_outputs_takes_the_first_and_empty_gives_null() -> None:
    first = _mapper(status="'.fields.components[].name'")
    empty = _mapper(status="empty")

    assert first.map_record("issues", make_issue("A-1"))[0]["properties"]["status"] == "Backend"
    assert empty.map_record("issues", make_issue("A-1"))[0]["properties"]["status"] is None


def test_null_title_is_left_out() -> None:
    [entity] = _mapper().map_record("issues", make_issue("A-1", summary=None))

    assert "title" not in entity


def test_each_resource_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []
    real_compile = jq.compile
    monkeypatch.setattr(
        mapping.jq, "compile", lambda text: compiled.append(text) or real_compile(text)
    )
    config = load_app_config()
    mapper = EntityMapper(config)

    for n in range(50):
        mapper.map_record("issues", make_issue(f"ACME-{n}"))

    assert len(compiled) == len(config.resources)  # one program each


def test_invalid_jq_is_reported_with_its_resource_and_field() -> None:
    with pytest.raises(MappingError, match=r"resources\[0\] \(kind issues\): properties\.status"):
        _mapper(status="'.fields.status.name |'")


def test_dynamic_blueprint_is_rejected() -> None:
    text = _ONE_RESOURCE.format(selector="'true'", status=".x").replace(
        "'\"jiraIssue\"'", ".fields.issuetype.name"
    )
    with pytest.raises(MappingError, match="jq string literal"):
        load_app_config(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("resources: []", "should be non-empty"),
        ("a: [", "not valid YAML"),
        (
            "resources:\n  - kind: issues\n    port: {entity: {mappings: {identifier: .key}}}",
            "blueprint",
        ),
        (
            _ONE_RESOURCE.format(selector="'true'", status=".x").replace(
                "    port:", "    port:\n      itemsToParse: .fields.subtasks"
            ),
            "itemsToParse",
        ),
    ],
)
def test_invalid_app_config_is_a_mapping_error(text: str, reason: str) -> None:
    with pytest.raises(MappingError, match=reason):
        load_app_config(text)


def test_top_level_flags_default_like_port_and_can_be_overridden() -> None:
    defaults = load_app_config(_ONE_RESOURCE.format(selector="'true'", status=".x"))
    overridden = load_app_config(
        "createMissingRelatedEntities: false\nenableMergeEntity: false\n"
        "deleteDependentEntities: false\nentityDeletionThreshold: 0.5\n"
        + _ONE_RESOURCE.format(selector="'true'", status=".x")
    )

    assert (defaults.create_missing_related_entities, defaults.enable_merge_entity) == (True, True)
    assert (defaults.delete_dependent_entities, defaults.entity_deletion_threshold) == (True, 0.9)
    assert overridden.create_missing_related_entities is False
    assert overridden.enable_merge_entity is False
    assert overridden.delete_dependent_entities is False
    assert overridden.entity_deletion_threshold == 0.5


def test_mapper_reports_kinds_and_blueprints() -> None:
    mapper = EntityMapper(load_app_config())

    assert mapper.kinds() == {
        *("projects", "issues", "users", "teams", "releases", "components", "worklogs"),
        *("boards", "sprints", "epics", "backlog"),
    }
    assert mapper.blueprints() == {
        *("jiraProject", "jiraIssue", "jiraUser", "jiraTeam", "jiraRelease", "jiraComponent"),
        *("jiraWorklog", "jiraBoard", "jiraSprint", "jiraEpic"),
        "jiraBacklogItem",
    }
    assert mapper.blueprints(frozenset({"issues"})) == {"jiraIssue"}
    assert mapper.kinds_writing("jiraProject") == {"projects"}
    assert mapper.kinds_writing("jiraUser") == {"users"}
