"""What every stream and worker of a run shares about its Jira site: pauses and a stop.

Jira counts requests per site and account, not per stream or thread. When one worker is told
to back off (429, or 503 under load), every request to that site waits with it. When one worker
gets an answer that proves the config wrong (a rejected password, a bad JQL), no other request
of the run is sent: on Server and Data Center, repeated failed logins lock the account.
"""

from __future__ import annotations

import threading
import time

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException


class RateLimitPause:
    """When the workers sending to one Jira site may send again after it said 429 (or 503).

    The CDK backs off in the thread that got the 429 only. The backoff computed there is
    recorded here (`extend`), and every other thread waits it out before its next request
    (`wait`). The thread that set the pause sleeps its own backoff in the CDK, so it does not
    wait twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0
        self._owner: int | None = None

    def extend(self, seconds: float) -> None:
        """Hold the other threads for `seconds` from now (a later pause already set stays)."""
        with self._lock:
            until = time.monotonic() + seconds
            if until > self._until:
                self._until, self._owner = until, threading.get_ident()

    def remaining(self) -> float:
        """Seconds until the pause ends for the calling thread (0 when it has none)."""
        with self._lock:
            if self._owner == threading.get_ident():
                return 0.0
            return max(0.0, self._until - time.monotonic())

    def wait(self) -> None:
        """Sleep until the pause ends, unless the calling thread set it."""
        delay = self.remaining()
        if delay > 0:
            time.sleep(delay)


_PAUSES: dict[str, RateLimitPause] = {}
_PAUSES_LOCK = threading.Lock()


def pause_for(site: str) -> RateLimitPause:
    """Return the pause of the Jira site at `site` (its API base URL), made on first use."""
    with _PAUSES_LOCK:
        return _PAUSES.setdefault(site.rstrip("/"), RateLimitPause())


class ConfigFailure:
    """The first config error of a run; once it is set, no request of the run leaves.

    The concurrent CDK keeps reading every other window after one fails, so without this a
    wrong password costs one failing request per window (about 330 back to 2000).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._message: str | None = None

    def set(self, message: str) -> None:
        """Record the config error `message` (the first one recorded stays)."""
        with self._lock:
            if self._message is None:
                self._message = message

    @property
    def message(self) -> str | None:
        """The recorded error's message, or None while there is none."""
        with self._lock:
            return self._message

    def raise_if_set(self) -> None:
        """Raise the recorded error as a `config_error`, so the request is never sent."""
        message = self.message
        if message is not None:
            raise AirbyteTracedException(
                message=message,
                internal_message=f"Not sent after an earlier config error: {message}",
                failure_type=FailureType.config_error,
            )


# The config key that tells one run (one source) from another: requests of a run stop together.
RUN_ID = "_run_id"
# One small entry per source built; a process builds one source per sync.
_FAILURES: dict[str, ConfigFailure] = {}


def config_failure_for(run: str | None) -> ConfigFailure:
    """Return the config failure of the run `run` (the config's `_run_id`), made on first use.

    Runs are told apart, not sites: a fixed password must work in the next run of a process.
    Without a run id (a component built outside a source), the failure is the caller's own.
    """
    if not run:
        return ConfigFailure()
    with _PAUSES_LOCK:
        return _FAILURES.setdefault(run, ConfigFailure())
