from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from integration_tests.support.messages import state
from source_jira_port.app.state import StateFile, StateFileError, write_atomically
from source_jira_port.cdk_compat import state_values
from source_jira_port.source import SourceJiraPort


def _saved(path: Path) -> list[dict[str, object]]:
    return list(json.loads(path.read_text()))


def test_no_file_means_no_state(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "state.json")

    assert store.load() == []
    assert store.latest("issues") is None


def test_save_keeps_the_latest_state_of_each_stream(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "state.json")

    for message in (
        state("issues", {"updated": "1"}),
        state("projects", {"__ab_no_cursor_state_message": True}),
        state("issues", {"updated": "2"}),
    ):
        assert message.state is not None
        store.save(message.state)

    assert _saved(tmp_path / "state.json") == [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "issues"}, "stream_state": {"updated": "2"}},
        },
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "projects"},
                "stream_state": {"__ab_no_cursor_state_message": True},
            },
        },
    ]
    latest = store.latest("issues")
    assert latest is not None and latest.stream is not None
    assert state_values(latest.stream.stream_state) == {"updated": "2"}


def test_the_file_is_what_the_source_reads_with_state(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "state.json")
    message = state("issues", {"updated": "2024-01-05T10:00:00.000000+0000"})
    assert message.state is not None
    store.save(message.state)

    [read] = SourceJiraPort.read_state(str(tmp_path / "state.json"))

    assert read.stream is not None
    assert state_values(read.stream.stream_state) == {"updated": "2024-01-05T10:00:00.000000+0000"}
    reloaded = StateFile(tmp_path / "state.json")
    assert reloaded.load() == [read]
    assert reloaded.latest("issues") == read


def test_a_state_file_written_by_hand_for_the_source_loads(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(
        '[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "issues"}, '
        '"stream_state": {"updated": "x"}}, "sourceStats": {"recordCount": 5.0}}]'
    )

    assert StateFile(path).load()[0].stream is not None


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"issues": 1}',
        "[1]",
        '[{"type": "STREAM"}]',
        '[{"type": "GLOBAL", "global": {"stream_states": []}}]',
    ],
)
def test_a_broken_state_file_is_reported_with_its_path(tmp_path: Path, content: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)

    with pytest.raises(StateFileError, match=r"state\.json is not a state file .*--full-refresh"):
        StateFile(path).load()


def test_atomic_write_replaces_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.json"
    write_atomically(path, "old")
    write_atomically(path, "new")

    assert path.read_text() == "new"
    assert os.listdir(path.parent) == ["state.json"]


def test_a_failed_atomic_write_keeps_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    write_atomically(path, "old")

    def crash(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, "new")

    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["state.json"]
