"""`selector.jql` in the mapping: which resources map an issue, and which entities it loses."""

from __future__ import annotations

import pytest

from integration_tests.support.records import make_issue
from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config

_MAPPING = """
resources:
  - kind: issues
    selector: {jql: status = Done}
    port: {entity: {mappings: {identifier: .key, blueprint: '"jiraIssue"'}}}
  - kind: issues
    selector: {jql: 'status = "To Do"'}
    port: {entity: {mappings: {identifier: '.key + "-todo"', blueprint: '"jiraIssue"'}}}
  - kind: issues
    port: {entity: {mappings: {identifier: .key, blueprint: '"jiraIssue"', title: .key}}}
"""


def test_the_jql_of_each_issue_resource_is_known_by_index() -> None:
    assert EntityMapper(load_app_config(_MAPPING)).issue_jql() == {
        0: "status = Done",
        1: 'status = "To Do"',
    }


def test_a_jql_on_a_resource_that_is_not_of_issues_is_refused_by_index() -> None:
    mapping = _MAPPING.replace(
        "  - kind: issues\n    selector: {jql: status",
        "  - kind: projects\n    selector: {jql: status",
        1,
    )

    with pytest.raises(
        MappingError, match=r"resources\[0\]: selector\.jql does not apply to kind project"
    ):
        load_app_config(mapping)


def test_without_a_selection_every_resource_maps_every_issue() -> None:
    mapper = EntityMapper(load_app_config(_MAPPING))
    issue = make_issue("ACME-1")

    assert [e["identifier"] for e in mapper.map_record("issues", issue)] == [
        "ACME-1",
        "ACME-1-todo",
        "ACME-1",
    ]
    assert mapper.unselected_by_jql("issues", issue) == []


def test_an_issue_is_mapped_only_by_the_resources_whose_jql_matches_it() -> None:
    mapper = EntityMapper(load_app_config(_MAPPING))
    done, to_do = make_issue("ACME-1") | {"id": "1"}, make_issue("ACME-2") | {"id": "2"}
    mapper.select_by_jql({0: frozenset({"1"}), 1: frozenset({"2"})})

    assert [e["identifier"] for e in mapper.map_record("issues", done)] == ["ACME-1", "ACME-1"]
    assert [e["identifier"] for e in mapper.map_record("issues", to_do)] == [
        "ACME-2-todo",
        "ACME-2",
    ]
    assert mapper.unselected_by_jql("issues", done) == [("jiraIssue", "ACME-1-todo")]
    assert mapper.unselected_by_jql("issues", to_do) == [("jiraIssue", "ACME-2")]
