"""Port's `backlog` kind: its selector keys `jql`, `fields` and `useSoftwareApi`, each honoured or
refused by name, and Port's own backlog mapping read as Port reads it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config
from source_jira_port.port.selectors import BACKLOG_JQL

# Port's backlog mapping as its integration's tests give it (port-labs/ocean
# integrations/jira/tests/test_overrides.py BACKLOG_MAPPING).
PORTS_BACKLOG_MAPPING = {
    "identifier": ".id | tostring",
    "title": ".fields.summary",
    "blueprint": '"jiraIssue"',
    "properties": {
        "status": ".fields.status.name",
        "priority": ".fields.priority.name",
        "assignee": ".fields.assignee.accountId",
        "created": ".fields.created",
        "updated": ".fields.updated",
    },
    "relations": {"board": ".__boardId | tostring"},
}


def _mapping(*selectors: dict[str, Any], issue: dict[str, Any] | None = None) -> str:
    resources = [
        {"kind": "backlog", "selector": s, "port": {"entity": {"mappings": PORTS_BACKLOG_MAPPING}}}
        for s in selectors
    ]
    if issue is not None:
        mappings = {"identifier": ".key", "blueprint": '"jiraIssue"'}
        resources.append(
            {"kind": "issue", "selector": issue, "port": {"entity": {"mappings": mappings}}}
        )
    return yaml.safe_dump({"resources": resources})


def _refusal(text: str) -> str:
    with pytest.raises(MappingError) as raised:
        load_app_config(text)
    return str(raised.value)


def test_ports_backlog_mapping_maps_a_backlog_record_as_written() -> None:
    record = {
        "id": "10042",
        "key": "PROJ-42",
        "__boardId": 7,
        "fields": {"summary": "Fix it", "status": {"name": "To Do"}, "priority": None},
    }

    [entity] = EntityMapper(load_app_config(_mapping({"query": "true"}))).map_record(
        "backlog", record
    )

    assert (entity["identifier"], entity["title"]) == ("10042", "Fix it")
    assert entity["relations"] == {"board": "7"}
    assert entity["properties"]["status"] == "To Do"


@pytest.mark.parametrize(
    ("selector", "jql"),
    [
        ({"query": "true"}, BACKLOG_JQL),  # Port's default when the key is absent
        ({"query": "true", "jql": ""}, ""),  # Port: empty means the whole backlog
        ({"query": "true", "jql": "priority = High"}, "priority = High"),
    ],
)
def test_the_backlog_jql_is_what_port_would_send(selector: dict[str, Any], jql: str) -> None:
    reads = load_app_config(_mapping(selector)).source_reads({})

    assert reads["backlog_jql"] == jql


def test_the_backlog_jql_is_anded_with_the_one_the_source_config_sets() -> None:
    reads = load_app_config(_mapping({"jql": "priority = High"})).source_reads(
        {"backlog_jql": "labels = p1"}
    )

    assert reads["backlog_jql"] == "(labels = p1) AND (priority = High)"


def test_without_a_backlog_resource_the_source_config_keeps_its_backlog_jql() -> None:
    issue_only = yaml.safe_dump(
        {
            "resources": [
                {
                    "kind": "issue",
                    "port": {"entity": {"mappings": {"identifier": ".key", "blueprint": '"x"'}}},
                }
            ]
        }
    )

    reads = load_app_config(issue_only).source_reads({"backlog_jql": "labels = p1"})

    assert "backlog_jql" not in reads


def test_backlog_resources_with_different_jql_are_refused_naming_both() -> None:
    message = _refusal(_mapping({"jql": "priority = High"}, {"query": "true"}))

    assert "the backlog resources have different selector.jql" in message
    assert "'priority = High'" in message
    assert repr(BACKLOG_JQL) in message


def test_backlog_fields_are_read_with_the_issue_fields() -> None:
    config = load_app_config(
        _mapping({"fields": ["summary", "status"]}, issue={"fields": "assignee"})
    )

    assert config.source_reads({})["issue_fields"] == "assignee,status,summary"


def test_use_software_api_false_is_refused_by_name() -> None:
    message = _refusal(_mapping({"useSoftwareApi": False}))

    assert "selector.useSoftwareApi false" in message
    assert "removed on November 1, 2026" in message


def test_use_software_api_true_is_ports_default_and_accepted() -> None:
    assert load_app_config(_mapping({"useSoftwareApi": True})).backlog_jql() == BACKLOG_JQL


def test_use_software_api_must_be_a_boolean() -> None:
    assert "selector.useSoftwareApi must be true or false, got 'no'" in _refusal(
        _mapping({"useSoftwareApi": "no"})
    )


def test_a_key_of_another_kind_is_refused_on_backlog() -> None:
    message = _refusal(_mapping({"expand": "changelog"}))

    assert "selector.expand does not apply to kind backlog" in message
    assert "fields, jql, query, useSoftwareApi" in message


def test_an_empty_issue_jql_is_still_refused() -> None:
    message = _refusal(_mapping({"query": "true"}, issue={"jql": ""}))

    assert "selector.jql is empty: remove it to map every issue" in message


def test_a_backlog_jql_does_not_select_issues_as_an_issue_jql_does() -> None:
    mapper = EntityMapper(load_app_config(_mapping({"jql": "priority = High"})))

    assert mapper.issue_jql() == {}
