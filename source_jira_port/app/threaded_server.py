"""Background: a server run from a thread with `start()`/`stop()`, or as a context manager."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Background:
    """Base of the servers run in a background thread (the fakes, the webhook receiver)."""

    def start(self) -> Self:
        """Start serving in a background thread; return once requests are accepted."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving and release what `start` took."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
