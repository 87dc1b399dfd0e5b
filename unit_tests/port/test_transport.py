from __future__ import annotations

import pytest
import requests
import requests_mock as rm

from source_jira_port.port.transport import (
    PortApiError,
    RetryingTransport,
    detail_text,
    error_text,
)

_BASE = "https://port.test"
_URL = f"{_BASE}/v1/blueprints/jiraIssue/entities/bulk"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _transport(sleeps: Sleeps, now: float = 1_000_000.0) -> RetryingTransport:
    return RetryingTransport(_BASE, max_attempts=4, sleep=sleeps, clock=lambda: now)


def _send(transport: RetryingTransport) -> requests.Response:
    return transport.send("POST", "/v1/blueprints/jiraIssue/entities/bulk", body={"entities": []})


def test_429_waits_retry_after_then_succeeds(requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        _URL, [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": {"ok": True}}]
    )
    sleeps = Sleeps()

    assert _send(_transport(sleeps)).status_code == 200
    assert sleeps == [7.0]


def test_429_waits_until_x_ratelimit_reset_epoch(requests_mock: rm.Mocker) -> None:
    headers = {"x-ratelimit-reset": str(1_000_000 + 12)}
    requests_mock.post(_URL, [{"status_code": 429, "headers": headers}, {"json": {"ok": True}}])
    sleeps = Sleeps()

    _send(_transport(sleeps, now=1_000_000.0))

    assert sleeps == [12.0]


def test_5xx_backs_off_exponentially_then_succeeds(requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        _URL,
        [{"status_code": 502}, {"status_code": 503}, {"status_code": 500}, {"json": {"ok": True}}],
    )
    sleeps = Sleeps()

    assert _send(_transport(sleeps)).status_code == 200
    assert sleeps == [0.5, 1.0, 2.0]


def test_attempts_are_bounded_and_the_last_error_is_returned(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_URL, status_code=503, headers={"Retry-After": "0"})
    sleeps = Sleeps()

    assert _send(_transport(sleeps)).status_code == 503
    assert requests_mock.call_count == 4
    assert sleeps == [0.0, 0.0, 0.0]


def test_4xx_is_not_retried(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_URL, status_code=422, json={"ok": False, "error": "invalid_request"})

    assert _send(_transport(Sleeps())).status_code == 422
    assert requests_mock.call_count == 1


def test_unreachable_port_raises_after_retries(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_URL, exc=requests.ConnectionError("refused"))
    sleeps = Sleeps()

    with pytest.raises(PortApiError, match=r"Cannot reach Port at https://port\.test"):
        _send(_transport(sleeps))
    assert len(sleeps) == 3


def test_body_is_compact_utf8_json(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_URL, json={"ok": True})

    _transport(Sleeps()).send("POST", "/v1/blueprints/jiraIssue/entities/bulk", body={"t": "é"})

    assert requests_mock.last_request.body == '{"t":"é"}'.encode()
    assert requests_mock.last_request.headers["Content-Type"] == "application/json"


def test_error_text_keeps_ports_schema_details(requests_mock: rm.Mocker) -> None:
    body = {
        "ok": False,
        "error": "entity_does_not_match_blueprint",
        "message": "The entity A-1 does not match the blueprint's schema",
        "details": {
            "errors": [
                {
                    "instancePath": "/properties/creator",
                    "keyword": "format",
                    "params": {"format": "user"},
                    "message": 'must match format "user"',
                },
                {"instancePath": "/relations", "keyword": "required", "message": "must have x"},
            ]
        },
    }
    requests_mock.post(_URL, status_code=422, json=body)

    assert error_text(_send(_transport(Sleeps()))) == (
        "entity_does_not_match_blueprint The entity A-1 does not match the blueprint's schema: "
        'property creator: must match format "user" [format]; entity: must have x [required]'
    )


@pytest.mark.parametrize(
    ("details", "text"),
    [(None, ""), ({}, ""), ({"limit": 20}, '{"limit":20}'), ({"errors": ["odd"]}, "")],
)
def test_details_other_than_schema_errors_are_shown_as_json(details: object, text: str) -> None:
    assert detail_text(details) == text
