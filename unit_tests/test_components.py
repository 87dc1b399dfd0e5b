import copy
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from airbyte_cdk.sources.declarative.auth.token import BasicHttpAuthenticator
from airbyte_cdk.sources.declarative.extractors.dpath_extractor import DpathExtractor
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategies import (
    WaitTimeFromHeaderBackoffStrategy,
)
from airbyte_cdk.sources.declarative.transformations.add_fields import (
    AddedFieldDefinition,
    AddFields,
)
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction

from source_jira_port.components import (
    FieldPathExtractor,
    IssueTopLevelFields,
    JiraErrorHandler,
    ProjectsOptionFilter,
    RateLimitGate,
    RateLimitResetBackoff,
    SharedJsonDecoder,
    response_json,
)

_SITE = "https://acme.atlassian.net"


def _response(status: int, headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    return response


def _strategy() -> RateLimitResetBackoff:
    return RateLimitResetBackoff(parameters={}, config={})


def test_waits_until_rate_limit_reset_on_429() -> None:
    reset = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%MZ")
    wait = _strategy().backoff_time(_response(429, {"X-RateLimit-Reset": reset}), 1)
    assert wait is not None
    assert 60 < wait <= 120


@pytest.mark.parametrize(
    ("status", "header"),
    [
        (429, {}),
        (429, {"X-RateLimit-Reset": "soon"}),
        (429, {"X-RateLimit-Reset": "2001-01-01T00:00Z"}),
        (500, {"X-RateLimit-Reset": "2999-01-01T00:00Z"}),
    ],
)
def test_defers_to_other_strategies_when_reset_is_unusable(
    status: int, header: dict[str, str]
) -> None:
    assert _strategy().backoff_time(_response(status, header), 1) is None


# --- one parse per page, extraction, top-level issue fields ------------------------------------


def _json_response(body: bytes, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = "application/json"
    return response


def _handler() -> JiraErrorHandler:
    return JiraErrorHandler(
        parameters={},
        config={"api_base": _SITE},
        backoff_strategies=[
            WaitTimeFromHeaderBackoffStrategy(header="Retry-After", parameters={}, config={})
        ],
    )


def test_error_handler_decoder_and_json_share_one_parse() -> None:
    response = _json_response(b'{"issues": [{"id": "1"}], "isLast": true}')
    assert _handler().interpret_response(response).response_action == ResponseAction.SUCCESS
    body = response_json(response)
    assert response.json() is body
    assert next(SharedJsonDecoder().decode(response)) is body


def test_a_body_that_is_not_json_keeps_requests_own_error() -> None:
    response = _json_response(b"<html>busy</html>", status=503)
    _handler().interpret_response(response)
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    assert list(SharedJsonDecoder().decode(response)) == [{}]


@pytest.mark.parametrize(
    ("body", "path", "records"),
    [
        (b'{"issues": [{"id": "1"}, {"id": "2"}]}', ["issues"], [{"id": "1"}, {"id": "2"}]),
        (b'{"issues": {"id": "1"}}', ["issues"], [{"id": "1"}]),
        (b'{"issues": {}}', ["issues"], []),
        (b'{"issues": null}', ["issues"], []),
        (b'{"other": []}', ["issues"], []),
        (b'{"a": {"b": [{"id": "1"}]}}', ["a", "b"], [{"id": "1"}]),
        (b'[{"id": "1"}, {"id": "2"}]', [], [{"id": "1"}, {"id": "2"}]),
        (b"", ["issues"], []),
    ],
)
def test_field_path_extractor_finds_what_dpath_does(
    body: bytes, path: list[str], records: list[dict[str, Any]]
) -> None:
    response = _json_response(body)
    dpath_records = list(
        DpathExtractor(field_path=path, config={}, parameters={}).extract_records(response)
    )
    ours = list(
        FieldPathExtractor(field_path=path, config={}, parameters={}).extract_records(response)
    )
    assert ours == dpath_records == records


@pytest.mark.parametrize(
    "fields",
    [
        {
            "updated": "2024-06-05T10:00:00.123+0200",
            "created": "2024-01-01T00:00:00.000+0000",
            "project": {"id": "10000", "key": "PROJ"},
        },
        {"updated": None, "created": "", "project": {"id": 10000, "key": " spaced "}},
        {"project": {}},
        {"project": None},
    ],
)
def test_issue_top_level_fields_match_the_add_fields_they_replace(fields: dict[str, Any]) -> None:
    add_fields = AddFields(
        fields=[
            AddedFieldDefinition(path=[name], value=template, value_type=str, parameters={})
            for name, template in (
                ("updated", "{{ record['fields']['updated'] }}"),
                ("created", "{{ record['fields']['created'] }}"),
                ("projectKey", "{{ record['fields']['project']['key'] }}"),
                ("projectId", "{{ record['fields']['project']['id'] }}"),
            )
        ],
        parameters={},
    )
    expected: dict[str, Any] = {"id": "1", "fields": copy.deepcopy(fields)}
    add_fields.transform(expected)
    ours: dict[str, Any] = {"id": "1", "fields": copy.deepcopy(fields)}
    IssueTopLevelFields(parameters={}).transform(ours)
    assert json.dumps(ours) == json.dumps(expected)  # same values in the same key order


# --- rate limits pause every request to the site ----------------------------------------------


def _other_worker(action: Any) -> None:
    worker = threading.Thread(target=action)
    worker.start()
    worker.join()


def _gate(site: str = _SITE) -> RateLimitGate:
    basic = BasicHttpAuthenticator(username="bot", password="token", config={}, parameters={})
    return RateLimitGate(authenticator=basic, config={"api_base": site}, parameters={})


def _request() -> requests.PreparedRequest:
    return requests.Request("GET", f"{_SITE}/rest/api/3/project/search").prepare()


def test_a_rate_limit_holds_every_other_request_to_the_site_until_it_ends(
    backoff_waits: list[float],
) -> None:
    handler = _handler()
    [strategy] = handler.backoff_strategies or []
    limited = _json_response(b"{}", status=429)
    limited.headers["Retry-After"] = "30"

    assert strategy.backoff_time(limited, 1) == 30  # what the CDK sleeps in this worker
    assert _gate()(_request()).headers["Authorization"].startswith("Basic ")
    assert backoff_waits == []  # this worker's own retry is not held twice

    sent: list[requests.PreparedRequest] = []
    _other_worker(lambda: sent.append(_gate()(_request())))
    assert len(backoff_waits) == 1
    assert 30 < backoff_waits[0] <= 31  # the CDK's wait, with the second it adds
    assert sent[0].headers["Authorization"].startswith("Basic ")

    _other_worker(lambda: _gate("https://other.atlassian.net")(_request()))
    assert len(backoff_waits) == 1  # another site's budget is its own


def test_server_errors_back_off_in_their_own_worker_only(backoff_waits: list[float]) -> None:
    handler = _handler()
    [strategy] = handler.backoff_strategies or []
    failed = _json_response(b"{}", status=500)
    failed.headers["Retry-After"] = "30"

    assert strategy.backoff_time(failed, 1) == 30
    _other_worker(lambda: _gate()(_request()))
    assert backoff_waits == []


def _boards_left(config: dict[str, Any], condition: str = "") -> list[int]:
    boards = [
        {"id": 1, "type": "scrum", "location": {"projectKey": "A"}},
        {"id": 2, "type": "kanban", "location": {"projectKey": "A"}},
        {"id": 3, "type": "scrum", "location": {"projectKey": "B"}},
        {"id": 4, "type": "scrum", "location": {"userAccountId": "u-1"}},
        {"id": 5, "type": "scrum"},
    ]
    kept = ProjectsOptionFilter(
        parameters={},
        config=config,
        condition=condition,
        project_key_path=["location", "projectKey"],
    ).filter_records(boards, stream_state={})
    return [board["id"] for board in kept]


def test_boards_are_kept_by_their_locations_project_and_the_condition() -> None:
    assert _boards_left({}) == [1, 2, 3, 4, 5]
    assert _boards_left({"projects": ["A"]}) == [1, 2]  # a user's board has no project
    assert _boards_left({"projects": ["A"]}, "{{ record.get('type') != 'kanban' }}") == [1]
    assert _boards_left({}, "{{ record.get('type') != 'kanban' }}") == [1, 3, 4, 5]
