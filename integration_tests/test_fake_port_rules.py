"""The fake Port enforces Port's documented entity rules, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from integration_tests.fakes.port_server import FakePort
from source_jira_port.port.client import EntityError, PortClient
from source_jira_port.port.transport import PortApiError

pytestmark = pytest.mark.integration

_RULES = {
    "identifier": "rules",
    "title": "Rules",
    "schema": {
        "properties": {
            "owner": {"type": "string", "format": "user"},
            "mail": {"type": "string", "format": "email"},
            "link": {"type": "string", "format": "url"},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "watchers": {"type": "array", "items": {"type": "string", "format": "user"}},
            "level": {"type": "string", "enum": ["low", "high"]},
            "points": {"type": "number"},
            "name": {"type": "string"},
        },
        "required": ["name"],
    },
    # Port computes a calculation property from the entity (docs `setup-blueprint/properties/
    # calculation-property`); an entity cannot carry one, which this fake reads as an
    # undefined property (the strictest reading: the docs do not show Port's answer).
    "calculationProperties": {
        "days": {"title": "Days", "calculation": ".properties.points * 2", "type": "number"}
    },
    "relations": {
        "home": {"target": "home", "required": True, "many": False},
        "friends": {"target": "rules", "required": False, "many": True},
        "best": {"target": "rules", "required": False, "many": False},
    },
}
_HOME = {"identifier": "home", "title": "Home", "schema": {"properties": {}, "required": []}}


@pytest.fixture
def port() -> Iterator[FakePort]:
    with FakePort() as fake:
        fake.add_blueprint(_HOME)
        fake.add_blueprint(_RULES)
        fake.add_entity("home", {"identifier": "H"})
        yield fake


def _upsert(port: FakePort, *entities: dict[str, Any]) -> list[EntityError]:
    """Upsert into `rules`, each entity completed with its required `name` and `home`."""
    full = [
        {
            "identifier": entity["identifier"],
            "properties": {"name": "n", **entity.get("properties", {})},
            "relations": {"home": "H", **entity.get("relations", {})},
        }
        for entity in entities
    ]
    with PortClient(port.base_url, "port-client", "port-secret") as client:
        return list(
            client.upsert_entities("rules", full, merge=True, create_missing_related_entities=True)
        )


@pytest.mark.parametrize(
    ("properties", "detail"),
    [
        ({"owner": "557058:f58131cb"}, 'property owner: must match format "user"'),
        ({"owner": "janedoe"}, 'property owner: must match format "user"'),
        ({"mail": "admin@localhost"}, 'property mail: must match format "email"'),
        ({"link": "jira.example.com/browse/A-1"}, 'property link: must match format "url"'),
        ({"when": "2024-13-45T00:00:00Z"}, 'property when: must match format "date-time"'),
        ({"when": "2024-03-22T11:58:25"}, 'property when: must match format "date-time"'),
        ({"tags": [{"name": "x"}]}, "property tags 0: must be string [type]"),
        ({"watchers": ["a@b.io", "bob"]}, 'property watchers 1: must match format "user"'),
        ({"level": "medium"}, "property level: must be equal to one of the allowed values"),
        ({"points": True}, "property points: must be number [type]"),
        ({"points": "12"}, "property points: must be number [type]"),
        ({"tags": "a,b"}, "property tags: must be array [type]"),
        ({"days": 3}, "property days: must NOT have additional properties"),
        ({"name": None}, "entity: must have required property 'name' [required]"),
        ({"extra": 1}, "property extra: must NOT have additional properties"),
    ],
)
def test_properties_that_break_a_documented_rule_are_refused_with_the_rule(
    port: FakePort, properties: dict[str, Any], detail: str
) -> None:
    [error] = _upsert(port, {"identifier": "R-1", "properties": properties})

    assert (error.status_code, error.error) == (422, "entity_does_not_match_blueprint")
    assert detail in error.details
    assert port.entities("rules") == {}


def test_values_in_each_format_are_accepted(port: FakePort) -> None:
    properties = {
        "owner": "mia@acme.example",
        "mail": None,
        "link": "http://127.0.0.1:8080/jira/browse/A-1",
        "when": "2024-03-22T11:58:25.927+0200",
        "watchers": ["a@b.io"],
        "level": "low",
        "points": 2.5,
    }

    assert _upsert(port, {"identifier": "R-1", "properties": properties}) == []


@pytest.mark.parametrize(
    ("relations", "detail"),
    [
        ({"nope": "X"}, "relation nope: must NOT have additional properties"),
        ({"friends": "R-2"}, "relation friends: must be an array of identifiers"),
        ({"best": ["R-2"]}, "relation best: must be an identifier"),
        ({"best": "has space"}, "relation best: must be an identifier"),
        ({"home": None}, "entity: must have required relation 'home' [required]"),
    ],
)
def test_relations_that_break_a_documented_rule_are_refused(
    port: FakePort, relations: dict[str, Any], detail: str
) -> None:
    [error] = _upsert(port, {"identifier": "R-1", "relations": relations})

    assert error.error == "entity_does_not_match_blueprint"
    assert detail in error.details


def test_schema_violation_body_carries_the_rule_in_details(port: FakePort) -> None:
    token = requests.post(
        f"{port.base_url}/v1/auth/access_token",
        json={"clientId": "port-client", "clientSecret": "port-secret"},
        timeout=10,
    ).json()["accessToken"]
    entity = {
        "identifier": "R-1",
        "properties": {"name": "n", "owner": "bob"},
        "relations": {"home": "H"},
    }

    reply = requests.post(
        f"{port.base_url}/v1/blueprints/rules/entities/bulk",
        params={"upsert": "true"},
        json={"entities": [entity]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )

    assert reply.status_code == 207
    [error] = reply.json()["errors"]
    assert error["error"] == "entity_does_not_match_blueprint"
    assert "owner" not in error["message"]  # the detail is only in `details`
    assert error["details"]["errors"] == [
        {
            "instancePath": "/properties/owner",
            "keyword": "format",
            "params": {"format": "user"},
            "message": 'must match format "user" (an email address)',
        }
    ]


def test_a_bare_related_entity_must_pass_its_blueprint_too(port: FakePort) -> None:
    [error] = _upsert(port, {"identifier": "R-1", "relations": {"friends": ["R-9"]}})

    assert error.error == "entity_does_not_match_blueprint"  # R-9 would lack `name` and `home`
    assert port.entities("rules") == {}


def _delete(port: FakePort, blueprint: str, ids: list[str], dependents: bool) -> int:
    """Delete through the client; return 200 or the status Port refused with."""
    with PortClient(port.base_url, "port-client", "port-secret") as client:
        try:
            client.delete_entities(blueprint, ids, delete_dependents=dependents)
        except PortApiError as error:
            return error.status_code or 0
    return 200


def test_delete_dependents_cascades_along_required_relations_only(port: FakePort) -> None:
    assert _upsert(port, {"identifier": "R-1"}, {"identifier": "R-2"}) == []
    assert _upsert(port, {"identifier": "R-3", "relations": {"best": "R-1"}}) == []
    assert _upsert(port, {"identifier": "R-4", "relations": {"friends": ["R-1", "R-2"]}}) == []

    assert _delete(port, "home", ["H"], dependents=False) == 422  # required dependents: nothing
    assert set(port.entities("rules")) == {"R-1", "R-2", "R-3", "R-4"}
    assert _delete(port, "rules", ["R-1"], dependents=True) == 200

    rules = port.entities("rules")
    assert set(rules) == {"R-2", "R-3", "R-4"}  # optional relations made no dependents
    assert rules["R-3"]["relations"]["best"] is None
    assert rules["R-4"]["relations"]["friends"] == ["R-2"]
    assert _delete(port, "home", ["H"], dependents=True) == 200
    assert port.entity_counts() == {}
