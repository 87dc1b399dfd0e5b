from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from integration_tests.support.records import bsd6_expected_entity
from source_jira_port.app.webhooks.events import (
    ISSUES,
    PROJECTS,
    WEBHOOK_EVENTS,
    Action,
    DeliveryError,
    Ignored,
    parse_delivery,
    webhook_events,
)
from source_jira_port.port.mapping import EntityMapper, load_app_config

_FIXTURES = Path(__file__).parent / "fixtures"
# 2023-12-19T13:27:35.853+0000


@pytest.fixture
def bsd6() -> dict[str, Any]:
    """The seed's sample delivery: BSD-6 updated on Jira Server."""
    return json.loads((_FIXTURES / "bsd6_delivery.json").read_text())


def _project_delivery(event: str, **project: Any) -> dict[str, Any]:
    return {
        "timestamp": 1525698237764,
        "webhookEvent": event,
        "project": {
            "self": "https://jira.example.com/rest/api/2/project/12345",
            "id": 12345,
            "key": "ACTP",
            "name": "Agent Connector Test Project",
            "projectLead": {"name": "lead", "displayName": "The Lead"},
            "assigneeType": "admin.assignee.type.unassigned",
            **project,
        },
    }


def _parse(payload: Any) -> Any:
    return parse_delivery(json.dumps(payload).encode())


def test_issue_delivery_becomes_an_issues_stream_record(bsd6: dict[str, Any]) -> None:
    event = _parse(bsd6)

    assert (event.kind, event.key, event.action) == (ISSUES, "BSD-6", Action.UPSERT)
    assert event.jira_id == "10303"
    record = event.record
    assert record["updated"] == "2023-12-19T13:27:35.853+0000"
    assert record["created"] == "2023-12-19T12:14:34.524+0000"
    assert (record["projectKey"], record["projectId"]) == ("BSD", "10001")
    assert record["fields"] == bsd6["issue"]["fields"]


def test_seed_delivery_maps_like_the_seed_result_with_the_default_mapping(
    bsd6: dict[str, Any],
) -> None:
    [entity] = EntityMapper(load_app_config()).map_record(ISSUES, _parse(bsd6).record)

    assert entity == bsd6_expected_entity()


def test_numeric_project_ids_in_an_issue_become_strings(bsd6: dict[str, Any]) -> None:
    bsd6["issue"]["fields"]["project"]["id"] = 10001

    assert _parse(bsd6).record["projectId"] == "10001"


@pytest.mark.parametrize(
    "issue_id", [None, "", "1 OR id = 2", "10303)", 10303.5, True, "10303\n", "1" * 20]
)
def test_an_issue_id_that_is_not_digits_is_refused(bsd6: dict[str, Any], issue_id: Any) -> None:
    bsd6["issue"]["id"] = issue_id

    with pytest.raises(DeliveryError, match="issue id is not a Jira id"):
        _parse(bsd6)


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("project_created", Action.UPSERT),
        ("project_updated", Action.UPSERT),
        ("project_restored_deleted", Action.UPSERT),
        ("project_restored_archived", Action.UPSERT),
        ("project_deleted", Action.DELETE),
        ("project_soft_deleted", Action.DELETE),
        ("project_archived", Action.DELETE),
    ],
)
def test_project_deliveries_become_projects_stream_records(name: str, action: Action) -> None:
    event = _parse(_project_delivery(name))

    assert (event.kind, event.key, event.action) == (PROJECTS, "ACTP", action)
    assert event.jira_id == "12345"


def test_project_record_maps_with_the_default_mapping() -> None:
    record = _parse(_project_delivery("project_updated")).record

    [entity] = EntityMapper(load_app_config()).map_record(PROJECTS, record)

    assert entity["identifier"] == "ACTP"
    assert entity["title"] == "Agent Connector Test Project"
    assert entity["properties"]["url"] == "https://jira.example.com/projects/ACTP"
    assert entity["properties"]["projectType"] is None  # not in project deliveries


def test_every_handled_event_is_registered() -> None:
    assert set(WEBHOOK_EVENTS) == {
        "jira:issue_created",
        "jira:issue_updated",
        "jira:issue_deleted",
        "project_created",
        "project_updated",
        "project_deleted",
        "project_soft_deleted",
        "project_restored_deleted",
        "project_archived",
        "project_restored_archived",
        "user_created",
        "user_updated",
        "user_deleted",
    }


def test_only_the_events_of_mapped_streams_are_registered() -> None:
    assert webhook_events({ISSUES}) == (
        "jira:issue_created",
        "jira:issue_updated",
        "jira:issue_deleted",
    )
    assert webhook_events({"users"}) == ("user_created", "user_updated", "user_deleted")


