"""Port's board, sprint and epic selector keys: honoured as filters, Port's defaults, refusals."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config

_BLUEPRINTS = {"board": "jiraBoard", "sprint": "jiraSprint", "epic": "jiraEpic"}
_STREAMS = {"board": "boards", "sprint": "sprints", "epic": "epics"}


def _mapper(kind: str, selector: dict[str, Any]) -> EntityMapper:
    mappings = {"identifier": ".id | tostring", "blueprint": f'"{_BLUEPRINTS[kind]}"'}
    resource = {"kind": kind, "selector": selector, "port": {"entity": {"mappings": mappings}}}
    return EntityMapper(load_app_config(yaml.safe_dump({"resources": [resource]})))


def _mapped(kind: str, selector: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    mapper = _mapper(kind, selector)
    return [e["identifier"] for r in records for e in mapper.map_record(_STREAMS[kind], r)]


_BOARDS = [
    {"id": 1, "type": "scrum", "location": {"projectKey": "PROJ", "projectId": 10000}},
    {"id": 2, "type": "kanban", "location": {"projectKey": "OPS", "projectId": 10001}},
    {"id": 3, "type": "simple", "location": {"userId": 5}},
]
_SPRINTS = [{"id": n, "state": s} for n, s in enumerate(("future", "active", "closed"), 1)]
_EPICS = [{"id": 1, "done": False}, {"id": 2, "done": True}]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"query": "true"}, ["1", "2", "3"]),
        ({"query": "true", "boardType": "kanban"}, ["2"]),
        ({"query": "true", "projectKey": "PROJ"}, ["1"]),
        ({"query": "true", "projectKey": "10001"}, ["2"]),  # a project id works too
        ({"query": ".id > 1", "boardType": "scrum"}, []),  # and the query still applies
        ({"query": "true", "boardType": None, "projectKey": None}, ["1", "2", "3"]),
    ],
)
def test_board_type_and_project_key_select_boards(
    selector: dict[str, Any], expected: list[str]
) -> None:
    assert _mapped("board", selector, _BOARDS) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"query": "true"}, ["2"]),  # Port's default: active sprints only
        ({"query": "true", "sprintState": None}, ["1", "2", "3"]),
        ({"query": "true", "sprintState": ["closed", "future"]}, ["1", "3"]),
        ({"query": "true", "sprintState": ["future", "active", "closed"]}, ["1", "2", "3"]),
    ],
)
def test_sprint_state_selects_sprints(selector: dict[str, Any], expected: list[str]) -> None:
    assert _mapped("sprint", selector, _SPRINTS) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"query": "true"}, ["1"]),  # Port's default: incomplete epics only
        ({"query": "true", "status": ["complete"]}, ["2"]),
        ({"query": "true", "status": ["incomplete", "complete"]}, ["1", "2"]),
        ({"query": "true", "status": None}, ["1", "2"]),
    ],
)
def test_epic_status_selects_epics(selector: dict[str, Any], expected: list[str]) -> None:
    assert _mapped("epic", selector, _EPICS) == expected


@pytest.mark.parametrize(
    ("kind", "selector", "message"),
    [
        ("board", {"boardType": "team"}, "selector.boardType must be one of scrum, kanban"),
        ("board", {"projectKey": " "}, "selector.projectKey must be a project key or id"),
        ("sprint", {"sprintState": []}, "selector.sprintState must be a list of distinct"),
        ("sprint", {"sprintState": ["active", "active"]}, "selector.sprintState must be"),
        ("sprint", {"sprintState": "active"}, "selector.sprintState must be"),
        ("epic", {"status": ["open"]}, "selector.status must be a list of distinct values"),
        ("sprint", {"boardType": "scrum"}, "selector.boardType does not apply to kind sprint"),
    ],
)
def test_bad_agile_selector_values_are_refused_by_name(
    kind: str, selector: dict[str, Any], message: str
) -> None:
    with pytest.raises(MappingError) as raised:
        _mapper(kind, selector)

    assert message in str(raised.value)
