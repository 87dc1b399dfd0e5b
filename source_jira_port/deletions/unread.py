"""The parts of a listed stream a read skipped: their records must not be taken for deleted.

A stream read per project (releases, components) skips a project whose part Jira will not
show (`project_parts.ProjectPartErrorHandler`). Its complete read then lacks that project's
records although they still exist, so the deletion tracker keeps them known instead of
deleting them. Runs are told apart by the config's run id, as `rate_limit.config_failure_for`
does: the next run reads every project again.
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()
# run id -> stream -> the scopes (project keys) it skipped; one small entry per source built.
_UNREAD: dict[str, dict[str, set[str]]] = {}


def mark_unread(run: str | None, stream: str, scope: str) -> None:
    """Record that the run `run` did not read `scope` (a project key) of `stream`."""
    if not run:
        return
    with _LOCK:
        _UNREAD.setdefault(run, {}).setdefault(stream, set()).add(scope)


def unread_scopes(run: str | None, stream: str) -> frozenset[str]:
    """Return the scopes of `stream` the run `run` skipped so far."""
    with _LOCK:
        return frozenset(_UNREAD.get(run or "", {}).get(stream, ()))
