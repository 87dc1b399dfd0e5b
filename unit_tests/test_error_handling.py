"""How Jira's error answers surface: failure type, message, retries; never a secret."""

import threading
from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput

from integration_tests.support.configs import (
    CLOUD_URL,
    SECRET,
    SERVER_URL,
    cloud_config,
    server_config,
)
from integration_tests.support.reads import read_stream
from source_jira_port.rate_limit import pause_for

_CLOUD_PROJECTS = f"{CLOUD_URL}/rest/api/3/project/search"
_SERVER_PROJECTS = f"{SERVER_URL}/rest/api/2/project"
_EMPTY_PAGE = {"startAt": 0, "total": 0, "isLast": True, "values": []}


def _failure(output: EntrypointOutput) -> tuple[FailureType, str]:
    error = output.errors[0].trace.error
    assert error is not None
    return error.failure_type, error.message


def _assert_no_secret(output: EntrypointOutput) -> None:
    assert SECRET not in "\n".join(str(message) for message in output._messages)


def test_jql_400_fails_with_jiras_own_messages(requests_mock: Any) -> None:
    requests_mock.post(  # the jql alone passes (as one Jira may fail only in a search)
        f"{CLOUD_URL}/rest/api/3/jql/parse", json={"queries": [{"query": "bad query"}]}
    )
    requests_mock.get(
        f"{CLOUD_URL}/rest/api/3/search/jql",
        status_code=400,
        json={
            "errorMessages": ["Error in the JQL Query: Expecting operator but got 'query'."],
            "errors": {},
        },
    )
    output = read_stream(cloud_config(jql="bad query"), "issues")
    failure_type, message = _failure(output)
    assert failure_type == FailureType.config_error
    assert "Expecting operator but got 'query'." in message
    assert output.records == []


def test_400_field_errors_are_quoted_too(requests_mock: Any) -> None:
    requests_mock.get(
        f"{SERVER_URL}/rest/api/2/search",
        status_code=400,
        json={"errorMessages": [], "errors": {"jql": "Field 'nope' does not exist."}},
    )
    assert "Field 'nope' does not exist." in _failure(read_stream(server_config(), "issues"))[1]


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (401, "Client must be authenticated", {}, "rejected the credentials"),
        (
            401,
            "Basic authentication with passwords is deprecated.",
            {},
            "does not accept account passwords",
        ),
        (
            403,
            '{"message": "Basic Authentication has been disabled on this instance."}',
            {},
            "personal access token",
        ),
        (403, "", {"X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE; login-url=x"}, "CAPTCHA"),
        (403, '{"errorMessages": []}', {}, "Browse"),
        (
            200,
            '{"startAt":0,"total":0,"isLast":true,"values":[]}',
            {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
            "anonymous",
        ),
    ],
    ids=["401", "cloud-password", "basic-disabled", "captcha", "403", "anonymous-200"],
)
def test_auth_failures_are_config_errors_that_say_what_to_fix(
    requests_mock: Any, status: int, body: str, headers: dict[str, str], expected: str
) -> None:
    requests_mock.get(_CLOUD_PROJECTS, status_code=status, text=body, headers=headers)
    output = read_stream(cloud_config(), "projects")
    failure_type, message = _failure(output)
    assert failure_type == FailureType.config_error
    assert expected in message
    _assert_no_secret(output)


def test_404_names_the_url_and_suggests_the_context_path(requests_mock: Any) -> None:
    requests_mock.get(_SERVER_PROJECTS, status_code=404, text="<html>Not Found</html>")
    failure_type, message = _failure(read_stream(server_config(), "projects"))
    assert failure_type == FailureType.config_error
    assert _SERVER_PROJECTS in message
    assert "context path" in message


def test_410_names_the_removed_endpoint(requests_mock: Any) -> None:
    requests_mock.get(
        _CLOUD_PROJECTS,
        status_code=410,
        json={"errorMessages": ["The requested API has been removed."], "errors": {}},
    )
    _, message = _failure(read_stream(cloud_config(), "projects"))
    assert f"Jira removed the endpoint {_CLOUD_PROJECTS}" in message
    assert "The requested API has been removed." in message


@pytest.mark.parametrize("status", [429, 503])
def test_rate_limits_wait_for_retry_after_then_succeed(
    requests_mock: Any, backoff_waits: list[float], status: int
) -> None:
    requests_mock.get(
        _CLOUD_PROJECTS,
        [
            {"status_code": status, "headers": {"Retry-After": "7"}, "text": ""},
            {"json": _EMPTY_PAGE | {"total": 1, "values": [{"id": "1", "key": "A"}]}},
        ],
    )
    output = read_stream(cloud_config(), "projects")
    assert [r.record.data["key"] for r in output.records] == ["A"]
    assert len(backoff_waits) == 1
    assert 7 <= backoff_waits[0] <= 8  # the CDK adds a second of margin


def test_a_rate_limit_another_worker_got_holds_this_streams_requests(
    requests_mock: Any, backoff_waits: list[float]
) -> None:
    requests_mock.get(_CLOUD_PROJECTS, json=_EMPTY_PAGE | {"total": 1, "values": [{"id": "1"}]})
    paused, read_done = threading.Event(), threading.Event()

    def other_worker() -> None:  # alive through the read, as the CDK's workers are
        pause_for(CLOUD_URL).extend(20)
        paused.set()
        read_done.wait()

    other = threading.Thread(target=other_worker)
    other.start()
    paused.wait()
    try:
        output = read_stream(cloud_config(), "projects")
    finally:
        read_done.set()
        other.join()

    assert len(output.records) == 1
    assert len(backoff_waits) == 1
    # what is left of the 20 s pause once the source is built (seconds on a loaded machine)
    assert 15 < backoff_waits[0] <= 20


def test_server_errors_retry_with_backoff(requests_mock: Any, backoff_waits: list[float]) -> None:
    requests_mock.get(
        _SERVER_PROJECTS,
        [
            {"status_code": 500, "text": "boom"},
            {"status_code": 502, "text": ""},
            {"json": [{"id": "1", "key": "A"}]},
        ],
    )
    output = read_stream(server_config(), "projects")
    assert len(output.records) == 1
    assert len(backoff_waits) == 2
    assert backoff_waits[1] > backoff_waits[0]
