"""Tests of the fake Jira itself: JQL semantics, paging, auth and fault injection over HTTP."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import (
    CLOUD_API_TOKEN,
    CLOUD_EMAIL,
    CLOUD_ID,
    OAUTH_ACCESS_TOKEN,
    SERVER_PASSWORD,
    SERVER_PAT,
    SERVER_USERNAME,
    FakeJira,
)

pytestmark = pytest.mark.integration

CLOUD_AUTH = (CLOUD_EMAIL, CLOUD_API_TOKEN)
SERVER_AUTH = (SERVER_USERNAME, SERVER_PASSWORD)
JIRA_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}")
SECONDS_MESSAGE = (
    "Date value '2024-03-10 10:30:00' for field 'updated' is invalid. Valid formats include: "
    "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
    "e.g. '-5d', '4w 2d'."
)


@pytest.fixture(scope="module")
def cloud() -> Iterator[FakeJira]:
    with FakeJira("cloud") as fake:
        yield fake


@pytest.fixture(scope="module")
def server() -> Iterator[FakeJira]:
    with FakeJira("server") as fake:
        yield fake


@pytest.fixture
def fresh_cloud() -> Iterator[FakeJira]:
    with FakeJira("cloud", generate_dataset(issues=30)) as fake:
        yield fake


def search_jql(
    fake: FakeJira, jql: str, auth: Any = CLOUD_AUTH, **params: Any
) -> requests.Response:
    """Search with `fields=key` unless told otherwise (Cloud's default is ids alone)."""
    return requests.get(
        f"{fake.base_url}/rest/api/3/search/jql",
        params={"jql": jql, "fields": "key", **params},
        auth=auth,
        timeout=10,
    )


def keys_for(fake: FakeJira, jql: str) -> list[str]:
    response = search_jql(fake, jql, maxResults=5000)
    assert response.status_code == 200, response.text
    return [issue["key"] for issue in response.json()["issues"]]


def error_message(response: requests.Response) -> str:
    body = response.json()
    assert body["errors"] == {}
    return str(body["errorMessages"][0])


# JQL ------------------------------------------------------------------------------------------


def test_epoch_ms_is_zone_free_and_quoted_dates_use_the_user_zone(fresh_cloud: FakeJira) -> None:
    moment = datetime(2024, 3, 10, 9, 30, 15, 123456, tzinfo=UTC)  # 10:30:15.123 in Berlin
    epoch_ms = 1710063015123
    issue = fresh_cloud.update_issue("PLAT-1", at=moment)
    assert issue["fields"]["updated"] == "2024-03-10T10:30:15.123+0100"

    def matches(clause: str) -> bool:
        return keys_for(fresh_cloud, f"key = PLAT-1 AND {clause}") == ["PLAT-1"]

    assert matches(f"updated >= {epoch_ms}")
    assert not matches(f"updated > {epoch_ms}")
    assert matches(f"updated = {epoch_ms}")
    assert matches("updated >= '2024/03/10 10:30'")  # minute precision, Berlin time
    assert not matches("updated >= '2024-03-10 10:31'")
    assert not matches('updated <= "2024/03/10 10:30"')
    assert matches("updated >= '2024-03-10' AND updated < '2024/03/11'")


def test_quoted_dates_follow_the_configured_zone() -> None:
    summer = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
    with FakeJira("server", generate_dataset(issues=5), user_time_zone="America/New_York") as fake:
        fake.update_issue("PLAT-1", at=summer)
        response = requests.get(
            f"{fake.base_url}/rest/api/2/search",
            auth=SERVER_AUTH,
            timeout=10,
            params={"jql": "key = PLAT-1 AND updated >= '2024/07/01 08:00'", "fields": "updated"},
        )
        assert [i["fields"]["updated"] for i in response.json()["issues"]] == [
            "2024-07-01T08:00:00.000-0400"
        ]
        response = requests.get(
            f"{fake.base_url}/rest/api/2/search",
            auth=SERVER_AUTH,
            timeout=10,
            params={"jql": "key = PLAT-1 AND updated >= '2024/07/01 08:01'"},
        )
        assert response.json()["total"] == 0
    with FakeJira("cloud", generate_dataset(issues=5)) as fake:
        assert fake.update_issue("PLAT-1", at=summer)["fields"]["updated"].endswith("+0200")


def test_date_literal_with_seconds_is_rejected(cloud: FakeJira) -> None:
    response = search_jql(cloud, "updated >= '2024-03-10 10:30:00'")
    assert response.status_code == 400
    assert error_message(response) == SECONDS_MESSAGE


def test_order_by_updated_then_key(cloud: FakeJira) -> None:
    response = search_jql(
        cloud, "project = PLAT ORDER BY updated DESC, key ASC", maxResults=5000, fields="updated"
    )
    updated = [datetime.fromisoformat(i["fields"]["updated"]) for i in response.json()["issues"]]
    assert len(updated) > 10
    assert updated == sorted(updated, reverse=True)


def test_cloud_search_sends_ids_alone_unless_fields_are_asked(cloud: FakeJira) -> None:
    bare = requests.get(
        f"{cloud.base_url}/rest/api/3/search/jql",
        params={"jql": "project = PLAT", "maxResults": 2},
        auth=CLOUD_AUTH,
        timeout=10,
    ).json()
    keyed = search_jql(cloud, "project = PLAT", maxResults=2).json()

    assert [set(issue) for issue in bare["issues"]] == [{"id"}, {"id"}]
    assert [issue["id"] for issue in keyed["issues"]] == [issue["id"] for issue in bare["issues"]]
    assert all(issue["key"].startswith("PLAT-") for issue in keyed["issues"])


def test_order_by_key_is_numeric_per_project(cloud: FakeJira) -> None:
    keys = keys_for(cloud, "project in (PLAT, MOB) ORDER BY key ASC")
    parsed = [(k.split("-")[0], int(k.split("-")[1])) for k in keys]
    assert parsed == sorted(parsed)
    assert keys.index("PLAT-9") < keys.index("PLAT-10")
    assert keys_for(cloud, "project in (PLAT, MOB) ORDER BY key DESC") == keys[::-1]
    assert keys_for(cloud, "project in (PLAT, MOB)") == keys  # default: key order


def test_jql_clauses(cloud: FakeJira) -> None:
    issues = list(cloud.dataset.issues.values())
    not_done = [i for i in issues if i.project_key == "MOB" and i.status.name != "Done"]
    assert len(keys_for(cloud, "PROJECT = mob AND statusCategory != Done")) == len(not_done)
    todo_bugs = [i for i in issues if i.status.name == "To Do" and i.issuetype.name == "Bug"]
    assert len(keys_for(cloud, 'status = "To Do" and issuetype = Bug')) == len(todo_bugs)
    either = keys_for(cloud, "(project = PLAT OR project = 'Mobile App') AND NOT project = MOB")
    assert either and all(k.startswith("PLAT-") for k in either)
    assert keys_for(cloud, 'status in ("In Progress", Done) AND project != DATA') == [
        i.key
        for i in sorted(issues, key=lambda i: (i.project_key, i.number))
        if i.status.name in ("In Progress", "Done") and i.project_key != "DATA"
    ]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ('project in (PLAT, "Nope")', "The value 'Nope' does not exist for the field 'project'."),
        ("flavour = x", "Field 'flavour' does not exist or you do not have permission to view it."),
        ("project = PLAT AND", "Error in the JQL Query: Expecting a field name"),
        ("project PLAT", "Error in the JQL Query: Expecting operator but got 'PLAT'."),
    ],
)
def test_jql_errors(cloud: FakeJira, server: FakeJira, jql: str, message: str) -> None:
    cloud_response = search_jql(cloud, jql)
    server_response = requests.get(
        f"{server.base_url}/rest/api/2/search", params={"jql": jql}, auth=SERVER_AUTH, timeout=10
    )
    for response in (cloud_response, server_response):
        assert response.status_code == 400
        assert error_message(response).startswith(message)


