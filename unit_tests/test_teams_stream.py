"""The `teams` stream: team pages, every page of members on each team, its errors, when offered."""

import json
import logging
from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput

from integration_tests.support.configs import SECRET, cloud_config, server_config
from integration_tests.support.reads import query, read_stream
from source_jira_port.teams import (
    TeamMembersRetriever,
    resolve_teams_offered,
    teams_unavailable_reason,
)

_ORG = "org-1"
_TEAMS = f"https://acme.atlassian.net/gateway/api/public/teams/v1/org/{_ORG}/teams"


def _team(team_id: str) -> dict[str, Any]:
    return {
        "teamId": team_id,
        "displayName": f"Team {team_id}",
        "description": "",
        "organizationId": _ORG,
        "teamType": "OPEN",
        "state": "ACTIVE",
    }


def _members(ids: list[str], end: str | None, more: bool) -> dict[str, Any]:
    return {
        "results": [{"accountId": i} for i in ids],
        "pageInfo": {"endCursor": end, "hasNextPage": more},
    }


def test_teams_are_paged_by_cursor_until_an_empty_page(requests_mock: Any) -> None:
    pages = [
        {"entities": [_team("t1"), _team("t2")], "cursor": "c1"},
        {"entities": [_team("t3")], "cursor": "c2"},
        {"entities": [], "cursor": "c3"},  # Atlassian ends with an empty page that has a cursor
    ]
    listing = requests_mock.get(_TEAMS, [{"json": page} for page in pages])
    for team_id in ("t1", "t2", "t3"):
        requests_mock.post(f"{_TEAMS}/{team_id}/members", json=_members([], None, False))

    output = read_stream(cloud_config(atlassian_organization_id=_ORG), "teams")

    assert sorted(r.record.data["teamId"] for r in output.records) == ["t1", "t2", "t3"]
    assert [query(r).get("cursor") for r in listing.request_history] == [None, ["c1"], ["c2"]]
    assert {query(r)["size"][0] for r in listing.request_history} == {"300"}


def test_each_team_carries_every_page_of_its_members(requests_mock: Any) -> None:
    requests_mock.get(_TEAMS, [{"json": {"entities": [_team("t1")]}}])
    members = requests_mock.post(
        f"{_TEAMS}/t1/members",
        [
            {"json": _members(["a1", "a2"], "m1", True)},
            {"json": _members(["a3"], "m2", False)},
        ],
    )

    output = read_stream(cloud_config(atlassian_organization_id=_ORG), "teams")

    assert [r.record.data for r in output.records] == [
        {**_team("t1"), "__members": [{"accountId": a} for a in ("a1", "a2", "a3")]}
    ]
    assert [json.loads(r.body) for r in members.request_history] == [
        {"first": 50},
        {"first": 50, "after": "m1"},
    ]


def _config_error(output: EntrypointOutput) -> str:
    error = output.errors[0].trace.error
    assert error is not None
    assert error.failure_type == FailureType.config_error
    assert SECRET not in "\n".join(str(message) for message in output._messages)
    return error.message


def test_an_unknown_organization_is_one_config_error_naming_the_option(
    requests_mock: Any,
) -> None:
    body = {"code": "NOT_FOUND", "message": "Organization not found"}
    listing = requests_mock.get(_TEAMS, status_code=404, json=body)

    message = _config_error(read_stream(cloud_config(atlassian_organization_id=_ORG), "teams"))

    assert "Check 'atlassian_organization_id'" in message
    assert "Organization not found" in message
    assert listing.call_count == 1  # not retried


def test_members_the_user_may_not_read_are_one_config_error_naming_the_option(
    requests_mock: Any,
) -> None:
    requests_mock.get(_TEAMS, json={"entities": [_team("t1")], "cursor": None})
    body = {"code": "FORBIDDEN", "message": "You may not view members"}
    members = requests_mock.post(f"{_TEAMS}/t1/members", status_code=403, json=body)

    message = _config_error(read_stream(cloud_config(atlassian_organization_id=_ORG), "teams"))

    assert "may not read the teams" in message
    assert "'atlassian_organization_id'" in message
    assert "You may not view members" in message
    assert members.call_count == 1  # not retried


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (server_config(atlassian_organization_id=_ORG), "Jira Cloud only"),
        (cloud_config(), "set 'atlassian_organization_id'"),
        (
            cloud_config(
                atlassian_organization_id=_ORG,
                credentials={"auth_type": "oauth2", "access_token": SECRET, "cloud_id": "c"},
            ),
            "refuses OAuth 2.0",
        ),
    ],
    ids=["server", "cloud-without-org", "oauth2"],
)
def test_teams_unavailable_says_why(config: dict[str, Any], fragment: str) -> None:
    reason = teams_unavailable_reason(config, config["deployment"])
    assert reason is not None
    assert fragment in reason
    assert teams_unavailable_reason(cloud_config(atlassian_organization_id=_ORG), "cloud") is None


class _Pages:
    """A retriever whose one partition reads two member records and a log message."""

    def read_records(self, records_schema: Any, stream_slice: Any = None) -> Any:
        yield {"accountId": "a1"}
        yield "a log message"
        yield {"accountId": "a2"}


def test_the_retriever_passes_messages_through_and_ends_with_one_record() -> None:
    retriever = TeamMembersRetriever(_Pages(), "__members")  # type: ignore[arg-type]
    team = StreamSlice(partition={"teamId": "t1"}, cursor_slice={}, extra_fields={"teamId": "t1"})
    assert list(retriever.read_records({}, team)) == [
        "a log message",
        {"teamId": "t1", "__members": [{"accountId": "a1"}, {"accountId": "a2"}]},
    ]


def test_the_reason_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="airbyte"):
        assert not resolve_teams_offered(cloud_config(), "cloud")
    assert [r.getMessage() for r in caplog.records if "teams" in r.getMessage()] == [
        teams_unavailable_reason(cloud_config(), "cloud")
    ]


def test_a_rate_limited_member_request_waits_and_is_retried(
    requests_mock: Any, backoff_waits: list[float]
) -> None:
    requests_mock.get(_TEAMS, json={"entities": [_team("t1")], "cursor": None})
    members = requests_mock.post(
        f"{_TEAMS}/t1/members",
        [
            {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {}},
            {"json": _members(["a1"], "m1", False)},
        ],
    )

    output = read_stream(cloud_config(atlassian_organization_id=_ORG), "teams")

    assert [r.record.data["__members"] for r in output.records] == [[{"accountId": "a1"}]]
    assert members.call_count == 2
    assert any(wait >= 7 for wait in backoff_waits)  # Retry-After, the wait every worker shares


def test_a_team_deleted_during_the_read_goes_out_without_members(requests_mock: Any) -> None:
    requests_mock.get(_TEAMS, json={"entities": [_team("t1"), _team("t2")], "cursor": None})
    body = {"code": "NOT_FOUND", "message": "Team not found"}
    requests_mock.post(f"{_TEAMS}/t1/members", status_code=404, json=body)
    requests_mock.post(f"{_TEAMS}/t2/members", json=_members(["a1"], "m1", False))

    output = read_stream(cloud_config(atlassian_organization_id=_ORG), "teams")

    assert not output.errors
    got = {r.record.data["teamId"]: r.record.data["__members"] for r in output.records}
    assert got == {"t1": [], "t2": [{"accountId": "a1"}]}
    logs = [m.log.message for m in output.logs if m.log is not None]
    assert any("deleted during the read" in line for line in logs)
