"""The `worklogs` stream's Python: Jira's worklog change lists joined into records.

Jira lists what changed, not the worklogs themselves (REST v3 on Cloud, v2 on Server / Data
Center since Jira 7.0): `GET worklog/updated?since=<ms>` and `GET worklog/deleted?since=<ms>`
page through `{worklogId, updatedTime}`, 1000 a page, oldest first, leaving out the minute
before the request; `POST worklog/list` answers the bodies of at most 1000 ids. The manifest
defines each of those requests (and the issue-key search); `WorklogRetriever` only joins them:

1. each page of updated ids is one `worklog/list` call;
2. the issues of the worklogs whose key is not known yet are looked up by one id-only search
   per 100 issues, `project in (<projects>) AND (id = a OR id = b ...)`, which also leaves out
   the worklogs of issues outside the `projects` option; each record gets `__issueKey` (Port's
   worklog mapping relates `.__issueKey` to the issue) and `updatedTime`, the cursor, from the
   change list;
3. then the deleted ids become deletion records (`cdc.py`).

The cursor is Jira's own `updatedTime` of the newest worklog emitted, never the local clock, so
a clock that runs ahead of Jira's cannot skip a change. `since` is inclusive, so the next sync
reads the worklogs of that millisecond again (duplicates by `id`, never losses). Deletions are
read after the updated list and from the same cursor; a deletion record carries as
`updatedTime` its deletion time, but never more than the newest update emitted, so the cursor
never passes a deletion the next sync would then miss.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import InitVar, dataclass
from datetime import UTC, datetime
from typing import Any

from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.cdc import DELETED_AT, UPDATED_AT
from source_jira_port.cdk_compat import failed_with_status

CURSOR = "updatedTime"
ISSUE_KEY = "__issueKey"
# Ids per issue search: 100 ids keep the GET's JQL under 2 KB (Jira documents no limit; the
# servers and proxies in front of it limit a request line to 8 KB or so).
ISSUE_CHUNK = 100
# Ids per `worklog/list` call: "The returned list of worklogs is limited to 1000 items".
LIST_LIMIT = 1000

logger = logging.getLogger("airbyte")


@dataclass
class WorklogRetriever(Retriever):
    """Reads the worklogs changed since the slice's `start` and those deleted since then.

    `updated` and `deleted` page through Jira's change lists (their records are
    `{worklogId, updatedTime}`); `bodies` answers the worklogs of the slice's `ids`; `issues`
    answers `{id, key}` of the issues in scope among the slice's `ids`. Each is a manifest
    retriever. Jira answers an id query with 400 when one id is gone (an issue deleted since its
    worklog was listed): such a query is split in halves until that id stands alone, and its
    worklogs are left out.
    """

    updated: Retriever
    deleted: Retriever
    bodies: Retriever
    issues: Retriever
    parameters: InitVar[Mapping[str, Any] | None] = None

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        """Yield the changed worklogs in scope, then a deletion record per deleted worklog."""
        start = int(stream_slice["start"] or 0) if stream_slice is not None else 0
        cursor = start
        keys: dict[str, str | None] = {}
        for page in _pages(self.updated.read_records(records_schema, stream_slice)):
            for record in self._worklogs(records_schema, page, keys):
                cursor = max(cursor, record[CURSOR])
                yield record
        now = datetime.now(UTC).isoformat()
        for change in self.deleted.read_records(records_schema, stream_slice):
            if not isinstance(change, Mapping):
                yield change
                continue
            deleted_at = datetime.fromtimestamp(change[CURSOR] / 1000, UTC).isoformat()
            yield {
                "id": str(change["worklogId"]),
                CURSOR: min(change[CURSOR], cursor),
                DELETED_AT: deleted_at,
                UPDATED_AT: now,
            }

    def _worklogs(
        self,
        records_schema: Mapping[str, Any],
        page: list[Mapping[str, Any]],
        keys: dict[str, str | None],
    ) -> Iterator[dict[str, Any]]:
        changed = {str(change["worklogId"]): change[CURSOR] for change in page}
        ids = [int(worklog_id) for worklog_id in changed]
        bodies = [
            body
            for body in self.bodies.read_records(
                records_schema, StreamSlice(partition={"ids": ids}, cursor_slice={})
            )
            if isinstance(body, Mapping)
        ]
        unknown = sorted({str(body["issueId"]) for body in bodies} - keys.keys())
        keys.update(self._issue_keys(records_schema, unknown))
        left_out = 0
        for body in bodies:
            key = keys.get(str(body["issueId"]))
            if key is None:
                left_out += 1
                continue
            yield {**body, ISSUE_KEY: key, CURSOR: changed[str(body["id"])]}
        if left_out:
            logger.debug("%d worklogs left out: their issues are outside 'projects'", left_out)

    def _issue_keys(
        self, records_schema: Mapping[str, Any], ids: list[str]
    ) -> dict[str, str | None]:
        keys: dict[str, str | None] = dict.fromkeys(ids)
        chunks = [ids[i : i + ISSUE_CHUNK] for i in range(0, len(ids), ISSUE_CHUNK)]
        while chunks:
            chunk = chunks.pop()
            issue_slice = StreamSlice(partition={"ids": chunk}, cursor_slice={})
            try:
                found = list(self.issues.read_records(records_schema, issue_slice))
            except AirbyteTracedException as error:
                if not failed_with_status(error, 400):
                    raise
                if len(chunk) > 1:
                    chunks += (chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :])
                else:
                    logger.info("Issue %s is gone: its worklogs are left out", chunk[0])
                continue
            keys.update(
                (str(issue["id"]), issue.get("key"))
                for issue in found
                if isinstance(issue, Mapping)
            )
        return keys


def _pages(changes: Iterable[StreamData]) -> Iterator[list[Mapping[str, Any]]]:
    """Group the change list's records by `LIST_LIMIT`, what one `worklog/list` call takes."""
    page: list[Mapping[str, Any]] = []
    for change in changes:
        if isinstance(change, Mapping):
            page.append(change)
            if len(page) == LIST_LIMIT:
                yield page
                page = []
    if page:
        yield page
