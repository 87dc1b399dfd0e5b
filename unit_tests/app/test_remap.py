from __future__ import annotations

from typing import Any

from integration_tests.support.messages import state
from source_jira_port.app.remap import plan_remap
from source_jira_port.cdk_compat import state_values
from source_jira_port.port.fingerprint import saved_fingerprint

_KNOWN = {"issues": "eJx", "projects": {"1": "A"}}


def _state(stream: str, values: dict[str, Any]) -> Any:
    message = state(stream, values).state
    assert message is not None
    return message


def _values(message: Any) -> dict[str, Any]:
    return state_values(message.stream.stream_state)


def test_a_changed_stream_loses_its_cursor_and_keeps_the_rest() -> None:
    saved = [
        _state("projects", {"mapping_fingerprint": "p-old"}),
        _state(
            "issues",
            {
                "updated": "2024-01-01T00:00:00.000+0000",
                "deletion_detection": _KNOWN,
                "pending_retry": ["10"],
                "mapping_fingerprint": "i-old",
            },
        ),
    ]

    plan = plan_remap(saved, {"projects": "p-new", "issues": "i-new"}, ["issues"])

    assert plan.streams == {"issues": "i-old"}  # projects: full refresh, re-mapped anyway
    assert _values(plan.state[0]) == {"mapping_fingerprint": "p-old"}
    assert _values(plan.state[1]) == {
        "deletion_detection": _KNOWN,
        "pending_retry": ["10"],
        "mapping_fingerprint": "i-old",
    }
    reason = plan.reason()
    assert reason is not None and "stream issues changed" in reason


def test_an_unchanged_stream_stays_incremental() -> None:
    saved = [_state("issues", {"updated": "1", "mapping_fingerprint": "same"})]

    plan = plan_remap(saved, {"issues": "same"}, ["issues"])

    assert plan.streams == {}
    assert plan.state == saved
    assert plan.reason() is None


def test_a_state_without_a_fingerprint_is_re_read() -> None:
    saved = [_state("issues", {"updated": "1"})]

    plan = plan_remap(saved, {"issues": "new"}, ["issues"])

    assert plan.streams == {"issues": None}
    assert _values(plan.state[0]) == {}


def test_states_of_a_re_read_keep_the_old_fingerprint_until_it_completes() -> None:
    plan = plan_remap(
        [_state("issues", {"updated": "1", "mapping_fingerprint": "old"})],
        {"issues": "new"},
        ["issues"],
    )
    confirmed = _state("issues", {"updated": "2", "mapping_fingerprint": "new"})
    fresh = plan_remap([_state("issues", {"updated": "1"})], {"issues": "new"}, ["issues"])

    assert saved_fingerprint(plan.in_progress(confirmed)) == "old"
    assert saved_fingerprint(fresh.in_progress(confirmed)) is None
    assert plan.in_progress(_state("projects", {"x": 1})) is not None
