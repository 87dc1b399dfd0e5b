from __future__ import annotations

from typing import Any

import pytest

from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.formats import identifier_problem
from source_jira_port.port.validation import EntityValidator


def _issue(**overrides: Any) -> dict[str, Any]:
    entity = {
        "identifier": "ACME-1",
        "title": "Title",
        "blueprint": "jiraIssue",
        "properties": {"status": "To Do", "components": ["Backend"], "issueType": "Sub-task"},
        "relations": {"project": "ACME", "parentIssue": None, "subtasks": ["ACME-2"]},
    }
    return entity | overrides


@pytest.mark.parametrize(
    "identifier",
    ["BSD-6", "557058:f58131cb-b67d", "mia@acme.example", "Ünïcødé_日本", "a/b\\c=d+e.f", "..."],
)
def test_identifiers_port_accepts(identifier: str) -> None:
    assert identifier_problem(identifier) is None


@pytest.mark.parametrize(
    ("identifier", "reason"),
    [
        (None, "missing identifier"),
        ("", "missing identifier"),
        (6, "missing identifier"),
        ("has space", "' '"),
        ("x²", "'²'"),  # a digit to Python, not 0-9 to Port
        ("a#b", "'#'"),
        (".", "not allowed"),
        ("..", "not allowed"),
        ("x" * 1001, "longer than 1000"),
    ],
)
def test_identifiers_port_rejects(identifier: Any, reason: str) -> None:
    problem = identifier_problem(identifier)

    assert problem is not None and reason in problem


def test_identifier_of_exactly_1000_characters_is_accepted() -> None:
    assert identifier_problem("x" * 1000) is None


def test_valid_entity_has_no_problem() -> None:
    assert EntityValidator(default_blueprints()).problem(_issue()) is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"properties": {"storyPoints": 3}}, "'storyPoints' was unexpected"),
        ({"properties": {"status": 3}}, "property status: 3 is not of type"),
        ({"properties": {"components": [{"name": "Backend"}]}}, "property components"),
        ({"relations": {"epic": "ACME-9"}}, "relation epic is not a relation"),
        ({"relations": {"subtasks": "ACME-2"}}, "must be an array of identifiers"),
        ({"relations": {"project": ["ACME"]}}, "must be one identifier"),
        ({"title": 5}, "title must be a string"),
        ({"identifier": "no spaces"}, "characters Port does not allow"),
        ({"blueprint": "jiraVelocity"}, "blueprint jiraVelocity is not known"),
        ({"title": "x" * (1024 * 1024)}, "over Port's 1 MiB"),
    ],
)
def test_invalid_entities_are_explained(overrides: dict[str, Any], reason: str) -> None:
    problem = EntityValidator(default_blueprints()).problem(_issue(**overrides))

    assert problem is not None and reason in problem


def test_enum_properties_are_checked() -> None:
    blueprint = {
        "identifier": "ticket",
        "schema": {"properties": {"kind": {"type": "string", "enum": ["Bug", "Story"]}}},
        "relations": {},
    }
    validator = EntityValidator({"ticket": blueprint})

    ok = {"identifier": "T-1", "blueprint": "ticket", "properties": {"kind": "Bug"}}
    bad = {"identifier": "T-1", "blueprint": "ticket", "properties": {"kind": "Epic"}}
    assert validator.problem(ok) is None
    assert "'Epic' is not one of" in (validator.problem(bad) or "")


def test_null_properties_are_accepted() -> None:
    entity = _issue(properties={"status": None, "components": None, "creator": None})

    assert EntityValidator(default_blueprints()).problem(entity) is None


_TYPED_BLUEPRINT = {
    "identifier": "typed",
    "schema": {
        "properties": {
            "text": {"type": "string"},
            "amount": {"type": "number"},
            "count": {"type": "integer"},
            "flag": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "meta": {"type": "object"},
            "level": {"type": "string", "enum": ["low", "high"]},
            "owner": {"type": "string", "format": "user"},
            "site": {"type": "string", "format": "url"},
            "when": {"type": "string", "format": "date-time"},
            "mails": {"type": "array", "items": {"type": "string", "format": "email"}},
        }
    },
    "relations": {},
}


@pytest.mark.parametrize(
    "properties",
    [
        {},
        {"text": "x", "amount": 1.5, "count": 3, "flag": True, "tags": ["a"], "meta": {}},
        {"text": None, "level": "low", "amount": 2, "tags": []},
        {"count": 2.0},  # an integer to JSON Schema, left to the validator
        {"amount": True},
        {"count": False},
        {"flag": 1},
        {"text": 5},
        {"tags": ["a", None]},
        {"tags": "a"},
        {"level": "medium"},
        {"level": 1},
        {"unknown": "x"},
        {"owner": "mia@acme.example", "site": "https://a.example/x", "mails": ["a@b.io"]},
        {"owner": "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"},
        {"owner": "janedoe"},
        {"site": "a.example/x"},
        {"when": "2024-03-22T11:58:25.927+0200"},
        {"when": "2024-02-30T00:00:00Z"},
        {"mails": ["a@b.io", "bob"]},
        {"owner": None, "when": None, "text": 5},  # null in a format property, slow path
    ],
)
def test_the_fast_property_check_agrees_with_the_schema_validator(
    properties: dict[str, Any],
) -> None:
    """Valid entities skip jsonschema; whatever the fast check doubts gets its message."""
    validator = EntityValidator({"typed": _TYPED_BLUEPRINT})
    entity = {"identifier": "T-1", "blueprint": "typed", "properties": properties}
    schema_validator = validator._property_validators["typed"]
    expected_valid = schema_validator.is_valid(properties)
    assert (validator.problem(entity) is None) == expected_valid


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        (
            {"owner": "557058:f58131cb"},
            'property owner: "557058:f58131cb" is not an email address (format user)',
        ),
        ({"site": "a.example/x"}, 'property site: "a.example/x" is not an absolute http(s) URL'),
        ({"when": "2024-13-45T00:00:00Z"}, "is not an ISO 8601 date-time with a time zone"),
        ({"mails": ["a@b.io", "bob"]}, 'property mails item 1: "bob" is not an email address'),
        ({"level": "mid"}, "property level: 'mid' is not one of ['low', 'high', None] (enum)"),
    ],
)
def test_format_and_enum_problems_name_the_property_and_the_rule(
    properties: dict[str, Any], reason: str
) -> None:
    validator = EntityValidator({"typed": _TYPED_BLUEPRINT})
    entity = {"identifier": "T-1", "blueprint": "typed", "properties": properties}

    assert reason in (validator.problem(entity) or "")


def test_a_required_property_sent_as_null_is_a_problem() -> None:
    blueprint = {
        "identifier": "typed",
        "schema": {"properties": {"name": {"type": "string"}}, "required": ["name"]},
        "relations": {"home": {"target": "home", "required": True, "many": False}},
    }
    validator = EntityValidator({"typed": blueprint})

    def problem(properties: dict[str, Any], relations: dict[str, Any]) -> str | None:
        entity = {"identifier": "T", "blueprint": "typed", "properties": properties}
        return validator.problem(entity | {"relations": relations})

    assert problem({"name": "n"}, {"home": "H"}) is None
    assert "property name: is required" in (problem({"name": None}, {"home": "H"}) or "")
    assert "relation home is required" in (problem({"name": "n"}, {"home": None}) or "")


def test_relation_targets_must_be_valid_identifiers() -> None:
    entity = _issue(relations={"assignee": "edsger dijkstra"})

    problem = EntityValidator(default_blueprints()).problem(entity)

    assert problem is not None and problem.startswith("relation assignee: identifier")
