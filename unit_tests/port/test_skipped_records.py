"""Records skipped under `on_invalid_record: skip` are kept in the state for a retry by id."""

from __future__ import annotations

from typing import Any

from integration_tests.support.messages import record, state
from integration_tests.support.port_stub import StubPort, port_writer, yielded_states
from integration_tests.support.records import make_issue

_SKIP = {"on_invalid_record": "skip"}


def _issue(key: str, issue_id: str, **fields: Any) -> dict[str, Any]:
    return make_issue(key, **fields) | {"id": issue_id}


def _bad(issue_id: str) -> dict[str, Any]:
    return _issue("BAD KEY", issue_id)  # an identifier Port does not allow


def test_skipped_ids_go_into_each_later_state_of_their_stream() -> None:
    port = StubPort()
    port.rejections["ACME-3"] = (422, "invalid_request", "url is not a url")
    messages = [
        record("issues", _issue("ACME-1", "1")),
        record("issues", _bad("2")),
        state("issues", {"updated": "1"}),
        record("issues", _issue("ACME-3", "3")),
        record("issues", _issue("ACME-4", "4")),
        state("issues", {"updated": "2"}),
    ]

    writer = port_writer(port, **_SKIP)

    states = yielded_states(writer.write(messages))

    assert states == [
        {"updated": "1", "pending_retry": ["2"]},
        {"updated": "2", "pending_retry": ["2", "3"]},
    ]
    assert writer.stats.pending_retry == 2


def test_a_later_version_written_or_deleted_leaves_the_list() -> None:
    deletion = {"id": "2", "key": "ACME-2", "_ab_cdc_deleted_at": "2024-01-01T00:00:00Z"}
    messages = [
        record("issues", _bad("1")),
        record("issues", _bad("2")),
        state("issues", {"updated": "1"}),
        record("issues", _issue("ACME-1", "1")),
        record("issues", deletion),
        state("issues", {"updated": "2"}),
    ]
    writer = port_writer(StubPort(), **_SKIP)

    states = yielded_states(writer.write(messages))

    assert states[0]["pending_retry"] == ["1", "2"]
    assert states[1] == {"updated": "2"}
    assert writer.stats.pending_retry == 0


def test_a_rejection_of_an_older_version_does_not_undo_a_newer_one() -> None:
    class RejectsFirstVersion(StubPort):
        def upsert_entities(self, blueprint: str, entities: list[Any], **flags: bool) -> Any:
            result = super().upsert_entities(blueprint, entities, **flags)
            self.rejections.clear()
            return result

    port = RejectsFirstVersion()
    port.rejections["ACME-1"] = (422, "invalid_request", "url is not a url")
    messages = [
        record("issues", _issue("ACME-1", "1")),  # in flight when its next version arrives
        record("issues", _issue("ACME-1", "1", summary="fixed")),
        state("issues", {"updated": "1"}),
    ]

    states = yielded_states(port_writer(port, **_SKIP, batch_size=1).write(messages))

    assert port.entities["jiraIssue"]["ACME-1"]["title"] == "fixed"
    assert states == [{"updated": "1"}]


def test_the_incoming_list_is_replaced_by_this_syncs_skips() -> None:
    # The source took the saved ids out and read those issues again before this state.
    messages = [
        record("issues", _issue("ACME-1", "1")),
        record("issues", _bad("2")),
        state("issues", {"updated": "1", "pending_retry": ["1", "7"]}),
    ]

    states = yielded_states(port_writer(StubPort(), **_SKIP).write(messages))

    assert states == [{"updated": "1", "pending_retry": ["2"]}]


def test_a_full_refresh_keeps_the_list_for_the_incremental_syncs_after_it() -> None:
    # A full refresh of issues saves a cursor: the next incremental sync starts from it.
    messages = [record("issues", _bad("1")), state("issues", {"updated": "9"})]
    streams = (("issues", "overwrite"),)

    states = yielded_states(port_writer(StubPort(), **_SKIP, streams=streams).write(messages))

    assert states == [{"updated": "9", "pending_retry": ["1"]}]
