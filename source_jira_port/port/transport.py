"""HTTP transport to Port: sends JSON and retries connection errors, 429 and 5xx."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

_TIMEOUT = (10.0, 120.0)
_BACKOFF_BASE_SECONDS = 0.5
_MAX_WAIT_SECONDS = 120.0
# x-ratelimit-reset is documented as epoch seconds; small values are read as a delay, like ocean.
_EPOCH_THRESHOLD = 10_000

logger = logging.getLogger("airbyte")


class PortApiError(Exception):
    """Port answered an error, or could not be reached, after retries."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def is_transient(status: int | None) -> bool:
    """Whether a failure may pass by itself: Port unreachable (None), 429 or 5xx.

    The transport retries these; a failure that outlasts its retries is reported as transient.
    """
    return status is None or status == 429 or status >= 500


def encode_json(body: Any) -> bytes:
    """Encode a request body (compact UTF-8 JSON); also used to size batches."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def error_text(response: requests.Response) -> str:
    """Summarize Port's error body (`error`, `message` and `details`) for a log or exception."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(payload, dict):
        text = f"{payload.get('error', '')} {payload.get('message', '')}".strip()
        details = detail_text(payload.get("details"))
        return f"{text}: {details}" if details else text
    return str(payload)[:200]


def detail_text(details: Any) -> str:
    """Port's `details` as readable clauses: `property assignee: must match format "user"`.

    Schema errors come as JSON Schema (ajv) errors, `{instancePath, keyword, params, message}`;
    other details are shown as compact JSON. Empty when there are none.
    """
    if not details:
        return ""
    errors = details.get("errors") if isinstance(details, dict) else None
    if not isinstance(errors, list):
        return encode_json(details).decode()[:500]
    clauses = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        parts = [part for part in str(error.get("instancePath", "")).split("/") if part]
        # `/properties` alone is the entity's (a required property missing), not one property.
        where = " ".join(_PATH_WORDS.get(part, part) for part in parts) if len(parts) > 1 else ""
        rule = f" [{error['keyword']}]" if error.get("keyword") else ""
        clauses.append(f"{where or 'entity'}: {error.get('message', '')}{rule}")
    return "; ".join(clauses)


_PATH_WORDS = {"properties": "property", "relations": "relation"}


class RetryingTransport:
    """Sends requests to one base URL with bounded retries.

    Waits `Retry-After`, else `x-ratelimit-reset`, else exponential backoff. `sleep` and `clock`
    are injectable so tests never wait.
    """

    def __init__(
        self,
        base_url: str,
        *,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._session = requests.Session()

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send; retry transient failures; return the last response (which may be an error)."""
        data = None if body is None else encode_json(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self._max_attempts
            try:
                response = self._session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    data=data,
                    headers=all_headers,
                    timeout=_TIMEOUT,
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                if last:
                    raise PortApiError(
                        f"Cannot reach Port at {self.base_url} ({type(error).__name__}). "
                        "Check port_base_url and the network."
                    ) from error
                wait, reason = _backoff(attempt), type(error).__name__
            else:
                if last or not is_transient(response.status_code):
                    return response
                wait, reason = self._retry_wait(response, attempt), f"HTTP {response.status_code}"
            logger.warning(
                "Port %s %s failed with %s (attempt %d/%d); retrying in %.1fs",
                method,
                path,
                reason,
                attempt,
                self._max_attempts,
                wait,
            )
            self._sleep(wait)

    def _retry_wait(self, response: requests.Response, attempt: int) -> float:
        retry_after = _number(response.headers.get("Retry-After"))
        if retry_after is not None:
            return min(max(retry_after, 0.0), _MAX_WAIT_SECONDS)
        reset = _number(response.headers.get("x-ratelimit-reset"))
        if reset is not None:
            delay = reset - self._clock() if reset > _EPOCH_THRESHOLD else reset
            return min(max(delay, 0.0), _MAX_WAIT_SECONDS)
        return _backoff(attempt)


def _backoff(attempt: int) -> float:
    return float(min(_BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), _MAX_WAIT_SECONDS))


def _number(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None
