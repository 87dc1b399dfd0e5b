from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

import pytest
import requests_mock as rm
import yaml
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, FailureType, Status
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from integration_tests.support.records import FIXTURES, mock_port_api
from source_jira_port.port.blueprints import BlueprintPlan, default_blueprints, plan_blueprints
from source_jira_port.port.destination import DestinationPort
from source_jira_port.port.mapping import load_app_config
from source_jira_port.port.preflight import MappingMismatchError, check_mapping_fits

_BASE = "https://port.test"
_CONFIG = {"port_client_id": "id", "port_client_secret": "secret", "port_base_url": _BASE}
_DEFAULT_RESOURCES = load_app_config().resources


def _old_blueprints() -> dict[str, dict[str, Any]]:
    """The built-in blueprints before jiraUser (commit 7744c49): user properties, no relations."""
    text = (FIXTURES / "blueprints_before_jira_user.json").read_text()
    return {blueprint["identifier"]: blueprint for blueprint in json.loads(text)}


class StubPort:
    def __init__(self, blueprints: dict[str, dict[str, Any]]) -> None:
        self.blueprints = blueprints
        self.looked_up: list[str] = []

    def get_blueprint(self, identifier: str) -> dict[str, Any] | None:
        self.looked_up.append(identifier)
        return self.blueprints.get(identifier)


def _fits(port: StubPort, mapping: str | None = None, *, create_missing: bool = True) -> None:
    needed = {r.blueprint for r in load_app_config(mapping).resources}
    plan = plan_blueprints(port, needed, create_missing=create_missing)  # type: ignore[arg-type]
    check_mapping_fits(port, load_app_config(mapping).resources, plan)  # type: ignore[arg-type]


def _problem(port: StubPort, mapping: str | None = None) -> str:
    with pytest.raises(MappingMismatchError) as raised:
        _fits(port, mapping)
    return str(raised.value)


def _default_mapping_without_teams() -> str:
    """The default mapping as a sync that reads no teams plans it (Server, no organization id)."""
    text = resources.files("source_jira_port.port") / "defaults" / "port-app-config.yaml"
    document = yaml.safe_load(text.read_text())
    document["resources"] = [r for r in document["resources"] if r["kind"] != "teams"]
    return str(yaml.safe_dump(document))


def test_the_old_jira_issue_blueprint_is_refused_with_the_relations_to_add() -> None:
    message = _problem(StubPort(_old_blueprints()), _default_mapping_without_teams())

    assert (
        "Blueprint jiraIssue in Port lacks the properties created, labels, resolutionDate, updated"
        " and relations assignee, fixVersions, reporter, sprints"
    ) in message
    assert "(stream issues)" in message
    relations = default_blueprints()["jiraIssue"]["relations"]
    expected = {
        name: relations[name] for name in ("assignee", "fixVersions", "reporter", "sprints")
    }
    assert f"relations {json.dumps(expected)}" in message
    assert '"target": "jiraUser"' in message
    # the writer would, but only once the mapping fits
    assert "create jiraRelease, jiraSprint, jiraUser first" in message
    assert "Removing the old properties assignee, reporter is optional" in message
    assert "Blueprint jiraProject in Port lacks the properties totalIssues" in message


def test_an_existing_jira_user_blueprint_is_not_asked_for() -> None:
    port = StubPort({**_old_blueprints(), "jiraUser": default_blueprints()["jiraUser"]})

    message = _problem(port)

    assert "relations assignee, fixVersions, reporter" in message
    assert "create jiraUser" not in message


# The blueprints the default mapping writes or relates to.
_BUILT_IN = [
    *("jiraBacklogItem", "jiraBoard", "jiraComponent", "jiraEpic", "jiraIssue", "jiraProject"),
    *("jiraRelease", "jiraSprint", "jiraTeam", "jiraUser", "jiraWorklog"),
]


def test_the_current_built_in_blueprints_fit_the_default_mapping() -> None:
    port = StubPort(default_blueprints())

    _fits(port)

    assert sorted(port.looked_up) == _BUILT_IN


