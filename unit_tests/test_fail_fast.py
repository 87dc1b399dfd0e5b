"""A config error stops the whole read at once: one failing request per worker at most."""

from typing import Any

import pytest
from airbyte_cdk.models import AirbyteMessage, FailureType, StreamDescriptor, SyncMode, Type
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder
from airbyte_cdk.utils import AirbyteTracedException

from integration_tests.support.configs import CLOUD_URL, SERVER_URL, cloud_config, server_config
from source_jira_port.failed_read import report_failures_plainly
from source_jira_port.source import SourceJiraPort

_CLOUD_SEARCH = f"{CLOUD_URL}/rest/api/3/search/jql"
_CLOUD_PROJECTS = f"{CLOUD_URL}/rest/api/3/project/search"
_SERVER_SEARCH = f"{SERVER_URL}/rest/api/2/search"
_SERVER_PROJECTS = f"{SERVER_URL}/rest/api/2/project"
_LOGIN_FAILED = "<html>Basic Authentication Failure - Reason : AUTHENTICATED_FAILED</html>"
# From 2000 in 30-day windows: about 330 windows, each a request before this was fixed.
_SINCE_2000 = {"start_date": "2000-01-01T00:00:00Z", "num_workers": 3}


def _read_both(config: dict[str, Any], cursor: str | None) -> EntrypointOutput:
    catalog = (
        CatalogBuilder()
        .with_stream("projects", SyncMode.full_refresh)
        .with_stream("issues", SyncMode.incremental)
        .build()
    )
    state = (
        StateBuilder().with_stream_state("issues", {"updated": cursor}).build() if cursor else None
    )
    return read(SourceJiraPort(catalog, config, state), config, catalog, state)


def _error_traces(output: EntrypointOutput) -> list[Any]:
    return [m.trace.error for m in output.errors if m.trace and m.trace.error]


@pytest.mark.parametrize("cursor", [None, "2000-01-02T00:00:00.000+0000"], ids=["first", "next"])
def test_a_rejected_password_costs_at_most_one_request_per_worker(
    requests_mock: Any, cursor: str | None
) -> None:
    search = requests_mock.get(_SERVER_SEARCH, status_code=401, text=_LOGIN_FAILED)
    projects = requests_mock.get(_SERVER_PROJECTS, status_code=401, text=_LOGIN_FAILED)

    output = _read_both(server_config(**_SINCE_2000), cursor)

    assert search.call_count + projects.call_count <= 3
    assert output.state_messages == []
    errors = _error_traces(output)
    assert {e.failure_type for e in errors} == {FailureType.config_error}
    assert "Jira rejected the credentials" in errors[-1].message
    assert len(errors) <= 3, "each stream's error once, and the read's closing error"


def test_a_first_sync_stops_at_the_first_planning_probe_jira_fails(requests_mock: Any) -> None:
    anonymous = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
    search = requests_mock.get(
        _CLOUD_SEARCH, json={"issues": [], "isLast": True}, headers=anonymous
    )
    count = requests_mock.post(f"{CLOUD_URL}/rest/api/3/search/approximate-count", json={})
    projects = requests_mock.get(
        _CLOUD_PROJECTS,
        json={"startAt": 0, "total": 0, "isLast": True, "values": []},
        headers=anonymous,
    )

    output = _read_both(cloud_config(**_SINCE_2000), None)

    assert (search.call_count, count.call_count, projects.call_count) == (1, 0, 0)
    assert output.state_messages == []
    assert "answered" in _error_traces(output)[-1].message


def test_a_config_error_of_one_run_does_not_stop_the_next(requests_mock: Any) -> None:
    requests_mock.get(
        _SERVER_PROJECTS,
        [{"status_code": 401, "text": _LOGIN_FAILED}, {"json": [{"id": "1", "key": "A"}]}],
    )
    catalog = CatalogBuilder().with_stream("projects", SyncMode.full_refresh).build()
    config = server_config()
    failed = read(SourceJiraPort(catalog, config, None), config, catalog)
    fixed = read(SourceJiraPort(catalog, config, None), config, catalog)
    assert failed.errors
    assert [r.record.data["key"] for r in fixed.records] == ["A"]


def _state(stream: str) -> AirbyteMessage:
    state = StateBuilder().with_stream_state(stream, {"updated": "x"}).build()[0]
    return AirbyteMessage(type=Type.STATE, state=state)


def _error(stream: str, message: str) -> AirbyteMessage:
    error = AirbyteTracedException(message=message, failure_type=FailureType.config_error)
    return error.as_airbyte_message(stream_descriptor=StreamDescriptor(name=stream))


def test_a_stream_keeps_the_states_it_reached_before_failing() -> None:
    messages = [
        _state("issues"),
        _error("issues", "boom"),
        _error("projects", "boom"),
        _error("projects", "boom"),
        _state("issues"),
        _state("projects"),
    ]
    kept = list(report_failures_plainly(messages))
    assert [m.type for m in kept] == [Type.STATE, Type.TRACE, Type.TRACE, Type.STATE]
    assert kept[-1].state and kept[-1].state.stream
    assert kept[-1].state.stream.stream_descriptor.name == "issues"


def test_a_bad_jql_costs_one_request_and_names_a_position_in_the_users_text(
    requests_mock: Any,
) -> None:
    error = "Error in the JQL Query: Expecting operator but got 'query'. (line 1, character 5)"
    parse = requests_mock.post(
        f"{CLOUD_URL}/rest/api/3/jql/parse",
        json={"queries": [{"query": "bad query", "errors": [error]}]},
    )
    search = requests_mock.get(_CLOUD_SEARCH, json={"issues": [], "isLast": True})
    projects = requests_mock.get(_CLOUD_PROJECTS, json={"values": [], "isLast": True})

    output = _read_both(cloud_config(jql="bad query", **_SINCE_2000), None)

    assert (parse.call_count, search.call_count, projects.call_count) == (1, 0, 0)
    assert parse.last_request.json() == {"queries": ["bad query"]}
    failure = _error_traces(output)[-1]
    assert failure.failure_type == FailureType.config_error
    assert failure.message.startswith('jql: Jira rejects "bad query": ' + error)
    assert output.state_messages == []
