from __future__ import annotations

import logging
from typing import Any

import pytest

from source_jira_port.port.blueprints import (
    BlueprintSetupError,
    check_creatable,
    create_planned,
    default_blueprints,
    plan_blueprints,
)


class StubBlueprints:
    def __init__(self, existing: dict[str, dict[str, Any]]) -> None:
        self.blueprints = dict(existing)
        self.calls: list[tuple[str, str, Any]] = []

    def get_blueprint(self, identifier: str) -> dict[str, Any] | None:
        return self.blueprints.get(identifier)

    def create_blueprint(self, blueprint: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create", blueprint["identifier"], blueprint["relations"]))
        self.blueprints[blueprint["identifier"]] = blueprint
        return blueprint

    def patch_blueprint(self, identifier: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("patch", identifier, sorted(changes["relations"])))
        self.blueprints[identifier] = {**self.blueprints[identifier], **changes}
        return self.blueprints[identifier]


def _ensure(port: StubBlueprints, needed: set[str]) -> dict[str, dict[str, Any]]:
    logger = logging.getLogger("airbyte")
    plan = plan_blueprints(port, needed, create_missing=True)  # type: ignore[arg-type]
    return create_planned(port, plan, logger)  # type: ignore[arg-type]


def test_default_blueprints_are_ports_jira_data_model_without_the_issue_type_enum() -> None:
    blueprints = default_blueprints()

    project = blueprints["jiraProject"]["schema"]["properties"]
    assert sorted(project) == ["projectType", "totalIssues", "url"]
    assert project["totalIssues"]["type"] == "number"
    issue = blueprints["jiraIssue"]
    assert sorted(issue["schema"]["properties"]) == sorted(
        [
            *("url", "status", "issueType", "components", "priority", "creator", "labels"),
            *("created", "updated", "resolutionDate"),
        ]
    )
    for name in ("created", "updated", "resolutionDate"):
        assert issue["schema"]["properties"][name]["format"] == "date-time"
    assert issue["calculationProperties"]["handlingDuration"]["type"] == "number"
    assert issue["schema"]["properties"]["creator"]["format"] == "user"
    assert "enum" not in issue["schema"]["properties"]["issueType"]
    assert {name: r["target"] for name, r in issue["relations"].items()} == {
        "project": "jiraProject",
        "parentIssue": "jiraIssue",
        "subtasks": "jiraIssue",
        "assignee": "jiraUser",
        "reporter": "jiraUser",
        "fixVersions": "jiraRelease",
        "sprints": "jiraSprint",
    }
    assert issue["relations"]["subtasks"]["many"] is True
    assert issue["relations"]["sprints"]["many"] is True
    assert blueprints["jiraUser"]["schema"]["properties"]["emailAddress"]["format"] == "email"


def test_missing_blueprints_are_created_targets_first_then_given_their_relations() -> None:
    port = StubBlueprints({})

    found = _ensure(port, {"jiraIssue", "jiraProject"})

    assert port.calls == [
        ("create", "jiraProject", {}),
        ("create", "jiraBoard", {}),  # the issue's sprints relation targets jiraSprint
        ("create", "jiraRelease", {}),
        ("create", "jiraSprint", {}),
        ("create", "jiraUser", {}),
        ("create", "jiraIssue", {}),
        ("patch", "jiraBoard", ["project"]),
        ("patch", "jiraRelease", ["project"]),
        ("patch", "jiraSprint", ["board"]),
        (
            "patch",
            "jiraIssue",
            [
                *("assignee", "fixVersions", "parentIssue", "project", "reporter", "sprints"),
                "subtasks",
            ],
        ),
    ]
    assert set(found) == {
        *("jiraIssue", "jiraProject", "jiraRelease", "jiraUser", "jiraBoard", "jiraSprint")
    }
    assert found["jiraIssue"]["relations"] == default_blueprints()["jiraIssue"]["relations"]


def test_a_relation_target_port_has_is_used_not_created() -> None:
    mine = {"identifier": "jiraUser", "schema": {"properties": {}}}
    port = StubBlueprints({"jiraUser": mine})

    found = _ensure(port, {"jiraIssue"})

    assert [call[:2] for call in port.calls] == [
        ("create", "jiraProject"),
        ("create", "jiraBoard"),
        ("create", "jiraRelease"),
        ("create", "jiraSprint"),
        ("create", "jiraIssue"),
        ("patch", "jiraBoard"),
        ("patch", "jiraRelease"),
        ("patch", "jiraSprint"),
        ("patch", "jiraIssue"),
    ]
    assert found["jiraUser"] is mine


def test_existing_blueprints_are_used_as_they_are() -> None:
    mine = {"identifier": "jiraProject", "schema": {"properties": {"lead": {"type": "string"}}}}
    port = StubBlueprints({"jiraProject": mine})

    found = _ensure(port, {"jiraProject"})

    assert found == {"jiraProject": mine}
    assert port.calls == []


def test_missing_blueprint_without_permission_to_create_is_an_error() -> None:
    with pytest.raises(BlueprintSetupError, match="enable create_missing_blueprints"):
        check_creatable(["jiraIssue"], create_missing=False)


def test_missing_blueprint_without_a_definition_is_an_error() -> None:
    with pytest.raises(BlueprintSetupError, match=r"jiraVelocity .*no built-in definition"):
        check_creatable(["jiraVelocity", "jiraIssue"], create_missing=True)
