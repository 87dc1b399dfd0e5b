"""InFlight: a bounded window of background jobs whose results are handled in submission order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Generic, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


class InFlight(Generic[Job, Result]):
    """Runs `work(job)` on `executor`, at most `limit` at once.

    `on_done(job, result)` runs in the submitting thread, oldest job first, when a slot is needed
    or on `drain()`; a job's exception is raised there. The caller keeps going (mapping the next
    records, say) while up to `limit` jobs run.
    """

    def __init__(
        self,
        executor: Executor,
        limit: int,
        work: Callable[[Job], Result],
        on_done: Callable[[Job, Result], None],
    ) -> None:
        self._executor = executor
        self._limit = limit
        self._work = work
        self._on_done = on_done
        self._running: deque[tuple[Job, Future[Result]]] = deque()

    def submit(self, job: Job) -> None:
        """Start `job`, first settling the oldest jobs while the window is full."""
        while len(self._running) >= self._limit:
            self._settle_oldest()
        self._running.append((job, self._executor.submit(self._work, job)))

    def drain(self) -> None:
        """Wait for every running job and handle its result."""
        while self._running:
            self._settle_oldest()

    def _settle_oldest(self) -> None:
        job, future = self._running.popleft()
        self._on_done(job, future.result())