def test_blueprints_the_writer_creates_count_with_their_built_in_definition() -> None:
    port = StubPort({})

    _fits(port)

    assert sorted(port.looked_up) == _BUILT_IN


def test_a_custom_blueprint_lacking_a_property_says_add_it_or_drop_it_from_the_mapping() -> None:
    mapping = """
resources:
  - kind: issues
    port:
      entity:
        mappings:
          identifier: .key
          blueprint: '"ticket"'
          properties: {summary: .fields.summary, status: .fields.status.name}
          relations: {owner: .fields.assignee.accountId}
"""
    ticket = {"identifier": "ticket", "schema": {"properties": {"summary": {"type": "string"}}}}

    message = _problem(StubPort({"ticket": ticket}), mapping)

    assert "Blueprint ticket in Port lacks the properties status and relations owner" in message
    assert "Add them to ticket in Port, or remove them from the mapping." in message
    assert "earlier version" not in message


def test_a_relation_whose_target_blueprint_port_lacks_is_refused() -> None:
    mapping = """
resources:
  - kind: issues
    port:
      entity:
        mappings:
          identifier: .key
          blueprint: '"ticket"'
          relations: {team: .fields.team}
"""
    ticket = {
        "identifier": "ticket",
        "schema": {"properties": {}},
        "relations": {"team": {"target": "squad", "required": False, "many": False}},
    }
    port = StubPort({"ticket": ticket})

    message = _problem(port, mapping)

    assert "Relation team of blueprint ticket targets blueprint squad" in message
    assert "create squad in Port, or remove relations.team from the mapping" in message
    assert port.looked_up.count("squad") == 1


def test_a_key_the_built_in_blueprint_does_not_define_gets_the_custom_fix() -> None:
    mapping = """
resources:
  - kind: issues
    port:
      entity:
        mappings:
          identifier: .key
          blueprint: '"jiraIssue"'
          properties: {storyPoints: .fields.customfield_10016}
"""
    message = _problem(StubPort(default_blueprints()), mapping)

    assert "lacks the properties storyPoints" in message
    assert "storyPoints are not in the built-in jiraIssue" in message


def test_an_empty_plan_checks_nothing() -> None:
    check_mapping_fits(StubPort({}), [], BlueprintPlan({}, []))  # type: ignore[arg-type]


@pytest.fixture
def old_port(requests_mock: rm.Mocker) -> rm.Mocker:
    mock_port_api(requests_mock, _BASE)
    for identifier, blueprint in _old_blueprints().items():
        requests_mock.get(f"{_BASE}/v1/blueprints/{identifier}", json={"blueprint": blueprint})
    requests_mock.get(f"{_BASE}/v1/blueprints/jiraUser", status_code=404, json={"ok": False})
    return requests_mock


def test_check_fails_on_the_old_blueprint_with_the_preflight_message(old_port: rm.Mocker) -> None:
    status = DestinationPort().check(logging.getLogger("airbyte"), _CONFIG)

    assert status.status == Status.FAILED
    assert "and relations assignee, fixVersions, reporter" in (status.message or "")


def test_write_fails_before_the_first_record_with_one_config_error(old_port: rm.Mocker) -> None:
    catalog = ConfiguredAirbyteCatalogSerializer.load(
        {
            "streams": [
                {
                    "stream": {
                        "name": name,
                        "json_schema": {},
                        "supported_sync_modes": ["full_refresh"],
                    },
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": "append",
                }
                for name in ("projects", "issues")
            ]
        }
    )

    def no_records() -> Any:
        raise AssertionError("a record was read before the preflight")
        yield

    with pytest.raises(AirbyteTracedException) as raised:
        list(DestinationPort().write(_CONFIG, catalog, no_records()))

    assert raised.value.failure_type == FailureType.config_error
    assert "relations assignee, fixVersions, reporter" in (raised.value.message or "")
    assert [r.method for r in old_port.request_history if r.method != "GET"] == ["POST"]  # token
