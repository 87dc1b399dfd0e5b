"""Deletions of streams read per project (releases, components): a skipped project deletes none."""

import logging
import uuid

from airbyte_cdk.models import AirbyteMessage, AirbyteStreamStatus, Type

from integration_tests.support.messages import record, state, state_value, status
from source_jira_port.deletions.known import KnownSet
from source_jira_port.deletions.tracker import STATE_KEY, DeletionTracker
from source_jira_port.deletions.unread import mark_unread, unread_scopes

COMPLETE = AirbyteStreamStatus.COMPLETE
ID_FIELDS = {"releases": ("id",), "components": ("id",)}


def _release(release_id: str, project_key: str) -> AirbyteMessage:
    return record("releases", {"id": release_id, "name": "1.0", "__projectKey": project_key})


def _sync(messages: list[AirbyteMessage], known: KnownSet, run: str) -> list[AirbyteMessage]:
    tracker = DeletionTracker(
        known,
        every=1,
        sweep=dict,
        id_fields=ID_FIELDS,
        logger=logging.getLogger("test"),
        run=run,
    )
    return list(tracker.track(messages))


def _deleted(output: list[AirbyteMessage]) -> list[dict[str, object]]:
    return [
        {k: v for k, v in m.record.data.items() if not k.startswith("_ab_cdc")}
        for m in output
        if m.type == Type.RECORD
        and m.record is not None
        and m.record.data.get("_ab_cdc_deleted_at")
    ]


def _known_after(output: list[AirbyteMessage]) -> KnownSet:
    [*_, last] = [m for m in output if m.type == Type.STATE]
    return KnownSet.from_state(state_value(last)[STATE_KEY])


def test_releases_not_read_again_are_deleted_but_not_those_of_a_skipped_project() -> None:
    run = str(uuid.uuid4())
    known = KnownSet(listed={"releases": {"10": "A", "11": "A", "20": "B", "30": "C"}})
    mark_unread(run, "releases", "B")  # Jira answered B's versions with 404 this run

    output = _sync(
        [_release("10", "A"), status("releases", COMPLETE), state("issues", {"u": 1})],
        known,
        run,
    )

    # 11 left A, project C is gone from Jira: both deleted; B's release is kept, unread
    assert _deleted(output) == [
        {"id": "11", "__projectKey": "A"},
        {"id": "30", "__projectKey": "C"},
    ]
    assert _known_after(output).listed["releases"] == {"10": "A", "20": "B"}


def test_a_release_moved_to_a_skipped_project_is_not_taken_back() -> None:
    run = str(uuid.uuid4())
    mark_unread(run, "releases", "A")

    output = _sync(
        [_release("10", "B"), status("releases", COMPLETE), state("issues", {"u": 1})],
        KnownSet(listed={"releases": {"10": "A"}}),
        run,
    )

    assert _deleted(output) == []
    assert _known_after(output).listed["releases"] == {"10": "B"}


def test_skips_belong_to_their_run_and_stream() -> None:
    run = str(uuid.uuid4())
    mark_unread(run, "components", "A")

    assert unread_scopes(run, "components") == {"A"}
    assert unread_scopes(run, "releases") == frozenset()
    assert unread_scopes(str(uuid.uuid4()), "components") == frozenset()
    assert unread_scopes(None, "components") == frozenset()
