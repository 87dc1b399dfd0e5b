"""EntityApplier: the one path into Port, and the outcome it names for each entity."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import requests
import requests_mock as rm

from integration_tests.support.records import make_issue, mock_port_api
from source_jira_port.port.apply import EntityApplier, InvalidEntityError, Outcome
from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.client import PortClient
from source_jira_port.port.mapping import EntityMapper, RecordMappingError, load_app_config
from source_jira_port.port.transport import PortApiError
from source_jira_port.port.validation import EntityValidator

_BASE = "https://port.test"
_ISSUES_BULK = f"{_BASE}/v1/blueprints/jiraIssue/entities/bulk"
_PROJECTS_BULK = f"{_BASE}/v1/blueprints/jiraProject/entities/bulk"
_ISSUES_DELETE = f"{_BASE}/v1/blueprints/jiraIssue/bulk/entities/delete"
_DEFAULT_MAPPING = (
    resources.files("source_jira_port.port").joinpath("defaults/port-app-config.yaml").read_text()
)
_NO_CREATE = _DEFAULT_MAPPING.replace(
    "createMissingRelatedEntities: true", "createMissingRelatedEntities: false"
)


@pytest.fixture
def port(requests_mock: rm.Mocker) -> rm.Mocker:
    return mock_port_api(requests_mock, _BASE)


def _applier(mapping: str | None = None, batch_size: int = 20) -> EntityApplier:
    return EntityApplier(
        PortClient(_BASE, "id", "secret", max_attempts=1, sleep=lambda _: None),
        EntityMapper(load_app_config(mapping)),
        EntityValidator(default_blueprints()),
        batch_size=batch_size,
    )


def _issue(key: str) -> dict[str, Any]:
    return {"identifier": key, "title": key, "blueprint": "jiraIssue", "properties": {}}


def _project(key: str) -> dict[str, Any]:
    return {"identifier": key, "title": key, "blueprint": "jiraProject", "properties": {}}


def _sent(port: rm.Mocker, url: str = _ISSUES_BULK) -> list[list[str]]:
    return [
        [entity["identifier"] for entity in request.json()["entities"]]
        for request in port.request_history
        if request.url.startswith(url)
    ]


def _deleted(port: rm.Mocker) -> list[list[str]]:
    return [r.json()["entities"] for r in port.request_history if r.url.startswith(_ISSUES_DELETE)]


def test_each_entity_is_created_or_updated_as_port_says(port: rm.Mocker) -> None:
    entities = [{"index": 0, "created": True}, {"index": 1, "created": False}]
    port.post(_ISSUES_BULK, json={"ok": True, "entities": entities, "errors": []})

    outcomes = _applier().upsert([_issue("A-1"), _issue("A-2")])

    assert [o.outcome for o in outcomes] == [Outcome.CREATED, Outcome.UPDATED]
    assert all(o.done for o in outcomes)


def test_an_entity_port_refuses_names_ports_rule(port: rm.Mocker) -> None:
    details = {"errors": [{"instancePath": "/properties/url", "message": "must match format"}]}
    error = {
        "index": 1,
        "identifier": "A-2",
        "statusCode": 422,
        "error": "entity_does_not_match_blueprint",
        "message": "The entity does not match",
        "details": details,
    }
    port.post(_ISSUES_BULK, status_code=207, json={"ok": True, "entities": [], "errors": [error]})

    first, second = _applier().upsert([_issue("A-1"), _issue("A-2")])

    assert first.outcome == Outcome.UPDATED
    assert (second.outcome, second.status_code) == (Outcome.REFUSED, 422)
    assert second.reason == (
        "Port rejected entity A-2 of blueprint jiraIssue (HTTP 422 "
        "entity_does_not_match_blueprint): The entity does not match: property url: must "
        "match format"
    )


@pytest.mark.parametrize(
    ("status", "error", "mapping", "outcome"),
    [
        (429, "rate_limited", None, Outcome.RETRY),
        (408, "timeout", None, Outcome.RETRY),
        (500, "internal_error", None, Outcome.RETRY),
        (403, "forbidden", None, Outcome.REFUSED),
        (404, "not_found", _NO_CREATE, Outcome.MISSING_TARGET),
        (404, "not_found", None, Outcome.REFUSED),  # Port creates missing targets: not that
    ],
)
def test_entity_errors_are_classified(
    port: rm.Mocker, status: int, error: str, mapping: str | None, outcome: Outcome
) -> None:
    refused = {"index": 0, "identifier": "A-1", "statusCode": status, "error": error}
    port.post(_ISSUES_BULK, status_code=207, json={"ok": True, "entities": [], "errors": [refused]})

    [result] = _applier(mapping).upsert([_issue("A-1")])

    assert (result.outcome, result.status_code) == (outcome, status)
    assert not result.done


def test_a_request_refused_as_a_whole_is_sent_again_entity_by_entity(port: rm.Mocker) -> None:
    def answer(request: Any, context: Any) -> dict[str, Any]:
        if any(e["identifier"] == "A-2" for e in request.json()["entities"]):
            context.status_code = 422
            return {"ok": False, "error": "invalid_request", "message": "bad"}
        return {"ok": True, "entities": [], "errors": []}

    port.post(_ISSUES_BULK, json=answer)

    outcomes = _applier().upsert([_issue("A-1"), _issue("A-2"), _issue("A-3")])

    assert _sent(port) == [["A-1", "A-2", "A-3"], ["A-1"], ["A-2"], ["A-3"]]
    assert [o.outcome for o in outcomes] == [Outcome.UPDATED, Outcome.REFUSED, Outcome.UPDATED]
    assert "HTTP 422" in outcomes[1].reason


@pytest.mark.parametrize(
    ("failure", "outcome", "status"),
    [
        ({"status_code": 503}, Outcome.RETRY, 503),
        ({"status_code": 429}, Outcome.RETRY, 429),
        ({"exc": requests.ConnectionError}, Outcome.RETRY, None),
        (
            {"status_code": 404, "json": {"ok": False, "error": "not_found"}},
            Outcome.NO_BLUEPRINT,
            404,
        ),
    ],
)
def test_a_request_that_fails_as_a_whole_gives_every_entity_its_outcome(
    port: rm.Mocker, failure: dict[str, Any], outcome: Outcome, status: int | None
) -> None:
    port.post(_ISSUES_BULK, **failure)

    outcomes = _applier().upsert([_issue("A-1"), _issue("A-2")])

    assert [(o.outcome, o.status_code) for o in outcomes] == [(outcome, status)] * 2
    assert len(_sent(port)) == 1  # not split: nothing is wrong with the entities


def test_send_upserts_raises_when_the_request_fails_as_a_whole(port: rm.Mocker) -> None:
    port.post(_ISSUES_BULK, status_code=422, json={"ok": False, "error": "invalid_request"})

    with pytest.raises(PortApiError) as raised:
        _applier().send_upserts("jiraIssue", [_issue("A-1"), _issue("A-2")])

    assert raised.value.status_code == 422
    assert len(_sent(port)) == 1


def test_entities_go_by_blueprint_in_batches_and_outcomes_keep_the_input_order(
    port: rm.Mocker,
) -> None:
    port.post(_ISSUES_BULK, json={"ok": True, "entities": [{"index": 0, "created": True}]})
    port.post(_PROJECTS_BULK, json={"ok": True, "entities": [], "errors": []})
    entities = [_issue("A-1"), _project("A"), _issue("A-2"), _issue("A-3")]

    outcomes = _applier(batch_size=2).upsert(entities)

    assert _sent(port, _ISSUES_BULK) == [["A-1", "A-2"], ["A-3"]]
    assert _sent(port, _PROJECTS_BULK) == [["A"]]
    created, updated = Outcome.CREATED, Outcome.UPDATED
    assert [o.outcome for o in outcomes] == [created, updated, updated, created]


def test_upserts_carry_the_mappings_flags(port: rm.Mocker) -> None:
    port.post(_ISSUES_BULK, json={"ok": True, "entities": [], "errors": []})

    _applier(_NO_CREATE).upsert([_issue("A-1")])
    _applier().upsert([_issue("A-1")])

    without, with_targets = [r.qs for r in port.request_history if r.url.startswith(_ISSUES_BULK)]
    assert without == {"upsert": ["true"], "merge": ["true"]}
    assert with_targets == {**without, "create_missing_related_entities": ["true"]}


def test_deletes_go_once_per_identifier_and_every_target_gets_its_outcome(
    port: rm.Mocker,
) -> None:
    port.post(_ISSUES_DELETE, json={"ok": True, "deletedEntities": ["A-1", "A-2"]})

    outcomes = _applier().delete([("jiraIssue", "A-1"), ("jiraIssue", "A-2"), ("jiraIssue", "A-1")])

    assert _deleted(port) == [["A-1", "A-2"]]
    assert [o.outcome for o in outcomes] == [Outcome.DELETED] * 3


def test_a_delete_refused_as_a_whole_is_sent_again_one_by_one(port: rm.Mocker) -> None:
    def answer(request: Any, context: Any) -> dict[str, Any]:
        if "A-2" in request.json()["entities"]:
            context.status_code = 422
            return {"ok": False, "error": "invalid_request", "message": "bad"}
        return {"ok": True, "deletedEntities": request.json()["entities"]}

    port.post(_ISSUES_DELETE, json=answer)

    outcomes = _applier().delete([("jiraIssue", "A-1"), ("jiraIssue", "A-2")])

    assert _deleted(port) == [["A-1", "A-2"], ["A-1"], ["A-2"]]
    assert [o.outcome for o in outcomes] == [Outcome.DELETED, Outcome.REFUSED]


def test_a_record_maps_to_checked_entities() -> None:
    [entity] = _applier().entities("issues", make_issue("ACME-1"))

    assert (entity["blueprint"], entity["identifier"]) == ("jiraIssue", "ACME-1")


def test_a_record_whose_entity_port_would_refuse_names_the_blueprint_and_the_rule() -> None:
    with pytest.raises(InvalidEntityError) as raised:
        _applier().entities("issues", make_issue("ACME 1"))

    assert raised.value.blueprint == "jiraIssue"
    assert "identifier 'ACME 1' contains characters Port does not allow" in str(raised.value)


def test_a_record_jq_fails_on_is_a_mapping_error() -> None:
    mapping = _DEFAULT_MAPPING.replace("identifier: .key", "identifier: .key | error", 1)

    with pytest.raises(RecordMappingError) as raised:
        _applier(mapping).entities("projects", {"key": "ACME", "self": "https://x/rest/"})

    assert not isinstance(raised.value, InvalidEntityError)
    assert raised.value.blueprint == "jiraProject"
