"""Tests of the fake Jira's Atlassian Teams API over HTTP: paging, limits, errors, Cloud only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import (
    CLOUD_API_TOKEN,
    CLOUD_EMAIL,
    SERVER_PASSWORD,
    SERVER_USERNAME,
    FakeJira,
)
from integration_tests.fakes.jira_teams import ORGANIZATION_ID, make_teams

pytestmark = pytest.mark.integration

AUTH = (CLOUD_EMAIL, CLOUD_API_TOKEN)
API = f"/gateway/api/public/teams/v1/org/{ORGANIZATION_ID}/teams"


@pytest.fixture
def cloud() -> Iterator[FakeJira]:
    with FakeJira("cloud", generate_dataset(projects=1, issues=5)) as fake:
        yield fake


def test_teams_page_by_cursor_and_end_with_an_empty_page_that_has_a_cursor(
    cloud: FakeJira,
) -> None:
    cloud.teams.teams = make_teams(cloud.dataset.users, count=5)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"size": 2, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{cloud.base_url}{API}", params=params, auth=AUTH, timeout=10).json()
        pages += 1
        assert page["cursor"]  # on every page, the last ones included
        if not page["entities"]:
            break
        seen += [team["teamId"] for team in page["entities"]]
        cursor = page["cursor"]
    assert seen == [team.team_id for team in cloud.teams.teams]
    assert pages == 4


def test_members_page_by_relay_cursor(cloud: FakeJira) -> None:
    team = cloud.teams.teams[0]
    url = f"{cloud.base_url}{API}/{team.team_id}/members"
    first = requests.post(url, json={"first": 3}, auth=AUTH, timeout=10).json()
    assert first["pageInfo"]["hasNextPage"] is True
    rest = requests.post(
        url, json={"first": 3, "after": first["pageInfo"]["endCursor"]}, auth=AUTH, timeout=10
    ).json()
    assert rest["pageInfo"]["hasNextPage"] is False
    got = [m["accountId"] for m in first["results"] + rest["results"]]
    assert got == list(team.member_ids)
    assert set(got) <= {user.account_id for user in cloud.dataset.users}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", API, {"params": {"size": 301}}, 400),
        ("GET", API, {"params": {"cursor": "not-ours"}}, 400),
        ("POST", f"{API}/TEAM/members", {"json": {"first": 51}}, 400),
        ("GET", f"{API}/TEAM/members", {}, 405),
        ("GET", "/gateway/api/public/teams/v1/org/other-org/teams", {}, 404),
        ("POST", f"{API}/no-such-team/members", {}, 404),
    ],
)
def test_the_teams_api_refuses_what_atlassian_refuses(
    cloud: FakeJira, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    path = path.replace("TEAM", cloud.teams.teams[0].team_id)
    answer = requests.request(method, f"{cloud.base_url}{path}", auth=AUTH, timeout=10, **kwargs)  # type: ignore[arg-type]
    assert answer.status_code == status
    assert set(answer.json()) == {"code", "message"}


def test_members_the_caller_may_not_read_are_403(cloud: FakeJira) -> None:
    cloud.teams.members_readable = False
    url = f"{cloud.base_url}{API}/{cloud.teams.teams[0].team_id}/members"
    answer = requests.post(url, json={}, auth=AUTH, timeout=10)
    assert answer.status_code == 403
    assert answer.json()["code"] == "FORBIDDEN"


def test_without_valid_credentials_the_teams_api_is_401(cloud: FakeJira) -> None:
    for auth in (None, (CLOUD_EMAIL, "wrong-token")):
        answer = requests.get(f"{cloud.base_url}{API}", auth=auth, timeout=10)
        assert answer.status_code == 401
        assert answer.json() == {"code": 401, "message": "Unauthorized"}


def test_server_has_no_teams_api() -> None:
    with FakeJira("server", generate_dataset(projects=1, issues=5)) as server:
        answer = requests.get(
            f"{server.base_url}{API}", auth=(SERVER_USERNAME, SERVER_PASSWORD), timeout=10
        )
    assert answer.status_code == 404
