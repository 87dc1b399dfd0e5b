"""Port's `worklog` kind: its selector keys refused by name, the default jiraWorklog mapping."""

from typing import Any

import pytest
import yaml

from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config

# Port's own worklog mapping (port-labs/ocean integrations/jira/tests/test_overrides.py).
_PORTS_WORKLOG_MAPPING = {
    "identifier": ".id",
    "title": '.author.displayName + " - " + .started',
    "blueprint": '"jiraWorklog"',
    "properties": {
        "timeSpent": ".timeSpent",
        "timeSpentSeconds": ".timeSpentSeconds",
        "started": ".started",
        "authorAccountId": ".author.accountId",
        "authorEmail": ".author.emailAddress",
    },
    "relations": {"issue": ".__issueKey"},
}


def _mapping(selector: dict[str, Any]) -> str:
    resource = {
        "kind": "worklog",
        "selector": selector,
        "port": {"entity": {"mappings": _PORTS_WORKLOG_MAPPING}},
    }
    return yaml.safe_dump({"resources": [resource]})


def _worklog(author: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "100028",
        "issueId": "10002",
        "__issueKey": "PLAT-7",
        "author": author,
        "started": "2024-05-01T10:00:00.000+0200",
        "created": "2024-05-01T11:00:00.000+0200",
        "updated": "2024-05-01T11:00:00.000+0200",
        "timeSpent": "1h",
        "timeSpentSeconds": 3600,
        "updatedTime": 1714554000000,
    }


def test_ports_own_worklog_mapping_maps_a_worklog_record_as_written() -> None:
    mapper = EntityMapper(load_app_config(_mapping({"query": "true"})))
    author = {"accountId": "557058:abc", "displayName": "Ada", "emailAddress": "ada@example.com"}

    [entity] = mapper.map_record("worklogs", _worklog(author))

    assert entity["identifier"] == "100028"
    assert entity["title"] == "Ada - 2024-05-01T10:00:00.000+0200"
    assert entity["relations"] == {"issue": "PLAT-7"}
    assert entity["properties"]["authorAccountId"] == "557058:abc"


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("jql", "updated >= -1w", "scope them with the source's `projects` option"),
        ("apiQueryParams", {"startedAfter": 1700000000000}, "`selector.query` on `.started`"),
    ],
)
def test_ports_worklog_selector_keys_are_refused_by_name(key: str, value: Any, said: str) -> None:
    with pytest.raises(MappingError) as raised:
        load_app_config(_mapping({"query": "true", key: value}))

    assert f"selector.{key} is not supported on kind worklog" in str(raised.value)
    assert said in str(raised.value)


def test_a_key_of_another_kind_on_a_worklog_says_what_worklogs_take() -> None:
    with pytest.raises(MappingError) as raised:
        load_app_config(_mapping({"query": "true", "fields": "*all"}))

    assert "selector.fields does not apply to kind worklog (it takes: query)" in str(raised.value)


@pytest.mark.parametrize(
    ("author", "user_id", "account_id"),
    [
        ({"accountId": "557058:abc", "displayName": "Ada"}, "557058:abc", "557058:abc"),
        ({"key": "JIRAUSER10100", "name": "ada", "displayName": "Ada"}, "JIRAUSER10100", None),
    ],
)
def test_the_default_mapping_relates_a_worklog_to_its_issue_and_author(
    author: dict[str, Any], user_id: str, account_id: str | None
) -> None:
    [entity] = EntityMapper(load_app_config()).map_record("worklogs", _worklog(author))

    assert entity["blueprint"] == "jiraWorklog"
    assert entity["identifier"] == "100028"
    assert entity["relations"] == {"issue": "PLAT-7", "author": user_id}
    assert entity["properties"]["authorAccountId"] == account_id
    assert entity["properties"]["timeSpentSeconds"] == 3600


def test_jira_worklog_blueprint_has_what_the_default_mapping_writes() -> None:
    blueprint = default_blueprints()["jiraWorklog"]
    [resource] = [r for r in load_app_config().resources if r.kind == "worklogs"]
    [entity] = EntityMapper(load_app_config()).map_record("worklogs", _worklog({"key": "k"}))

    assert set(entity["properties"]) == set(blueprint["schema"]["properties"])
    assert {name: r["target"] for name, r in blueprint["relations"].items()} == {
        "issue": "jiraIssue",
        "author": "jiraUser",
    }
    assert resource.blueprint == "jiraWorklog"


def test_a_worklog_deletion_record_names_the_entity_to_delete() -> None:
    mapper = EntityMapper(load_app_config())
    deletion = {"id": "100028", "updatedTime": 1, "_ab_cdc_deleted_at": "2024-05-01T00:00:00Z"}

    assert mapper.identify("worklogs", deletion) == [("jiraWorklog", "100028")]