def _user_delivery(event: str, **user: Any) -> dict[str, Any]:
    return {"timestamp": 1525698237764, "webhookEvent": event, "user": user}


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("user_created", Action.UPSERT),
        ("user_updated", Action.UPSERT),
        ("user_deleted", Action.DELETE),
    ],
)
@pytest.mark.parametrize(
    ("user", "identity"),
    [
        (
            {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Ada"},
            "5b10ac8d82e05b22cc7d4ef5",
        ),
        (
            {"accountId": "qm:4a7c1f0e-2b9d-4e61-8f3a-5d0c6b1e7a22:9b2e"},
            "qm:4a7c1f0e-2b9d-4e61-8f3a-5d0c6b1e7a22:9b2e",
        ),
        ({"name": "ada", "key": "JIRAUSER10100"}, "JIRAUSER10100"),
        ({"name": "f.allen", "key": "f.allen=ibm#1"}, "f.allen=ibm#1"),
    ],
)
def test_user_deliveries_name_the_user_by_account_id_or_key(
    name: str, action: Action, user: dict[str, Any], identity: str
) -> None:
    event = _parse(_user_delivery(name, **user))

    assert (event.kind, event.key, event.jira_id, event.action) == (
        "users",
        identity,
        identity,
        action,
    )
    [entity] = EntityMapper(load_app_config()).map_record("users", event.record)
    assert entity["identifier"]


@pytest.mark.parametrize(
    "user",
    [
        {},
        {"accountId": ""},
        {"accountId": "a" * 129},
        {"accountId": "abc OR 1=1"},
        {"accountId": 5},
        {"key": "x" * 256},
        {"key": "ada\nFORGED"},
        {"name": "ada"},
    ],
)
def test_a_user_without_a_valid_account_id_or_key_is_refused(user: dict[str, Any]) -> None:
    with pytest.raises(DeliveryError, match="user_updated: the user"):
        _parse(_user_delivery("user_updated", **user))


def test_a_user_event_without_a_user_is_refused() -> None:
    with pytest.raises(DeliveryError, match="user is missing"):
        _parse({"timestamp": 1, "webhookEvent": "user_deleted"})


@pytest.mark.parametrize(
    "payload",
    [
        {"timestamp": 1, "webhookEvent": "comment_created", "comment": {}},
        {"timestamp": 1, "webhookEvent": "sprint_started"},
    ],
)
def test_other_event_types_are_not_handled(payload: dict[str, Any]) -> None:
    assert _parse(payload) == Ignored(payload["webhookEvent"])


@pytest.mark.parametrize("key", ["BSD-6", "A-1", "R2D2-10", "MY_EXAMPLE_PROJECT-123"])
def test_issue_keys_of_every_project_key_format_jira_allows_parse(
    bsd6: dict[str, Any], key: str
) -> None:
    bsd6["issue"]["key"] = key

    assert _parse(bsd6).key == key


@pytest.mark.parametrize(
    "key",
    [
        "bsd-6",
        "BSD6",
        "BSD-",
        "BSD-0",
        "2013PROJECT-1",
        "PRODUCT-2012-1",
        "BSD-6/../x",
        "BSD-6\n",
        "BSD-6 OR id = 1",
        "A" * 256 + "-1",
        "A-" + "1" * 20,
        "X" * 500_000,
    ],
)
def test_an_issue_key_that_is_not_a_jira_key_is_refused(bsd6: dict[str, Any], key: str) -> None:
    bsd6["issue"]["key"] = key

    with pytest.raises(DeliveryError, match="issue key is not a Jira key") as raised:
        _parse(bsd6)
    assert len(str(raised.value)) < 200


@pytest.mark.parametrize("key", ["ACTP-1", "actp", "1ACTP", "AC TP", "A" * 256])
def test_a_project_key_that_is_not_a_jira_key_is_refused(key: str) -> None:
    with pytest.raises(DeliveryError, match="project key is not a Jira key"):
        _parse(_project_delivery("project_updated", key=key))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'"jira:issue_updated"',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"timestamp": 1}',
        b'{"webhookEvent": 7, "timestamp": 1}',
        b'{"webhookEvent": "jira:issue_updated", "issue": {"key": "A-1", "fields": {}}}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": "1", "issue": {}}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": true, "issue": {}}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": -1, "issue": {}}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": 1e30, "issue": {}}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": 99999999999999999999, "issue": {}}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": 1}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": 1, "issue": []}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": 1, "issue": {"fields": {}}}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": 1, "issue": {"key": "A-1"}}',
        b'{"webhookEvent": "jira:issue_updated", "timestamp": 1, "issue": {"key": 5, "fields": 1}}',
        b'{"webhookEvent": "project_updated", "timestamp": 1, "project": {"id": 1}}',
        b'{"webhookEvent": "project_updated", "timestamp": 1, "project": "ACTP"}',
    ],
)
def test_malformed_deliveries_raise_delivery_error(body: bytes) -> None:
    with pytest.raises(DeliveryError):
        parse_delivery(body)


def test_an_issue_without_project_still_parses() -> None:
    payload = {
        "webhookEvent": "jira:issue_created",
        "timestamp": 5,
        "issue": {"id": "1", "key": "A-1", "fields": {"project": None}},
    }

    event = _parse(payload)

    assert (event.record["projectKey"], event.record["projectId"]) == (None, None)
