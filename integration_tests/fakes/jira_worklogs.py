"""The fake Jira's worklogs and its three bulk worklog endpoints, as Atlassian documents them.

Routes (`jira_server.py` sends `GET worklog/updated`, `GET worklog/deleted` and `POST worklog/list`
of REST v3 on Cloud and v2 on Server here, after authenticating the caller):

- `GET /rest/api/{3|2}/worklog/updated?since=<epoch ms>` (Cloud REST v3 "Get IDs of updated
  worklogs"; Server REST v2 `worklog/updated`, since Jira 7.0): "Returns a list of IDs and update
  timestamps for worklogs updated after a date and time. This resource is paginated, with a limit
  of 1000 worklogs per page. Each page lists worklogs from oldest to youngest. If the number of
  items in the date range exceeds 1000, `until` indicates the timestamp of the youngest item on
  the page. Also, `nextPage` provides the URL for the next page of worklogs. The `lastPage`
  parameter is set to true on the last page of worklogs. This resource does not return worklogs
  updated during the minute preceding the request." Answer `{values: [{worklogId, updatedTime,
  properties}], since, until, self, nextPage, lastPage}`. Docs example: `since` is inclusive (a
  page asked `since=1438013671562` starts with a worklog of that `updatedTime`) and `nextPage` is
  `?since=<until>`, so the next page repeats the worklogs of that millisecond. Docs silent on
  `until` of an empty page: the fake answers `since` (no claim past what it returned). Only
  worklogs the caller may see are listed ("worklogs are only returned where either of the
  following is true: the worklog is set as Viewable by All Users; the user is a member of a
  project role or group with permission to view the worklog"). A `since` that is not a number:
  400 (docs silent; the strictest choice).
- `GET /rest/api/{3|2}/worklog/deleted?since=<epoch ms>` ("Get IDs of deleted worklogs"): the same
  page shape and rules, for deletions; `updatedTime` is the deletion time. Docs name no visibility
  rule here: every deletion is listed (the fake cannot tell what the caller could see before).
- `POST /rest/api/{3|2}/worklog/list` `{"ids": [...]}` ("Get worklogs"): "Returns worklog details
  for a list of worklog IDs. The returned list of worklogs is limited to 1000 items"; "400:
  Returned if the request contains more than 1000 worklog IDs or is empty". Ids of deleted
  worklogs and of worklogs the caller may not see are left out silently. The order of the answer
  is not documented: the fake answers newest id first, not in the order asked.

A worklog, as Jira renders it (Cloud REST v3 `Worklog`): `self, author, updateAuthor, comment`
(Atlassian Document Format on v3, wiki text on v2), `created, updated, started, timeSpent,
timeSpentSeconds, id, issueId` (ids as strings), and `visibility` when restricted.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from integration_tests.fakes.jira_data import Dataset, Renderer, User

PAGE_LIMIT = 1000  # "a limit of 1000 worklogs per page"
LIST_LIMIT = 1000  # "limited to 1000 items"; more ids, or none: 400
RECENT_MS = 60_000  # "does not return worklogs updated during the minute preceding the request"
HIDDEN_GROUP = "jira-administrators"  # restricted worklogs: a group the fake's bot is not in
_TOO_MANY = "The number of worklog ids must be between 1 and 1000."
_FIRST_ID = 100_000


@dataclasses.dataclass(slots=True)
class Worklog:
    """One worklog on an issue, in neutral form (epoch ms; wiki comment)."""

    id: int
    issue_id: int
    author: User
    update_author: User
    comment: str
    started: int
    time_spent_seconds: int
    created: int
    updated: int
    restricted: bool = False


def time_spent(seconds: int) -> str:
    """Jira's display of a duration with its default 5-day week and 8-hour day (`1w 2d 3h 4m`)."""
    parts = []
    for unit, size in (("w", 5 * 8 * 3600), ("d", 8 * 3600), ("h", 3600), ("m", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


class JiraWorklogs:
    """The worklogs of a fake site, their changes and deletions, and the three endpoints.

    `clock` gives the time in epoch ms (the one-minute rule reads it). Not thread-safe by
    itself: the fake Jira calls `handle` and the change methods under its lock.
    """

    def __init__(
        self,
        dataset: Dataset,
        worklogs: list[Worklog],
        clock: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.dataset = dataset
        self.worklogs = {w.id: w for w in worklogs}
        self.deleted: dict[int, int] = {}  # worklog id -> when it was deleted (epoch ms)
        self.clock = clock
        self._next_id = max(self.worklogs, default=_FIRST_ID - 1) + 1

    # changes -----------------------------------------------------------------------------

    def add(
        self,
        issue_key: str,
        *,
        at_ms: int,
        author: User | None = None,
        seconds: int = 3600,
        comment: str = "Worked on it",
        restricted: bool = False,
    ) -> Worklog:
        """Log work on an issue, created and updated at `at_ms`."""
        issue = self.dataset.issue(issue_key)
        if issue is None:
            raise KeyError(issue_key)
        who = author or self.dataset.bot
        worklog = Worklog(
            self._next_id, issue.id, who, who, comment, at_ms, seconds, at_ms, at_ms, restricted
        )
        self._next_id += 1
        self.worklogs[worklog.id] = worklog
        return worklog

    def update(self, worklog_id: int, *, at_ms: int, seconds: int | None = None) -> Worklog:
        """Change a worklog's time spent (or just touch it) at `at_ms`."""
        worklog = self.worklogs[worklog_id]
        if seconds is not None:
            worklog.time_spent_seconds = seconds
        worklog.updated = at_ms
        return worklog

    def delete(self, worklog_id: int, *, at_ms: int) -> None:
        """Delete a worklog at `at_ms`: it leaves the lists and appears in `worklog/deleted`."""
        del self.worklogs[worklog_id]
        self.deleted[worklog_id] = at_ms

    def delete_issue(self, issue_id: int, *, at_ms: int) -> None:
        """Deleting an issue deletes its worklogs."""
        for worklog in [w for w in self.worklogs.values() if w.issue_id == issue_id]:
            self.delete(worklog.id, at_ms=at_ms)

    # serving -----------------------------------------------------------------------------

    def handle(
        self, action: str, params: Mapping[str, list[str]], body: Any, renderer: Renderer
    ) -> tuple[int, Any]:
        """Answer `GET worklog/updated`, `GET worklog/deleted`, `POST worklog/list`.

        Returns (status, JSON body); the fake Jira's routes pick the method.
        """
        if action == "list":
            return self._list(body, renderer)
        raw = (params.get("since") or ["0"])[-1]
        if not raw.lstrip("-").isdigit():
            return 400, {"errorMessages": [f"Invalid value '{raw}' for 'since'."], "errors": {}}
        since = int(raw)
        cutoff = self.clock() - RECENT_MS
        if action == "updated":
            changes = [(w.updated, w.id) for w in self.worklogs.values() if not w.restricted]
        else:
            changes = [(at, worklog_id) for worklog_id, at in self.deleted.items()]
        listed = sorted((at, i) for at, i in changes if since <= at <= cutoff)
        page = listed[:PAGE_LIMIT]
        until = page[-1][0] if page else since
        base = f"{renderer.api}/worklog/{action}"
        return 200, {
            "values": [{"worklogId": i, "updatedTime": at, "properties": []} for at, i in page],
            "since": since,
            "until": until,
            "self": f"{base}?{urlencode({'since': since})}",
            "nextPage": f"{base}?{urlencode({'since': until})}",
            "lastPage": len(listed) <= PAGE_LIMIT,
        }

    def _list(self, body: Any, renderer: Renderer) -> tuple[int, Any]:
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not 0 < len(ids) <= LIST_LIMIT:
            return 400, {"errorMessages": [_TOO_MANY], "errors": {}}
        wanted = {int(i) for i in ids if str(i).isdigit()}
        found = [
            self.worklogs[i]
            for i in sorted(wanted, reverse=True)
            if i in self.worklogs and not self.worklogs[i].restricted
        ]
        return 200, [self.render(w, renderer) for w in found]

    def render(self, worklog: Worklog, renderer: Renderer) -> dict[str, Any]:
        """A worklog as `worklog/list` and `issue/{key}/worklog` show it."""
        out: dict[str, Any] = {
            "self": f"{renderer.api}/issue/{worklog.issue_id}/worklog/{worklog.id}",
            "author": renderer.user(worklog.author),
            "updateAuthor": renderer.user(worklog.update_author),
            "comment": renderer.text(worklog.comment),
            "created": renderer.time(worklog.created),
            "updated": renderer.time(worklog.updated),
            "started": renderer.time(worklog.started),
            "timeSpent": time_spent(worklog.time_spent_seconds),
            "timeSpentSeconds": worklog.time_spent_seconds,
            "id": str(worklog.id),
            "issueId": str(worklog.issue_id),
        }
        if worklog.restricted:
            out["visibility"] = {"type": "group", "value": HIDDEN_GROUP}
        return out


def make_worklogs(dataset: Dataset, every: int = 3, per_issue: int = 2) -> list[Worklog]:
    """Return `per_issue` worklogs on every `every`-th issue, by the issue's people, in its life.

    Each worklog is logged between the issue's creation and its last update; one in eleven is
    restricted to a group the fake's bot is not in (so `worklog/updated` and `list` leave it out).
    """
    people = [u for u in dataset.users if u.on_server]
    worklogs = []
    next_id = _FIRST_ID
    for n, issue in enumerate(dataset.issues.values()):
        if n % every:
            continue
        for k in range(per_issue):
            assignee = issue.assignee
            author = assignee if assignee and assignee.on_server else people[(n + k) % len(people)]
            span = max(issue.updated - issue.created, per_issue)
            at = issue.created + span * (k + 1) // (per_issue + 1)
            seconds = 900 * (1 + (n + k) % 16)
            worklogs.append(
                Worklog(
                    next_id,
                    issue.id,
                    author,
                    author,
                    f"Work on {issue.key} #{k + 1}",
                    at - seconds * 1000,
                    seconds,
                    at,
                    at,
                    restricted=next_id % 11 == 0,
                )
            )
            next_id += 1
    return worklogs
