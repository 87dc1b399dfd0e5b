"""Tests of the fake Jira's board backlogs over HTTP: what is in them, paging, limits, errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from integration_tests.fakes.jira_backlog import NOT_SUPPORTED_CLOUD, NOT_SUPPORTED_SERVER
from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import (
    CLOUD_API_TOKEN,
    CLOUD_EMAIL,
    SERVER_PASSWORD,
    SERVER_USERNAME,
    FakeJira,
)

pytestmark = pytest.mark.integration

CLOUD = "/rest/software/1.0/board/{}/backlog"
SERVER = "/rest/agile/1.0/board/{}/backlog"


@pytest.fixture(params=["cloud", "server"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param, generate_dataset(projects=2, issues=200)) as fake:
        yield fake


def _get(jira: FakeJira, board: int, **params: Any) -> requests.Response:
    cloud = jira.deployment == "cloud"
    auth = (CLOUD_EMAIL, CLOUD_API_TOKEN) if cloud else (SERVER_USERNAME, SERVER_PASSWORD)
    path = (CLOUD if cloud else SERVER).format(board)
    return requests.get(f"{jira.base_url}{path}", params=params, auth=auth, timeout=10)


def _scrum(jira: FakeJira) -> int:
    return jira.agile.scrum_board(jira.dataset.projects[0].key).id


def _all_pages(jira: FakeJira, board: int, **params: Any) -> list[str]:
    keys: list[str] = []
    token: dict[str, Any] = {}
    while True:
        page = _get(jira, board, maxResults=2, **params, **token).json()
        keys += [issue["key"] for issue in page["issues"]]
        if jira.deployment == "cloud":
            assert "total" not in page and "startAt" not in page
            if page["isLast"]:
                assert "nextPageToken" not in page
                return keys
            token = {"nextPageToken": page["nextPageToken"]}
        else:
            if page["startAt"] + len(page["issues"]) >= page["total"]:
                return keys
            token = {"startAt": page["startAt"] + len(page["issues"])}


def test_the_backlog_is_the_incomplete_issues_in_no_open_sprint(jira: FakeJira) -> None:
    board = _scrum(jira)
    project = jira.dataset.projects[0].key

    keys = _all_pages(jira, board)

    field = jira.agile.sprint_field
    for issue in jira.dataset.issues.values():
        in_open = any(
            jira.agile.sprints[s].state in ("active", "future")
            for s in issue.custom.get(field) or ()
        )
        expected = (
            issue.project_key == project and issue.status.category_key != "done" and not in_open
        )
        assert (issue.key in keys) == expected, issue.key
    assert len(keys) > 2  # more than one page
    assert keys == sorted(keys, key=lambda k: jira.dataset.issues[k].id)  # rank order


def test_a_jql_narrows_the_backlog_and_may_order_it(jira: FakeJira) -> None:
    board = _scrum(jira)
    everything = _all_pages(jira, board)

    narrowed = _all_pages(jira, board, jql="status = 'In Progress' ORDER BY key DESC")

    assert narrowed
    assert set(narrowed) < set(everything)
    assert {jira.dataset.issues[k].status.name for k in narrowed} == {"In Progress"}
    assert narrowed == sorted(narrowed, key=lambda k: jira.dataset.issues[k].number, reverse=True)


def test_a_kanban_board_has_a_backlog_only_when_it_is_enabled(jira: FakeJira) -> None:
    [kanban] = [b.id for b in jira.agile.boards.values() if b.type == "kanban"]

    refused = _get(jira, kanban)
    jira.backlog.kanban_backlog.add(kanban)
    enabled = _get(jira, kanban)

    message = NOT_SUPPORTED_CLOUD if jira.deployment == "cloud" else NOT_SUPPORTED_SERVER
    assert (refused.status_code, refused.json()["errorMessages"]) == (400, [message])
    assert enabled.status_code == 200
    assert {i["fields"]["status"]["name"] for i in enabled.json()["issues"]} == {"To Do"}


def test_an_unknown_board_is_404_and_a_restricted_one_403(jira: FakeJira) -> None:
    board = _scrum(jira)
    jira.agile.restricted.add(board)

    assert _get(jira, 999).status_code == 404
    assert _get(jira, board).status_code == 403


def test_without_jira_software_there_is_no_backlog(jira: FakeJira) -> None:
    jira.agile.software = False

    assert _get(jira, _scrum(jira)).status_code == 404


def test_anonymous_callers_get_401(jira: FakeJira) -> None:
    path = (CLOUD if jira.deployment == "cloud" else SERVER).format(_scrum(jira))

    assert requests.get(f"{jira.base_url}{path}", timeout=10).status_code == 401


def test_cloud_refuses_the_removed_agile_backlog_and_bad_page_arguments() -> None:
    with FakeJira("cloud", generate_dataset(projects=1, issues=100)) as jira:
        board = _scrum(jira)
        auth = (CLOUD_EMAIL, CLOUD_API_TOKEN)
        removed = requests.get(f"{jira.base_url}{SERVER.format(board)}", auth=auth, timeout=10)
        too_many = _get(jira, board, maxResults=5001)
        forged = _get(jira, board, nextPageToken="bm90LWEtdG9rZW4")
        first = _get(jira, board, maxResults=1).json()
        other_query = _get(jira, board, jql="priority = High", nextPageToken=first["nextPageToken"])

    assert removed.status_code == 410
    assert "/rest/software/1.0/board/{boardId}/backlog" in removed.json()["errorMessages"][0]
    assert too_many.status_code == 400
    assert forged.status_code == 400
    assert other_query.status_code == 400  # a token belongs to its board and query


def test_server_has_no_software_api_and_serves_pages_up_to_its_limit() -> None:
    with FakeJira("server", generate_dataset(projects=1, issues=40), max_results_cap=3) as jira:
        board = _scrum(jira)
        software = requests.get(
            f"{jira.base_url}{CLOUD.format(board)}",
            auth=(SERVER_USERNAME, SERVER_PASSWORD),
            timeout=10,
        )
        page = _get(jira, board, maxResults=50).json()

    assert software.status_code == 404
    assert (page["maxResults"], len(page["issues"])) == (3, 3)
    assert page["total"] > 3
