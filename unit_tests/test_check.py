import logging
from typing import Any

import pytest
import requests
from airbyte_cdk.models import Status

from integration_tests.support.configs import (
    CLOUD_URL,
    SECRET,
    SERVER_URL,
    cloud_config,
    server_config,
)
from source_jira_port.source import SourceJiraPort

_LOGGER = logging.getLogger("test")


def _check(config: dict[str, Any]) -> Any:
    return SourceJiraPort(config=config).check(_LOGGER, config)


@pytest.fixture(autouse=True)
def _server_info(requests_mock: Any) -> None:
    for site, kind in ((CLOUD_URL, "Cloud"), (SERVER_URL, "Server")):
        requests_mock.get(f"{site}/rest/api/2/serverInfo", json={"deploymentType": kind})


def _serve_projects(requests_mock: Any) -> None:
    requests_mock.get(
        f"{CLOUD_URL}/rest/api/3/project/search",
        json={"startAt": 0, "total": 1, "isLast": True, "values": [{"id": "1", "key": "PROJ"}]},
    )


def test_check_succeeds_when_myself_and_every_project_answer(requests_mock: Any) -> None:
    myself = requests_mock.get(f"{CLOUD_URL}/rest/api/3/myself", json={"accountId": "a"})
    project = requests_mock.get(f"{CLOUD_URL}/rest/api/3/project/PROJ", json={"id": "1"})
    _serve_projects(requests_mock)

    status = _check(cloud_config(projects=["PROJ"]))

    assert status.status == Status.SUCCEEDED
    assert (myself.call_count, project.call_count) == (1, 1)


def test_check_fails_on_wrong_credentials_even_if_search_answers_anonymously(
    requests_mock: Any,
) -> None:
    requests_mock.get(
        f"{CLOUD_URL}/rest/api/3/myself", status_code=401, text="Client must be authenticated"
    )
    _serve_projects(requests_mock)

    status = _check(cloud_config())

    assert status.status == Status.FAILED
    assert "rejected the credentials" in status.message
    assert SECRET not in status.message


def test_check_names_an_unknown_project(requests_mock: Any) -> None:
    requests_mock.get(f"{SERVER_URL}/rest/api/2/myself", json={"name": "bot"})
    requests_mock.get(f"{SERVER_URL}/rest/api/2/project/GOOD", json={"id": "1"})
    requests_mock.get(
        f"{SERVER_URL}/rest/api/2/project/NOPE",
        status_code=404,
        json={"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {}},
    )

    status = _check(server_config(projects=["GOOD", "NOPE"]))

    assert status.status == Status.FAILED
    assert "No project could be found with key 'NOPE'." in status.message


def test_check_fails_fast_when_jira_cannot_be_reached(requests_mock: Any) -> None:
    requests_mock.get(f"{SERVER_URL}/rest/api/2/serverInfo", exc=requests.ConnectionError)
    myself = requests_mock.get(f"{SERVER_URL}/rest/api/2/myself", json={"name": "bot"})

    status = _check(server_config())

    assert status.status == Status.FAILED
    assert f"Cannot reach Jira at {SERVER_URL}" in status.message
    assert myself.call_count == 0


def test_check_asks_server_info_once_when_the_deployment_is_auto(requests_mock: Any) -> None:
    requests_mock.get(f"{SERVER_URL}/rest/api/2/myself", json={"name": "bot"})
    requests_mock.get(f"{SERVER_URL}/rest/api/2/project", json=[])

    status = _check(server_config(deployment="auto"))

    assert status.status == Status.SUCCEEDED
    probes = [r for r in requests_mock.request_history if r.path.endswith("/serverinfo")]
    assert len(probes) == 1


_BAD_JQL = "Error in the JQL Query: Expecting either a value, list or function but got '='."


def test_check_validates_the_users_jql_alone_on_cloud(requests_mock: Any) -> None:
    requests_mock.get(f"{CLOUD_URL}/rest/api/3/myself", json={"accountId": "a"})
    parse = requests_mock.post(
        f"{CLOUD_URL}/rest/api/3/jql/parse",
        json={
            "queries": [
                {"query": "status = = Done", "errors": [f"{_BAD_JQL} (line 1, character 10)"]}
            ]
        },
    )
    _serve_projects(requests_mock)

    status = _check(cloud_config(jql="status = = Done", projects=[]))

    assert status.status == Status.FAILED
    assert "jql: Jira rejects" in status.message
    assert "(line 1, character 10)" in status.message
    assert parse.last_request.qs == {"validation": ["strict"]}
    assert parse.last_request.json() == {"queries": ["status = = Done"]}


def test_check_validates_the_users_jql_alone_on_server(requests_mock: Any) -> None:
    requests_mock.get(f"{SERVER_URL}/rest/api/2/myself", json={"name": "bot"})
    search = requests_mock.get(
        f"{SERVER_URL}/rest/api/2/search",
        status_code=400,
        json={"errorMessages": [f"{_BAD_JQL} (line 1, character 10)"], "errors": {}},
    )

    status = _check(server_config(jql="status = = Done"))

    assert status.status == Status.FAILED
    assert "(line 1, character 10)" in status.message
    sent = search.last_request.qs
    assert (sent["jql"], sent["maxresults"], sent["validatequery"]) == (
        ["status = = done"],
        ["0"],
        ["strict"],
    )


def test_check_with_a_valid_jql_succeeds(requests_mock: Any) -> None:
    requests_mock.get(f"{CLOUD_URL}/rest/api/3/myself", json={"accountId": "a"})
    requests_mock.post(
        f"{CLOUD_URL}/rest/api/3/jql/parse",
        json={"queries": [{"query": "status != Done", "structure": {}}]},
    )
    _serve_projects(requests_mock)

    assert _check(cloud_config(jql="status != Done")).status == Status.SUCCEEDED


def test_check_names_the_url_when_something_else_answers_for_jira(requests_mock: Any) -> None:
    requests_mock.get(f"{SERVER_URL}/rest/api/2/myself", text="<html>Log in</html>")

    status = _check(server_config())

    assert status.status == Status.FAILED
    assert "Check the Jira URL" in status.message
