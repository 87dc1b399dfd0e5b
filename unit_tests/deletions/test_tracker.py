"""DeletionTracker on hand-made message streams: what it adds, what it keeps, when it sweeps."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping

import pytest
from airbyte_cdk.models import AirbyteMessage, AirbyteStateStats, AirbyteStreamStatus, Type

from integration_tests.support.catalogs import catalog
from integration_tests.support.messages import record, state, state_value, status
from source_jira_port.cdc import DELETED_AT
from source_jira_port.cdk_compat import state_values
from source_jira_port.deletions.known import KnownSet
from source_jira_port.deletions.listed import listed_id_fields
from source_jira_port.deletions.tracker import STATE_KEY, DeletionTracker, split_state
from source_jira_port.jira_client import shipped_manifest

COMPLETE = AirbyteStreamStatus.COMPLETE
ID_FIELDS = {"projects": ("id",), "users": ("accountId",), "teams": ("teamId",)}


class Jira:
    """The sweep's answer; counts how often it is asked."""

    def __init__(self, issues: Mapping[str, str | None]) -> None:
        self.issues = dict(issues)
        self.sweeps = 0

    def sweep(self) -> Mapping[str, str | None]:
        self.sweeps += 1
        return self.issues


def _issue(issue_id: str, key: str) -> AirbyteMessage:
    return record("issues", {"id": issue_id, "key": key, "updated": "2026-01-01T00:00:00.000+0000"})


def _project(project_id: str, key: str) -> AirbyteMessage:
    return record("projects", {"id": project_id, "key": key})


def _sync(
    messages: Iterable[AirbyteMessage], jira: Jira, known: KnownSet | None = None, every: int = 1
) -> list[AirbyteMessage]:
    tracker = DeletionTracker(
        known, every=every, sweep=jira.sweep, id_fields=ID_FIELDS, logger=logging.getLogger("test")
    )
    return list(tracker.track(messages))


def _deleted(output: list[AirbyteMessage], stream: str) -> list[tuple[str, str]]:
    return [
        (m.record.data["id"], m.record.data["key"])
        for m in output
        if m.type == Type.RECORD
        and m.record is not None
        and m.record.stream == stream
        and m.record.data.get("_ab_cdc_deleted_at")
    ]


def _known_after(output: list[AirbyteMessage]) -> KnownSet:
    [*_, last] = [m for m in output if m.type == Type.STATE]
    return KnownSet.from_state(state_value(last)[STATE_KEY])


def test_issues_gone_from_the_sweep_become_deletion_records_then_the_state_forgets_them() -> None:
    known = KnownSet({"1": "A-1", "2": "A-2", "3": "A-3"})
    jira = Jira({"1": "A-1", "3": "A-3", "4": "A-4"})

    output = _sync(
        [_issue("4", "A-4"), state("issues", {"updated": "t"}), status("issues", COMPLETE)],
        jira,
        known,
    )

    assert _deleted(output, "issues") == [("2", "A-2")]
    assert _known_after(output).issues == {"1": "A-1", "3": "A-3", "4": "A-4"}
    assert output[-1].type == Type.TRACE  # deletions and state come before COMPLETE
    [deletion] = [m.record for m in output if m.record and m.record.data.get("_ab_cdc_deleted_at")]
    assert deletion.data["updated"] > "2026-01-01"  # the detection time, newer than any read


def test_an_issue_read_then_deleted_before_the_next_sweep_is_found() -> None:
    first = _sync(
        [_issue("7", "B-7"), state("issues", {"updated": "t1"}), status("issues", COMPLETE)],
        Jira({"7": "B-7"}),
        every=2,
    )
    second = _sync(
        [state("issues", {"updated": "t2"}), status("issues", COMPLETE)],
        Jira({}),
        _known_after(first),
        every=2,
    )

    assert _deleted(first, "issues") == []
    assert _deleted(second, "issues") == [("7", "B-7")]


def test_every_nth_sync_sweeps_and_the_count_is_kept_in_the_state() -> None:
    jira = Jira({})
    known = KnownSet({"1": "A-1"})
    sweeps = []
    for _ in range(6):
        output = _sync([state("issues", {"u": 1}), status("issues", COMPLETE)], jira, known, 3)
        known = _known_after(output)
        sweeps.append(jira.sweeps)

    assert sweeps == [0, 0, 1, 1, 1, 2]


def test_keys_come_from_what_was_read_when_the_sweep_lists_ids_alone() -> None:
    output = _sync(
        [_issue("1", "A-1"), state("issues", {"u": 1}), status("issues", COMPLETE)],
        Jira({"1": None, "2": None}),
    )

    assert _known_after(output).issues == {"1": "A-1"}


def test_projects_not_read_again_are_deleted_when_the_projects_stream_completes() -> None:
    known = KnownSet(listed={"projects": {"10": "A", "11": "B"}})
    output = _sync(
        [
            _project("10", "A"),
            _project("12", "C"),
            status("projects", COMPLETE),
            state("issues", {"u": 1}),
            status("issues", COMPLETE),
        ],
        Jira({}),
        known,
    )

    assert _deleted(output, "projects") == [("11", "B")]
    assert _known_after(output).listed["projects"] == {"10": "A", "12": "C"}


