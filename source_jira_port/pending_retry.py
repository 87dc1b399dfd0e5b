"""Issues the destination skipped in an earlier sync, read again by id.

The Port writer keeps the ids of the issues it skipped (`on_invalid_record: skip`) in the issues
stream state, under `pending_retry` (source_jira_port/port/skipped.py). The source takes them out
before the CDK sees the state and, before the first issues STATE of the next incremental sync,
reads those issues again by id (`id = a OR id = b …` within the sync's projects and JQL, through the
manifest's `<deployment>_issues_by_id_stream`) and emits them as `issues` records. The ids then
leave the source's hands: the writer puts back those it skips again. An issue Jira no longer
returns (deleted, or now outside the projects or JQL) is dropped; the deletion sweep removes a
deleted one from Port.

Cost: one search request per 100 pending ids. Jira answers 400 for the whole query when one of
its ids no longer exists (Jira's JQL validator: "A value with ID '…' does not exist for the
field 'id'", also for an issue the user may no longer see), so such a query is split in halves
until the missing ids stand alone: about 2 log2(100) more requests per missing id.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateMessage,
    AirbyteStateStats,
    Type,
)
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.cdk_compat import failed_with_status
from source_jira_port.definition_reader import read_definition
from source_jira_port.issues_state import issues_blob, take_from_issues_state
from source_jira_port.state_keys import PENDING_RETRY
from source_jira_port.stream_names import ISSUES

# Jira's search answers at most 100 issues a page with all fields; one query a page.
CHUNK_SIZE = 100
# Cloud's `reconcileIssues` takes at most 50 ids (the manifest's by-id definition sends it).
RECONCILE_LIMIT = 50

ReadByIds = Callable[[Sequence[str]], Iterator[Mapping[str, Any]]]


def take_pending_ids(
    state: list[AirbyteStateMessage] | None,
) -> tuple[list[AirbyteStateMessage] | None, list[str]]:
    """Take the pending ids out of the incoming state; the CDK gets the rest.

    Ids that are not Jira issue ids (digits) are dropped with a warning: they go into JQL.
    """
    cleaned, value = take_from_issues_state(state, PENDING_RETRY)
    entries = [str(i) for i in value] if isinstance(value, list) else []
    ids = [i for i in entries if i.isdigit()]
    if value is not None and (len(ids) != len(entries) or not isinstance(value, list)):
        logging.getLogger("airbyte").warning(
            "Ignoring what the saved %s state holds besides issue ids", PENDING_RETRY
        )
    return cleaned, ids


def read_issues_by_id(
    manifest: Mapping[str, Any],
    config: Mapping[str, Any],
    ids: Sequence[str],
    *,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Mapping[str, Any]]:
    """Yield the issues records of `ids` that Jira has in the sync's scope, `chunk_size` a query.

    On Cloud, a query of at most `RECONCILE_LIMIT` ids reads them with strong consistency.

    A query Jira refuses with 400 (an id it no longer has) is split in halves; an id refused on
    its own is left out. Other errors are raised (`AirbyteTracedException`).
    """
    name = f"{config['resolved_deployment']}_issues_by_id_stream"
    chunks = collections.deque(ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size))
    while chunks:
        chunk = chunks.popleft()
        try:
            records = list(read_definition(manifest, {**config, "_ids": chunk}, name))
        except AirbyteTracedException as error:
            if not failed_with_status(error, 400):
                raise
            if len(chunk) > 1:
                half = len(chunk) // 2
                chunks.extendleft((chunk[half:], chunk[:half]))
            continue
        yield from records


def with_pending_issues(
    messages: Iterable[AirbyteMessage],
    ids: Sequence[str],
    read: ReadByIds,
    logger: logging.Logger,
) -> Iterator[AirbyteMessage]:
    """Yield `messages`, with the issues of `ids` read again just before the first issues STATE.

    The STATE's record count includes them.
    """
    pending = list(ids)
    for message in messages:
        if pending and message.type == Type.STATE and issues_blob(message.state) is not None:
            assert message.state is not None
            found = 0
            for data in read(pending):
                found += 1
                record = AirbyteRecordMessage(
                    stream=ISSUES, data=dict(data), emitted_at=int(time.time() * 1000)
                )
                yield AirbyteMessage(type=Type.RECORD, record=record)
            logger.info(
                "Read again %d of the %d issues the destination skipped before; %d are deleted "
                "or out of scope",
                found,
                len(pending),
                len(pending) - found,
            )
            pending = []
            yield AirbyteMessage(type=Type.STATE, state=_counting(message.state, found))
        else:
            yield message


def _counting(state: AirbyteStateMessage, extra: int) -> AirbyteStateMessage:
    counted = state.sourceStats.recordCount if state.sourceStats else None
    return dataclasses.replace(
        state, sourceStats=AirbyteStateStats(recordCount=(counted or 0) + extra)
    )
