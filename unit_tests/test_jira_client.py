"""The Jira client: the manifest's auth, retries, rate-limit gate and messages, any path."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests
import requests_mock as rm
from airbyte_cdk.models import FailureType

from integration_tests.support.configs import SECRET, SERVER_URL, server_config
from source_jira_port import jira_client
from source_jira_port.jira_client import JiraClient, JiraError
from source_jira_port.rate_limit import RUN_ID, config_failure_for, pause_for

_CONFIG = server_config(api_base=SERVER_URL, resolved_deployment="server", **{RUN_ID: "run-1"})
_SEARCH = f"{SERVER_URL}/rest/api/2/search"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait (the CDK's backoffs, the gate's pauses), recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def test_any_path_on_the_site_gets_the_credentials(requests_mock: rm.Mocker) -> None:
    hooks = requests_mock.get(f"{SERVER_URL}/rest/webhooks/1.0/webhook", json=[])

    assert JiraClient(_CONFIG).get("/rest/webhooks/1.0/webhook") == []

    sent = hooks.last_request
    assert sent.headers["Authorization"].startswith("Basic ")
    assert sent.headers["Accept"] == "application/json"


def test_post_sends_json_and_parameters(requests_mock: rm.Mocker) -> None:
    parse = requests_mock.post(f"{SERVER_URL}/rest/api/2/jql/parse", json={"queries": []})

    JiraClient(_CONFIG).post("/rest/api/2/jql/parse", {"queries": ["a = b"]}, {"v": "strict"})

    assert parse.last_request.json() == {"queries": ["a = b"]}
    assert parse.last_request.qs == {"v": ["strict"]}


def test_a_429_is_waited_out_and_pauses_the_other_workers(
    requests_mock: rm.Mocker, sleeps: list[float]
) -> None:
    search = requests_mock.get(
        _SEARCH,
        [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": {"total": 3}}],
    )

    assert JiraClient(_CONFIG).get("/rest/api/2/search")["total"] == 3

    assert search.call_count == 2
    assert [s for s in sleeps if s] == [8.0]  # Retry-After plus the CDK's extra second
    other_worker: list[float] = []
    thread = threading.Thread(target=lambda: other_worker.append(pause_for(SERVER_URL).remaining()))
    thread.start()
    thread.join()
    assert 0 < other_worker[0] <= 8


def test_a_pause_set_by_another_worker_holds_the_request(
    requests_mock: rm.Mocker, sleeps: list[float]
) -> None:
    requests_mock.get(_SEARCH, json={"total": 0})
    thread = threading.Thread(target=pause_for(SERVER_URL).extend, args=(30,))
    thread.start()
    thread.join()

    JiraClient(_CONFIG).get("/rest/api/2/search")

    assert len(sleeps) == 1
    assert 29 < sleeps[0] <= 30


def test_a_config_error_fails_at_once_and_stops_the_run(requests_mock: rm.Mocker) -> None:
    search = requests_mock.get(_SEARCH, status_code=401, text="Unauthorized")
    client = JiraClient({**_CONFIG, RUN_ID: "run-401"})

    with pytest.raises(JiraError) as raised:
        client.get("/rest/api/2/search")

    assert raised.value.failure_type == FailureType.config_error
    assert raised.value.status == 401
    assert "Jira rejected the credentials" in (raised.value.message or "")
    assert SECRET not in str(raised.value.message) + str(raised.value.internal_message)
    assert config_failure_for("run-401").message is not None
    with pytest.raises(JiraError):
        client.get("/rest/api/2/search")
    assert search.call_count == 1


def test_an_unreachable_site_fails_at_once(requests_mock: rm.Mocker) -> None:
    search = requests_mock.get(_SEARCH, exc=requests.ConnectionError("refused"))

    with pytest.raises(JiraError) as raised:
        JiraClient(_CONFIG).get("/rest/api/2/search")

    assert search.call_count == 1
    assert raised.value.status is None
    assert raised.value.failure_type == FailureType.transient_error
    assert f"Cannot reach Jira at {SERVER_URL} (ConnectionError)" in (raised.value.message or "")


def test_jiras_own_messages_come_with_the_error(requests_mock: rm.Mocker) -> None:
    body: dict[str, Any] = {"errorMessages": ["Bad JQL."], "errors": {"jql": "Field x?"}}
    requests_mock.get(_SEARCH, status_code=400, json=body)

    with pytest.raises(JiraError) as raised:
        JiraClient(_CONFIG, stops_run=False).get("/rest/api/2/search")

    assert raised.value.jira_messages == ["Bad JQL.", "Field x?"]
    assert config_failure_for("run-1").message is None


def test_an_anonymous_request_sends_no_credentials_and_stops_nothing(
    requests_mock: rm.Mocker,
) -> None:
    info = requests_mock.get(f"{SERVER_URL}/rest/api/2/serverInfo", status_code=404, text="<html>")

    with pytest.raises(JiraError) as raised:
        JiraClient(_CONFIG, anonymous=True).get("/rest/api/2/serverInfo")

    assert raised.value.status == 404
    assert "Authorization" not in info.last_request.headers
    assert config_failure_for("run-1").message is None


def test_a_client_builds_its_requester_once_per_method(
    requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests_mock.get(_SEARCH, json={"issues": []})
    requests_mock.post(f"{SERVER_URL}/rest/api/2/jql/parse", json={"queries": []})
    built: list[str] = []
    build = jira_client.build_component

    def counted(*args: Any, **kwargs: Any) -> Any:
        built.append(args[1]["http_method"])
        return build(*args, **kwargs)

    monkeypatch.setattr(jira_client, "build_component", counted)
    client = JiraClient(_CONFIG)
    for _ in range(3):
        client.get("/rest/api/2/search")
        client.post("/rest/api/2/jql/parse", {"queries": []})

    assert built == ["GET", "POST"]


def test_threads_sharing_a_client_each_get_their_own_failed_answer(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.get(f"{_SEARCH}?jql=bad", status_code=400, json={"errorMessages": ["Bad JQL."]})
    requests_mock.get(f"{_SEARCH}?jql=good", json={"issues": []})
    client = JiraClient(_CONFIG, stops_run=False)
    client.get("/rest/api/2/search", {"jql": "good"})  # the requester exists before the threads
    failures: list[JiraError] = []

    def ask(jql: str) -> None:
        try:
            for _ in range(20):
                client.get("/rest/api/2/search", {"jql": jql})
        except JiraError as error:
            failures.append(error)

    threads = [threading.Thread(target=ask, args=(jql,)) for jql in ("bad", "good", "good")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [(f.status, f.jira_messages) for f in failures] == [(400, ["Bad JQL."])]