def test_an_incomplete_projects_read_deletes_no_project() -> None:
    output = _sync(
        [_project("10", "A"), state("issues", {"u": 1})],
        Jira({}),
        KnownSet(listed={"projects": {"10": "A", "11": "B"}}),
    )

    assert _deleted(output, "projects") == []
    assert _known_after(output).listed["projects"] == {"10": "A", "11": "B"}


def test_an_incomplete_issues_read_does_not_sweep_but_keeps_what_it_read() -> None:
    jira = Jira({})
    output = _sync([_issue("1", "A-1"), state("issues", {"u": 1})], jira)

    assert jira.sweeps == 0
    assert _known_after(output).issues == {"1": "A-1"}


def test_a_failing_sweep_comes_after_the_last_checkpoint() -> None:
    def broken() -> Mapping[str, str | None]:
        raise RuntimeError("Jira said no")

    tracker = DeletionTracker(
        None, every=1, sweep=broken, id_fields=ID_FIELDS, logger=logging.getLogger("test")
    )
    output = tracker.track(
        [_issue("1", "A-1"), state("issues", {"u": 1}), status("issues", COMPLETE)]
    )

    assert next(output).type == Type.RECORD
    assert state_value(next(output))["u"] == 1
    with pytest.raises(RuntimeError):
        next(output)


def test_checkpoints_keep_the_cursor_and_count_the_records_they_cover() -> None:
    checkpoint = state("issues", {"updated": "t"})
    assert checkpoint.state is not None
    checkpoint.state.sourceStats = AirbyteStateStats(recordCount=1)  # as the CDK counts the read

    output = _sync([_issue("1", "A-1"), checkpoint, status("issues", COMPLETE)], Jira({}))

    states = [m for m in output if m.type == Type.STATE]
    assert all(state_value(m)["updated"] == "t" for m in states)
    counts = [m.state.sourceStats.recordCount for m in states]  # type: ignore[union-attr]
    assert sum(counts) == 2  # the issue read and its deletion


def test_split_state_hands_the_cdk_the_cursor_alone() -> None:
    saved = KnownSet({"1": "A-1"}).to_state()
    message = state("issues", {"updated": "t", STATE_KEY: saved})
    assert message.state is not None

    cleaned, known = split_state([message.state])

    assert known == KnownSet({"1": "A-1"})
    assert cleaned is not None
    assert state_values(cleaned[0].stream.stream_state) == {"updated": "t"}  # type: ignore[union-attr]


def test_an_unreadable_saved_known_set_is_dropped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = state("issues", {"updated": "t", STATE_KEY: {"version": 1, "issues": "garbage"}})
    assert message.state is not None

    cleaned, known = split_state([message.state])

    assert known is None
    assert "Ignoring the saved deletion detection state" in caplog.text
    assert cleaned is not None


@pytest.mark.parametrize(
    ("modes", "every", "applies"),
    [
        ((("issues", "append_dedup"),), 1, True),
        ((("issues", "append_dedup"),), 0, False),
        ((("issues", "overwrite"), ("projects", "overwrite")), 1, False),
        ((("projects", "append"),), 1, False),
    ],
)
def test_tracking_needs_an_incremental_issues_stream(
    modes: tuple[tuple[str, str], ...], every: int, applies: bool
) -> None:
    assert DeletionTracker.applies_to(catalog(*modes), every) is applies


def test_a_checkpoint_held_back_is_passed_on_before_a_read_error() -> None:
    def failing_read() -> Iterator[AirbyteMessage]:
        yield _issue("1", "A-1")
        yield state("issues", {"u": 1})
        yield state("issues", {"u": 2})  # comes too soon after the first: held back
        raise RuntimeError("Jira went away")

    tracker = DeletionTracker(
        None, every=1, sweep=Jira({}).sweep, id_fields=ID_FIELDS, logger=logging.getLogger()
    )
    tracker._next_encode_at = float("inf")  # every re-encode is unaffordable from here on
    output = tracker.track(failing_read())

    assert next(output).type == Type.RECORD
    assert state_value(next(output))["u"] == 2
    with pytest.raises(RuntimeError):
        next(output)


def test_an_issue_read_under_a_new_key_first_deletes_its_old_key_a_millisecond_earlier() -> None:
    moved = record("issues", {"id": "1", "key": "B-9", "updated": "2026-03-01T10:00:00.000+0100"})

    output = _sync([moved, state("issues", {"u": 1})], Jira({}), KnownSet({"1": "A-1"}))

    deletion, new = (m.record for m in output[:2])
    assert deletion is not None and new is not None
    assert (deletion.data["key"], new.data["key"]) == ("A-1", "B-9")
    assert deletion.data["updated"] == "2026-03-01T09:59:59.999+0100"
    assert deletion.data["_ab_cdc_deleted_at"] == "2026-03-01T09:59:59.999+01:00"
    assert _known_after(output).issues == {"1": "B-9"}


