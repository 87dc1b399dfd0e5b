"""Backlog items are known per (board, issue): leaving a board's backlog deletes that pair only."""

from __future__ import annotations

import logging

from airbyte_cdk.models import AirbyteMessage, AirbyteStreamStatus, Type

from integration_tests.support.messages import record, state, state_value, status
from source_jira_port.cdc import DELETED_AT
from source_jira_port.deletions.known import KnownSet
from source_jira_port.deletions.listed import key_values, record_id
from source_jira_port.deletions.tracker import STATE_KEY, DeletionTracker

KEY = ("__boardId", "id")


def _item(board: int, issue_id: str, key: str) -> AirbyteMessage:
    return record("backlog", {"__boardId": board, "id": issue_id, "key": key, "fields": {}})


def _sync(messages: list[AirbyteMessage], known: KnownSet | None) -> list[AirbyteMessage]:
    tracker = DeletionTracker(
        known,
        every=1,
        sweep=lambda: {},
        id_fields={"backlog": KEY},
        logger=logging.getLogger("test"),
    )
    return list(tracker.track([*messages, state("issues", {"updated": "t"})]))


def _deletions(output: list[AirbyteMessage]) -> list[dict[str, object]]:
    return [
        {k: v for k, v in m.record.data.items() if not k.startswith("_ab_cdc")}
        for m in output
        if m.record is not None and m.record.stream == "backlog" and m.record.data.get(DELETED_AT)
    ]


def _known(output: list[AirbyteMessage]) -> dict[str, str]:
    [*_, last] = [m for m in output if m.type == Type.STATE]
    return KnownSet.from_state(state_value(last)[STATE_KEY]).listed["backlog"]


def test_a_composite_key_is_one_known_id_and_back() -> None:
    data = {"__boardId": 12, "id": "10001"}

    assert record_id(data, KEY) == "12:10001"
    assert key_values("12:10001", KEY) == {"__boardId": "12", "id": "10001"}
    assert key_values("557058:f1b2", ("accountId",)) == {"accountId": "557058:f1b2"}


def test_an_issue_gone_from_one_boards_backlog_is_deleted_from_that_board_only() -> None:
    first = _sync(
        [
            _item(1, "10001", "A-1"),
            _item(2, "10001", "A-1"),  # the same issue on a second board's backlog
            _item(1, "10002", "A-2"),
            status("backlog", AirbyteStreamStatus.COMPLETE),
        ],
        None,
    )
    known = KnownSet(listed={"backlog": _known(first)})

    second = _sync(
        [
            _item(2, "10001", "A-1"),
            _item(1, "10002", "A-2"),
            status("backlog", AirbyteStreamStatus.COMPLETE),
        ],
        known,
    )

    assert _deletions(first) == []
    assert _deletions(second) == [{"__boardId": "1", "id": "10001", "key": "A-1"}]
    assert _known(second) == {"2:10001": "A-1", "1:10002": "A-2"}


def test_an_incomplete_backlog_read_deletes_nothing() -> None:
    known = KnownSet(listed={"backlog": {"1:10001": "A-1", "2:10002": "A-2"}})

    output = _sync(
        [_item(1, "10001", "A-1"), status("backlog", AirbyteStreamStatus.INCOMPLETE)], known
    )

    assert _deletions(output) == []
