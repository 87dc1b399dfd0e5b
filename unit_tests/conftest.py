"""Fixtures of every unit test: no rate-limit pause carried over, backoff waits recorded."""

from __future__ import annotations

import time

import pytest

from source_jira_port import rate_limit


@pytest.fixture(autouse=True)
def _own_rate_limit_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no site paused: the tests share site URLs, not their 429s."""
    monkeypatch.setattr(rate_limit, "_PAUSES", {})


@pytest.fixture
def backoff_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record backoff waits (0.5 s or more) instead of sleeping; shorter sleeps are real polling."""
    waits: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if seconds >= 0.5:
            waits.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return waits
