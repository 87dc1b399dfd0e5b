"""The agile streams' behaviours one at a time: paging, skips, one record per id, INCOMPLETE."""

from __future__ import annotations

from typing import Any

from airbyte_cdk.models import AirbyteStreamStatus

from integration_tests.support.configs import cloud_config, server_config
from integration_tests.support.messages import record, status
from integration_tests.support.reads import query, read_stream
from source_jira_port.agile import SkippedParts, agile_messages

_AGILE = "https://acme.atlassian.net/rest/agile/1.0"
_SERVER_AGILE = "https://jira.example.com/jira/rest/agile/1.0"


def _page(values: list[dict[str, Any]], start_at: int, last: bool) -> dict[str, Any]:
    return {"maxResults": 50, "startAt": start_at, "isLast": last, "values": values}


def _board(board_id: int, board_type: str = "scrum", project: str = "PROJ") -> dict[str, Any]:
    return {
        "id": board_id,
        "name": f"Board {board_id}",
        "type": board_type,
        "location": {"projectKey": project, "projectId": 10000},
    }


def test_boards_are_paged_by_what_jira_served_until_is_last(requests_mock: Any) -> None:
    pages = [
        _page([_board(n) for n in range(1, 31)], 0, False),  # Jira may serve fewer than asked
        _page([_board(n) for n in range(31, 41)], 30, True),
    ]
    listing = requests_mock.get(f"{_AGILE}/board", [{"json": page} for page in pages])

    output = read_stream(cloud_config(), "boards")

    assert [r.record.data["id"] for r in output.records] == list(range(1, 41))
    assert [query(r).get("startAt") for r in listing.request_history] == [None, ["30"]]
    assert {query(r)["maxResults"][0] for r in listing.request_history} == {"50"}


def test_boards_outside_the_projects_option_are_left_out(requests_mock: Any) -> None:
    user_board = {"id": 3, "name": "Mine", "type": "kanban", "location": {"userId": 1}}
    boards = [_board(1, project="PROJ"), _board(2, project="OTHER"), user_board]
    requests_mock.get(f"{_AGILE}/board", json=_page(boards, 0, True))

    output = read_stream(cloud_config(projects=["PROJ"]), "boards")

    assert [r.record.data["id"] for r in output.records] == [1]


def test_sprints_skip_kanban_boards_and_a_board_that_has_none(requests_mock: Any) -> None:
    boards = [_board(1), _board(2, "kanban"), _board(3, "simple")]
    requests_mock.get(f"{_SERVER_AGILE}/board", json=_page(boards, 0, True))
    sprint = {"id": 7, "state": "active", "name": "S", "originBoardId": 1}
    requests_mock.get(f"{_SERVER_AGILE}/board/1/sprint", json=_page([sprint], 0, True))
    no_sprints = {"errorMessages": ["The board does not support sprints"], "errors": {}}
    simple = requests_mock.get(f"{_SERVER_AGILE}/board/3/sprint", status_code=400, json=no_sprints)
    kanban = requests_mock.get(f"{_SERVER_AGILE}/board/2/sprint", json=_page([], 0, True))

    output = read_stream(server_config(), "sprints")

    assert [r.record.data["id"] for r in output.records] == [7]
    assert simple.call_count == 1 and kanban.call_count == 0
    assert output.get_stream_statuses("sprints")[-1] == AirbyteStreamStatus.COMPLETE


def test_a_board_the_user_may_not_read_makes_the_stream_incomplete(requests_mock: Any) -> None:
    requests_mock.get(f"{_AGILE}/board", json=_page([_board(1), _board(2)], 0, True))
    epic = {"id": 100, "key": "PROJ-1", "name": "E", "summary": "E", "done": False}
    requests_mock.get(f"{_AGILE}/board/1/epic", json=_page([epic], 0, True))
    forbidden = {"errorMessages": ["You don't have permission to view this board."]}
    requests_mock.get(f"{_AGILE}/board/2/epic", status_code=403, json=forbidden)

    output = read_stream(cloud_config(), "epics")

    assert [r.record.data for r in output.records] == [{**epic, "__boardId": "1"}]
    skips = [m.log.message for m in output.logs if "board 2 is skipped" in m.log.message]
    assert len(skips) == 1 and "HTTP 403" in skips[0]
    assert output.get_stream_statuses("epics")[-1] == AirbyteStreamStatus.INCOMPLETE
    assert not output.errors


def test_without_jira_software_the_stream_is_skipped_with_one_line(requests_mock: Any) -> None:
    missing = {"errorMessages": ["null for uri: https://acme.atlassian.net/rest/agile/1.0/board"]}
    requests_mock.get(f"{_AGILE}/board", status_code=404, json=missing)

    output = read_stream(cloud_config(), "sprints")

    assert not output.records and not output.errors
    lines = [m.log.message for m in output.logs if "Jira Software" in m.log.message]
    assert len(lines) == 1 and lines[0].startswith("Stream sprints is skipped")
    assert output.get_stream_statuses("sprints")[-1] == AirbyteStreamStatus.INCOMPLETE


def test_one_record_per_sprint_and_epic_id_and_skipped_streams_incomplete() -> None:
    skipped = SkippedParts()
    skipped.add({"epics"})
    messages = [
        record("sprints", {"id": 1, "state": "active"}),
        record("sprints", {"id": 1, "state": "active"}),  # shared by a second board
        record("sprints", {"id": 2, "state": "future"}),
        record("boards", {"id": 1}),
        record("boards", {"id": 1}),  # boards are listed once by Jira: left as they come
        status("sprints", AirbyteStreamStatus.COMPLETE),
        status("epics", AirbyteStreamStatus.COMPLETE),
    ]

    out = list(agile_messages(messages, skipped))

    assert [(m.record.stream, m.record.data["id"]) for m in out if m.record] == [
        ("sprints", 1),
        ("sprints", 2),
        ("boards", 1),
        ("boards", 1),
    ]
    statuses = [m.trace.stream_status for m in out if m.trace and m.trace.stream_status]
    assert [(s.stream_descriptor.name, s.status) for s in statuses] == [
        ("sprints", AirbyteStreamStatus.COMPLETE),
        ("epics", AirbyteStreamStatus.INCOMPLETE),
    ]


def test_an_epic_on_several_boards_goes_out_once_from_its_lowest_board_id() -> None:
    messages = [
        record("epics", {"id": 10, "__boardId": "7"}),
        record("epics", {"id": 11, "__boardId": "3"}),
        record("epics", {"id": 10, "__boardId": "2"}),  # boards are read concurrently
        record("epics", {"id": 10, "__boardId": "12"}),
        status("epics", AirbyteStreamStatus.COMPLETE),
    ]

    out = list(agile_messages(messages, SkippedParts()))

    assert [m.record.data for m in out if m.record] == [
        {"id": 10, "__boardId": "2"},
        {"id": 11, "__boardId": "3"},
    ]
    assert out[-1].trace is not None  # the records come before the stream's final status
