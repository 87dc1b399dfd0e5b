from datetime import UTC, datetime, timedelta

import pytest
import requests

from source_jira_port.components import RateLimitResetBackoff


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