def _parse(fake: FakeJira, body: Any, auth: Any = CLOUD_AUTH, **params: str) -> requests.Response:
    return requests.post(
        f"{fake.base_url}/rest/api/3/jql/parse",
        params={"validation": "strict", **params},
        json=body,
        auth=auth,
        timeout=10,
    )


def test_cloud_jql_parse_answers_each_query_with_its_errors_or_its_structure(
    cloud: FakeJira,
) -> None:
    response = _parse(cloud, {"queries": ["project = PLAT", "status = = Done", "flavour = x"]})
    assert response.status_code == 200
    good, syntax, unknown = response.json()["queries"]
    assert good == {"query": "project = PLAT", "structure": {}}
    assert syntax["errors"] == [
        "Error in the JQL Query: Expecting either a value, list or function but got '='. "
        "(line 1, character 10)"
    ]
    assert unknown["errors"] == [
        "Field 'flavour' does not exist or you do not have permission to view it."
    ]


def test_cloud_jql_parse_validates_as_the_caller(cloud: FakeJira) -> None:
    [anonymous] = _parse(cloud, {"queries": ["project = PLAT"]}, auth=None).json()["queries"]
    assert anonymous["errors"] == ["The value 'PLAT' does not exist for the field 'project'."]


@pytest.mark.parametrize(
    ("body", "params"),
    [({"queries": "project = PLAT"}, {}), ([], {}), ({"queries": ["x = 1"]}, {"validation": "x"})],
    ids=["queries-not-a-list", "not-an-object", "unknown-validation"],
)
def test_cloud_jql_parse_rejects_malformed_requests(
    cloud: FakeJira, body: Any, params: dict[str, str]
) -> None:
    assert _parse(cloud, body, **params).status_code == 400


