"""One rate-limit pause per Jira site, shared by every stream and worker of the process.

Jira counts requests per site and account, not per stream or thread. When one worker is told
to back off (429, or 503 under load), every request to that site waits with it.
"""

from __future__ import annotations

import threading
import time


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