def test_a_project_read_under_a_new_key_deletes_its_old_key() -> None:
    output = _sync(
        [_project("10", "NEW"), status("projects", COMPLETE), state("issues", {"u": 1})],
        Jira({}),
        KnownSet(listed={"projects": {"10": "OLD"}}),
    )

    assert _deleted(output, "projects") == [("10", "OLD")]
    assert _known_after(output).listed["projects"] == {"10": "NEW"}


def test_a_new_key_only_the_sweep_saw_keeps_the_old_one_known_until_it_is_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    output = _sync(
        [state("issues", {"u": 1}), status("issues", COMPLETE)],
        Jira({"1": "NEW-1"}),
        KnownSet({"1": "OLD-1"}),
    )

    assert _deleted(output, "issues") == []
    assert _known_after(output).issues == {"1": "OLD-1"}
    assert "1 issues have new keys" in caplog.text


def test_records_of_streams_without_id_and_key_pass_through() -> None:
    team = record("teams", {"teamId": "t1", "members": ["a1"]})
    known = KnownSet({"1": "A-1"})

    output = _sync([team, _issue("1", "A-1"), state("issues", {"updated": "t"})], Jira({}), known)

    assert [m.record.data for m in output if m.type == Type.RECORD and m.record] == [
        {"teamId": "t1", "members": ["a1"]},
        _issue("1", "A-1").record.data,  # type: ignore[union-attr]
    ]


def _user(account_id: str, name: str) -> AirbyteMessage:
    return record("users", {"accountId": account_id, "displayName": name, "active": True})


def _user_deletions(output: list[AirbyteMessage]) -> list[dict[str, object]]:
    return [
        {k: v for k, v in m.record.data.items() if not k.startswith("_ab_cdc")}
        for m in output
        if m.record is not None and m.record.stream == "users" and m.record.data.get(DELETED_AT)
    ]


def test_users_not_listed_again_are_deleted_by_their_primary_key_when_users_completes() -> None:
    known = KnownSet(listed={"users": {"5b10a": "Ada", "5b10b": "Grace"}})

    output = _sync(
        [
            _user("5b10a", "Ada L."),
            _user("712020:c", "Niklaus"),
            status("users", COMPLETE),
            state("issues", {"u": 1}),
        ],
        Jira({}),
        known,
    )

    # a new display name is the same user: only the account no longer listed is deleted
    assert _user_deletions(output) == [{"accountId": "5b10b", "displayName": "Grace"}]
    assert _known_after(output).listed["users"] == {"5b10a": "Ada L.", "712020:c": "Niklaus"}


def test_a_state_saved_before_users_existed_is_read_and_its_first_users_read_deletes_none() -> None:
    saved = KnownSet({"1": "A-1"}).to_state()
    del saved["users"]  # what a version without the users stream saved
    message = state("issues", {"updated": "t", STATE_KEY: saved})
    assert message.state is not None
    _, known = split_state([message.state])
    assert known == KnownSet({"1": "A-1"}, listed={})

    output = _sync(
        [_user("5b10a", "Ada"), status("users", COMPLETE), state("issues", {"u": 1})],
        Jira({}),
        known,
    )

    assert _user_deletions(output) == []
    assert _known_after(output).listed == {"users": {"5b10a": "Ada"}}


def test_an_incomplete_users_read_deletes_no_user() -> None:
    output = _sync(
        [_user("5b10a", "Ada"), state("issues", {"u": 1})],
        Jira({}),
        KnownSet(listed={"users": {"5b10a": "Ada", "5b10b": "Grace"}}),
    )

    assert _user_deletions(output) == []
    assert _known_after(output).listed["users"] == {"5b10a": "Ada", "5b10b": "Grace"}


@pytest.mark.parametrize(("deployment", "field"), [("cloud", "accountId"), ("server", "key")])
def test_listed_streams_are_known_by_the_manifest_primary_key(deployment: str, field: str) -> None:
    fields = listed_id_fields(shipped_manifest(), {"resolved_deployment": deployment})

    assert fields == {
        "projects": ("id",),
        "users": (field,),
        "releases": ("id",),
        "components": ("id",),
        "boards": ("id",),
        "sprints": ("id",),
        "epics": ("id",),
        "backlog": ("__boardId", "id"),
    }


def test_teams_are_known_by_team_id_where_the_site_offers_them() -> None:
    config = {"resolved_deployment": "cloud", "_teams_offered": True}

    assert listed_id_fields(shipped_manifest(), config)["teams"] == ("teamId",)


def test_teams_not_listed_again_are_deleted_when_teams_completes() -> None:
    known = KnownSet(listed={"teams": {"t1": "Platform", "t2": "Payments"}})
    team = record("teams", {"teamId": "t1", "displayName": "Platform", "members": []})

    output = _sync(
        [team, status("teams", COMPLETE), state("issues", {"u": 1})],
        Jira({}),
        known,
    )

    deleted = [
        m.record.data
        for m in output
        if m.record is not None and m.record.stream == "teams" and m.record.data.get(DELETED_AT)
    ]
    assert [(d["teamId"], d["displayName"]) for d in deleted] == [("t2", "Payments")]