def test_server_search_counts_with_strict_validation(server: FakeJira) -> None:
    params = {"maxResults": "0", "validateQuery": "strict"}
    ok = requests.get(
        f"{server.base_url}/rest/api/2/search",
        params={"jql": "project = PLAT", **params},
        auth=SERVER_AUTH,
        timeout=10,
    )
    bad = requests.get(
        f"{server.base_url}/rest/api/2/search",
        params={"jql": "status = = Done", **params},
        auth=SERVER_AUTH,
        timeout=10,
    )
    assert ok.status_code == 200
    assert ok.json()["issues"] == [] and ok.json()["total"] > 0
    assert bad.status_code == 400
    assert error_message(bad).endswith("(line 1, character 10)")


# cloud search/jql -------------------------------------------------------------------------------


def test_cloud_token_paging(cloud: FakeJira) -> None:
    expected = keys_for(cloud, "project in (PLAT, DATA) ORDER BY key")
    seen: list[str] = []
    params: dict[str, Any] = {"maxResults": 7}
    pages = 0
    while True:
        page = search_jql(cloud, "project in (PLAT, DATA) ORDER BY key", **params).json()
        pages += 1
        assert "total" not in page
        assert all(set(issue) == {"expand", "id", "self", "key"} for issue in page["issues"])
        seen += [issue["key"] for issue in page["issues"]]
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        assert len(page["issues"]) == 7
        params["nextPageToken"] = page["nextPageToken"]
    assert seen == expected
    assert pages == -(-len(expected) // 7)


def test_cloud_search_ignores_start_at_and_validates_max_results(cloud: FakeJira) -> None:
    first = search_jql(cloud, "updated >= 0", maxResults=5).json()
    assert search_jql(cloud, "updated >= 0", maxResults=5, startAt=5).json() == first
    for bad in (0, -1, 5001):
        response = search_jql(cloud, "updated >= 0", maxResults=bad)
        assert response.status_code == 400
        assert error_message(response) == (
            "The max results parameter has to be between 1 and 5,000."
        )
    for unbounded in ("", "ORDER BY updated ASC"):
        response = search_jql(cloud, unbounded)
        assert response.status_code == 400
        assert error_message(response).startswith("Unbounded JQL queries are not allowed here.")


def test_reconcile_issues_reads_just_changed_issues_on_cloud_only() -> None:
    with FakeJira("cloud", generate_dataset(issues=5), index_delay_ms=60_000) as cloud:
        issue = next(iter(cloud.dataset.issues.values()))
        cloud.update_issue(issue.key, summary="just changed")
        jql = f"id = {issue.id}"

        assert keys_for(cloud, jql) == []  # not indexed yet
        reconciled = search_jql(cloud, jql, reconcileIssues=[issue.id]).json()["issues"]
        assert [found["key"] for found in reconciled] == [issue.key]
        too_many = search_jql(cloud, jql, reconcileIssues=list(range(1, 52)))
        assert too_many.status_code == 400
        assert search_jql(cloud, jql, reconcileIssues=["A-1"]).status_code == 400
    with FakeJira("server", generate_dataset(issues=5)) as server:
        response = requests.get(
            f"{server.base_url}/rest/api/2/search",
            params={"jql": jql, "reconcileIssues": issue.id},
            auth=SERVER_AUTH,
            timeout=10,
        )
        assert response.status_code == 400


def test_cloud_field_selection_and_all_fields_page_cap(cloud: FakeJira) -> None:
    page = search_jql(cloud, "updated >= 0", maxResults=500, fields="*all").json()
    assert len(page["issues"]) == 100
    assert page["isLast"] is False
    fields = page["issues"][0]["fields"]
    assert {"comment", "description", "customfield_10010"} <= set(fields)
    assert fields["description"] is None or fields["description"]["type"] == "doc"
    page = search_jql(cloud, "updated >= 0", maxResults=3, fields="*navigable,-description").json()
    assert not {"comment", "description"} & set(page["issues"][0]["fields"])
    page = search_jql(cloud, "updated >= 0", maxResults=3, fields="summary,key").json()
    assert [set(i["fields"]) for i in page["issues"]] == [{"summary"}] * 3


def test_cloud_search_post_body(cloud: FakeJira) -> None:
    body = {
        "jql": "project = PLAT ORDER BY key",
        "maxResults": 2,
        "fields": ["summary", "status"],
        "expand": "names",
    }
    response = requests.post(
        f"{cloud.base_url}/rest/api/3/search/jql", json=body, auth=CLOUD_AUTH, timeout=10
    )
    page = response.json()
    assert [i["key"] for i in page["issues"]] == ["PLAT-1", "PLAT-2"]
    assert set(page["issues"][0]["fields"]) == {"summary", "status"}
    assert page["names"] == {"summary": "Summary", "status": "Status"}
    body["nextPageToken"] = page["nextPageToken"]
    response = requests.post(
        f"{cloud.base_url}/rest/api/3/search/jql", json=body, auth=CLOUD_AUTH, timeout=10
    )
    assert [i["key"] for i in response.json()["issues"]] == ["PLAT-3", "PLAT-4"]


def test_cloud_approximate_count_matches_the_search(cloud: FakeJira, server: FakeJira) -> None:
    def count(fake: FakeJira, body: Any, auth: Any = CLOUD_AUTH) -> requests.Response:
        url = f"{fake.base_url}/rest/api/3/search/approximate-count"
        return requests.post(url, json=body, auth=auth, timeout=10)

    jql = 'project in ("PLAT") AND updated >= 1704067200000'
    response = count(cloud, {"jql": jql})
    assert response.status_code == 200, response.text
    assert response.json() == {"count": len(keys_for(cloud, jql))}
    assert 0 < response.json()["count"] < len(cloud.dataset.issues)
    assert count(cloud, {"jql": "updated >= 0"}, auth=None).json() == {"count": 0}
    assert count(cloud, {"jql": "ORDER BY key"}).status_code == 400
    assert count(cloud, {"jql": "updated >= "}).status_code == 400
    assert count(server, {"jql": jql}, auth=SERVER_AUTH).status_code == 404


@pytest.mark.parametrize("version", ["2", "3", "latest"])
def test_cloud_classic_search_is_gone(cloud: FakeJira, version: str) -> None:
    for method in ("GET", "POST"):
        response = requests.request(
            method,
            f"{cloud.base_url}/rest/api/{version}/search",
            auth=CLOUD_AUTH,
            json={"jql": "project = PLAT"},
            timeout=10,
        )
        assert response.status_code == 410
        assert error_message(response).startswith("The requested API has been removed.")


def test_cloud_project_search_pages(cloud: FakeJira) -> None:
    url = f"{cloud.base_url}/rest/api/3/project/search?maxResults=2"
    keys = []
    while url:
        page = requests.get(url, auth=CLOUD_AUTH, timeout=10).json()
        keys += [p["key"] for p in page["values"]]
        assert page["total"] == 3
        assert "nextPage" not in page if page["isLast"] else page["nextPage"]
        url = page.get("nextPage")
    assert keys == ["DATA", "MOB", "PLAT"]
    page = requests.get(
        f"{cloud.base_url}/rest/api/3/project/search",
        auth=CLOUD_AUTH,
        params={"maxResults": 500, "keys": ["PLAT", "MOB"]},
        timeout=10,
    ).json()
    assert page["maxResults"] == 100
    assert [p["key"] for p in page["values"]] == ["MOB", "PLAT"]
    assert {"isPrivate", "simplified", "style"} <= set(page["values"][0])


# server classic search ------------------------------------------------------------------------


def test_server_classic_search_clamps_and_echoes(server: FakeJira) -> None:
    url = f"{server.base_url}/rest/api/2/search"
    page = requests.get(url, params={"maxResults": 5000}, auth=SERVER_AUTH, timeout=10).json()
    assert (page["maxResults"], page["total"], len(page["issues"])) == (1000, 200, 200)
    assert "description" in page["issues"][0]["fields"]  # default *navigable
    assert "comment" not in page["issues"][0]["fields"]
    page = requests.get(
        url, params={"maxResults": 0, "jql": "project = PLAT"}, auth=SERVER_AUTH, timeout=10
    ).json()
    assert page["issues"] == []
    assert page["total"] == len(keys_for_server(server, "project = PLAT"))
    page = requests.get(
        url, params={"fields": "id", "maxResults": 3}, auth=SERVER_AUTH, timeout=10
    ).json()
    assert all("fields" not in issue for issue in page["issues"])
    with FakeJira("server", generate_dataset(issues=120), max_results_cap=50) as small:
        page = requests.get(
            f"{small.base_url}/rest/api/2/search",
            auth=SERVER_AUTH,
            timeout=10,
            params={"maxResults": 100, "startAt": 100},
        ).json()
        assert (page["startAt"], page["maxResults"], page["total"]) == (100, 50, 120)
        assert len(page["issues"]) == 20


def keys_for_server(fake: FakeJira, jql: str) -> list[str]:
    response = requests.get(
        f"{fake.base_url}/rest/api/2/search",
        auth=SERVER_AUTH,
        timeout=10,
        params={"jql": jql, "maxResults": 1000, "fields": "id"},
    )
    return [issue["key"] for issue in response.json()["issues"]]


def test_server_projects_are_a_plain_array(server: FakeJira) -> None:
    projects = requests.get(
        f"{server.base_url}/rest/api/2/project", auth=SERVER_AUTH, timeout=10
    ).json()
    assert [p["key"] for p in projects] == ["PLAT", "MOB", "DATA"]
    assert all("archived" in p and "isPrivate" not in p for p in projects)
    missing = requests.get(
        f"{server.base_url}/rest/api/2/project/NOPE", auth=SERVER_AUTH, timeout=10
    )
    assert missing.status_code == 404
    assert error_message(missing) == "No project could be found with key 'NOPE'."


# representations ------------------------------------------------------------------------------


def test_deployment_representations(cloud: FakeJira, server: FakeJira) -> None:
    with_description = next(
        i.key for i in cloud.dataset.issues.values() if i.description and i.assignee
    )
    v3 = requests.get(
        f"{cloud.base_url}/rest/api/3/issue/{with_description}", auth=CLOUD_AUTH, timeout=10
    ).json()["fields"]
    assert v3["description"]["type"] == "doc"
    assert "accountId" in v3["assignee"]
    assert not {"name", "key"} & set(v3["assignee"])
    assert JIRA_TIME.fullmatch(v3["created"])
    assert isinstance(v3["status"]["statusCategory"]["id"], int)
    v2_cloud = requests.get(
        f"{cloud.base_url}/rest/api/2/issue/{with_description}", auth=CLOUD_AUTH, timeout=10
    ).json()
    assert isinstance(v2_cloud["fields"]["description"], str)
    assert "/rest/api/2/" in v2_cloud["self"]
    assert "name" not in v2_cloud["fields"]["assignee"]
    v2 = requests.get(
        f"{server.base_url}/rest/api/2/issue/{with_description}", auth=SERVER_AUTH, timeout=10
    ).json()["fields"]
    assert isinstance(v2["description"], str)
    assert v2["assignee"]["key"].startswith("JIRAUSER")
    assert "accountId" not in v2["assignee"]
    me = requests.get(f"{server.base_url}/rest/api/2/myself", auth=SERVER_AUTH, timeout=10).json()
    assert (me["name"], me["timeZone"]) == (SERVER_USERNAME, "Europe/Berlin")


def test_dataset_is_deterministic() -> None:
    assert generate_dataset(seed=3).issues == generate_dataset(seed=3).issues
    assert generate_dataset(seed=3).issues != generate_dataset(seed=4).issues


def test_cloud_wrong_credentials_fall_back_to_anonymous(cloud: FakeJira) -> None:
    wrong = (CLOUD_EMAIL, "not-the-token")
    response = search_jql(cloud, "updated >= 0", auth=wrong)
    assert response.status_code == 200
    assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert response.json() == {"issues": [], "isLast": True}
    response = requests.get(f"{cloud.base_url}/rest/api/3/project/search", auth=wrong, timeout=10)
    assert response.status_code == 200
    assert (response.json()["total"], response.json()["values"]) == (0, [])
    # an anonymous user sees no project, so naming one is a 400 (as for an invisible project)
    response = search_jql(cloud, "project = PLAT", auth=wrong)
    assert response.status_code == 400
    assert error_message(response) == "The value 'PLAT' does not exist for the field 'project'."
    anonymous = search_jql(cloud, "updated >= 0", auth=None)
    assert anonymous.status_code == 200
    assert "X-Seraph-LoginReason" not in anonymous.headers
    info = requests.get(f"{cloud.base_url}/rest/api/2/serverInfo", auth=wrong, timeout=10)
    assert info.json()["deploymentType"] == "Cloud"


@pytest.mark.parametrize("path", ["myself", "project/PLAT"])
@pytest.mark.parametrize("auth", [None, (CLOUD_EMAIL, "wrong"), ("other@example.com", "x")])
def test_cloud_login_required(cloud: FakeJira, path: str, auth: Any) -> None:
    response = requests.get(f"{cloud.base_url}/rest/api/3/{path}", auth=auth, timeout=10)
    assert response.status_code == 401
    assert response.text == "Client must be authenticated to access this resource."
    assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert "WWW-Authenticate" in response.headers


def test_cloud_password_is_deprecated(cloud: FakeJira) -> None:
    response = search_jql(cloud, "updated >= 0", auth=(CLOUD_EMAIL, "password"))
    assert response.status_code == 401
    assert response.text == "Basic authentication with passwords is deprecated."


def test_cloud_oauth_gateway(cloud: FakeJira) -> None:
    bearer = {"Authorization": f"Bearer {OAUTH_ACCESS_TOKEN}"}
    base = f"{cloud.base_url}/ex/jira/{CLOUD_ID}/rest/api/3"
    me = requests.get(f"{base}/myself", headers=bearer, timeout=10)
    assert me.status_code == 200
    page = requests.get(
        f"{base}/search/jql",
        headers=bearer,
        timeout=10,
        params={"jql": "project = PLAT", "maxResults": 1, "fields": "key"},
    ).json()
    assert page["issues"][0]["self"].startswith(f"{cloud.base_url}/ex/jira/{CLOUD_ID}/rest/api/3/")
    assert requests.get(f"{base}/myself", auth=CLOUD_AUTH, timeout=10).status_code == 401
    assert (
        requests.get(f"{cloud.base_url}/rest/api/3/myself", headers=bearer, timeout=10).status_code
        == 401
    )
    resources = requests.get(
        f"{cloud.base_url}/oauth/token/accessible-resources", headers=bearer, timeout=10
    ).json()
    assert resources[0]["id"] == CLOUD_ID


def test_server_auth(server: FakeJira) -> None:
    base = f"{server.base_url}/rest/api/2"
    for auth in ((SERVER_USERNAME, "wrong"), (SERVER_USERNAME, SERVER_PAT)):
        for path in ("myself", "search", "project"):
            response = requests.get(f"{base}/{path}", auth=auth, timeout=10)
            assert response.status_code == 401
            assert "Basic Authentication Failure - Reason : AUTHENTICATED_FAILED" in response.text
            assert response.headers["Content-Type"].startswith("text/html")
            assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    info = requests.get(f"{base}/serverInfo", auth=(SERVER_USERNAME, "wrong"), timeout=10)
    assert info.json()["deploymentType"] == "Server"
    pat = {"Authorization": f"Bearer {SERVER_PAT}"}
    assert requests.get(f"{base}/myself", headers=pat, timeout=10).json()["name"] == "jira-bot"
    wrong_pat = requests.get(f"{base}/myself", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong_pat.status_code == 401
    assert requests.get(f"{base}/myself", timeout=10).status_code == 401
    assert requests.get(f"{base}/project", timeout=10).json() == []
    assert (
        requests.get(
            f"{server.base_url}/rest/api/3/myself", auth=SERVER_AUTH, timeout=10
        ).status_code
        == 404
    )


def test_server_basic_auth_disabled() -> None:
    with FakeJira("server", generate_dataset(issues=5), basic_auth_disabled=True) as fake:
        response = requests.get(f"{fake.base_url}/rest/api/2/myself", auth=SERVER_AUTH, timeout=10)
        assert response.status_code == 403
        assert response.json() == {
            "message": "Basic Authentication has been disabled on this instance."
        }
        response = requests.get(
            f"{fake.base_url}/rest/api/2/myself",
            timeout=10,
            headers={"Authorization": f"Bearer {SERVER_PAT}"},
        )
        assert response.status_code == 200


def test_requests_log_records_scheme_not_secret(fresh_cloud: FakeJira) -> None:
    requests.post(
        f"{fresh_cloud.base_url}/rest/api/3/search/jql?x=1",
        auth=CLOUD_AUTH,
        json={"jql": "project = PLAT"},
        timeout=10,
    )
    recorded = fresh_cloud.requests_log[-1]
    assert (recorded.method, recorded.path, recorded.query, recorded.auth) == (
        "POST",
        "/rest/api/3/search/jql",
        {"x": ["1"]},
        "basic",
    )
    assert recorded.json == {"jql": "project = PLAT"}
    assert CLOUD_API_TOKEN not in repr(fresh_cloud.requests_log)


# fault injection and data changes -------------------------------------------------------------


def test_fault_injection(fresh_cloud: FakeJira) -> None:
    fresh_cloud.inject_failure(429, rate_limit_reset="2030-01-01T00:00Z")
    response = search_jql(fresh_cloud, "project = PLAT")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0"
    assert response.headers["X-RateLimit-Reset"] == "2030-01-01T00:00Z"
    assert search_jql(fresh_cloud, "project = PLAT").status_code == 200

    fresh_cloud.inject_failure(503, times=2, path_prefix="/rest/api/3/search", retry_after="1")
    fresh_cloud.inject_failure(500, path_prefix="/rest/api/3/search", retry_after=None)
    projects = requests.get(
        f"{fresh_cloud.base_url}/rest/api/3/project/search", auth=CLOUD_AUTH, timeout=10
    )
    assert projects.status_code == 200
    statuses = [search_jql(fresh_cloud, "project = PLAT") for _ in range(4)]
    assert [r.status_code for r in statuses] == [503, 503, 500, 200]
    assert statuses[0].headers["Retry-After"] == "1"
    assert "Retry-After" not in statuses[2].headers

    fresh_cloud.inject_failure(502, body="Bad gateway")
    gateway = requests.get(
        f"{fresh_cloud.oauth_base_url}/rest/api/3/myself",
        timeout=10,
        headers={"Authorization": f"Bearer {OAUTH_ACCESS_TOKEN}"},
    )
    assert (gateway.status_code, gateway.text) == (502, "Bad gateway")


def test_data_changes(fresh_cloud: FakeJira) -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    before = set(keys_for(fresh_cloud, "project = PLAT"))
    created = fresh_cloud.add_issue(
        "PLAT", at=at, summary="Fresh", status="In Progress", assignee=CLOUD_EMAIL, labels=["new"]
    )
    assert created["key"] == f"PLAT-{max(int(k.split('-')[1]) for k in before) + 1}"
    assert created["fields"]["assignee"]["displayName"] == "Jira Bot"
    assert keys_for(fresh_cloud, "updated >= '2030/01/01'") == [created["key"]]

    subtask = fresh_cloud.add_issue("PLAT", issuetype="Sub-task", parent=created["key"])
    parent = fresh_cloud.update_issue(created["key"], at=at, status="Done")
    assert parent["fields"]["subtasks"][0]["key"] == subtask["key"]
    assert parent["fields"]["resolution"]["name"] == "Done"
    assert parent["fields"]["resolutiondate"] == parent["fields"]["updated"]

    fresh_cloud.delete_issue(created["key"])
    assert set(keys_for(fresh_cloud, "project = PLAT")) == before
    missing = requests.get(
        f"{fresh_cloud.base_url}/rest/api/3/issue/{subtask['key']}", auth=CLOUD_AUTH, timeout=10
    )
    assert missing.status_code == 404


def test_cli_prints_connection_line_and_stops_on_sigterm() -> None:
    command = "-m integration_tests.fakes.jira_server --deployment server --issues 10 --projects 2"
    with subprocess.Popen(
        [sys.executable, *command.split(), "--port", "0", "--seed", "1"],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = json.loads(process.stdout.readline())
            assert line["deployment"] == "server"
            assert line["personal_access_token"] == SERVER_PAT
            page = requests.get(
                f"{line['base_url']}/rest/api/2/search", auth=SERVER_AUTH, timeout=10
            ).json()
            assert page["total"] == 10
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0


def test_cloud_can_serve_the_classic_search_it_had_before_2025_for_benchmarks() -> None:
    with FakeJira("cloud", classic_search=True) as fake:
        page = requests.get(
            f"{fake.base_url}/rest/api/3/search",
            params={"jql": "updated >= 0 ORDER BY key", "maxResults": 500, "startAt": 100},
            auth=CLOUD_AUTH,
            timeout=10,
        ).json()
    assert (page["startAt"], page["maxResults"], page["total"]) == (100, 100, 200)
    assert len(page["issues"]) == 100


def test_latency_delays_every_answer() -> None:
    with FakeJira("cloud", latency_ms=200) as fake:
        started = time.monotonic()
        requests.get(f"{fake.base_url}/rest/api/2/serverInfo", timeout=10)
        assert time.monotonic() - started >= 0.2


def test_cloud_lists_every_account_up_to_1000_a_page_and_nothing_anonymously(
    cloud: FakeJira,
) -> None:
    url = f"{cloud.base_url}/rest/api/3/users/search"
    users = requests.get(url, auth=CLOUD_AUTH, params={"maxResults": 5000}, timeout=10).json()
    page = requests.get(url, auth=CLOUD_AUTH, params={"startAt": 3}, timeout=10).json()
    anonymous = requests.get(url, timeout=10)

    assert len(users) == len(cloud.dataset.users)  # 5000 is served as the 1000 limit
    assert page == users[3 : 3 + 50]  # maxResults defaults to 50
    assert {u["accountType"] for u in users} == {"atlassian", "app", "customer"}
    assert (anonymous.status_code, anonymous.json()) == (200, [])


def test_server_user_search_needs_username_and_hides_inactive_unless_asked(
    server: FakeJira,
) -> None:
    url = f"{server.base_url}/rest/api/2/user/search"

    def search(**params: Any) -> requests.Response:
        return requests.get(url, auth=SERVER_AUTH, params=params, timeout=10)

    everyone = search(username=".", includeInactive="true", maxResults=1000).json()
    active = search(username=".", maxResults=1000).json()
    ada = search(username="ada").json()

    assert search().status_code == 400
    assert requests.get(url, params={"username": "."}, timeout=10).status_code == 401
    assert {u["key"] for u in everyone} - {u["key"] for u in active} == {
        u.key for u in server.dataset.users if not u.active
    }
    assert {u["key"] for u in everyone} == {u.key for u in server.dataset.users if u.on_server}
    assert "automation" not in {u["name"] for u in everyone}  # app accounts are Cloud's alone
    assert [u["name"] for u in ada] == ["adal"]


@pytest.mark.parametrize(
    ("deployment", "path", "auth"),
    [("cloud", "3/users/search", CLOUD_AUTH), ("server", "2/user/search?username=.", SERVER_AUTH)],
)
def test_without_browse_users_the_user_list_is_empty(
    deployment: Any, path: str, auth: tuple[str, str]
) -> None:
    with FakeJira(deployment, generate_dataset(issues=5)) as jira:
        jira.browse_users = False
        answer = requests.get(f"{jira.base_url}/rest/api/{path}", auth=auth, timeout=10)

    assert (answer.status_code, answer.json()) == (200, [])


@pytest.mark.parametrize(
    ("deployment", "auth", "name", "version", "missing"),
    [
        (
            "cloud",
            CLOUD_AUTH,
            "accountId",
            "3",
            "Specified user does not exist or you do not have required permissions",
        ),
        ("server", SERVER_AUTH, "key", "2", "The user with the key 'nobody' does not exist"),
    ],
)
def test_get_user_answers_one_user_404_when_gone_and_without_browse_users_404_or_403(
    deployment: Any, auth: tuple[str, str], name: str, version: str, missing: str
) -> None:
    with FakeJira(deployment, generate_dataset(issues=5)) as jira:
        url = f"{jira.base_url}/rest/api/{version}/user"
        user = jira.dataset.users[1]
        ident = user.account_id if deployment == "cloud" else user.key
        found = requests.get(url, params={name: ident}, auth=auth, timeout=10)
        gone = requests.get(url, params={name: "nobody"}, auth=auth, timeout=10)
        unnamed = requests.get(url, auth=auth, timeout=10)
        anonymous = requests.get(url, params={name: ident}, timeout=10)
        jira.browse_users = False
        refused = requests.get(url, params={name: ident}, auth=auth, timeout=10)

    assert found.status_code == 200
    assert found.json()["displayName"] == user.display_name
    assert (found.json().get("accountId"), found.json().get("key")) == (
        (ident, None) if deployment == "cloud" else (None, ident)
    )
    assert (gone.status_code, gone.json()) == (404, {"errorMessages": [missing], "errors": {}})
    assert [r.status_code for r in (unnamed, anonymous)] == [400, 401]
    # Cloud hides every user from a caller without the permission as if deleted; Server refuses.
    if deployment == "cloud":
        assert (refused.status_code, refused.json()) == (404, gone.json())
    else:
        assert refused.status_code == 403


def test_server_get_user_does_not_know_cloud_app_accounts() -> None:
    with FakeJira("server", generate_dataset(issues=5)) as jira:
        app = next(u for u in jira.dataset.users if not u.on_server)
        answer = requests.get(
            f"{jira.base_url}/rest/api/2/user",
            params={"key": app.key},
            auth=SERVER_AUTH,
            timeout=10,
        )

    assert answer.status_code == 404
