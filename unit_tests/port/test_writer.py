from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from importlib import resources
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteMessage, AirbyteStreamStatus, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from integration_tests.support.messages import record, state, state_value, status
from integration_tests.support.port_stub import (
    StubPort,
    default_mapping_without,
    port_writer,
    yielded_states,
)
from integration_tests.support.records import make_issue, make_project
from source_jira_port.port.client import BulkResult
from source_jira_port.port.transport import PortApiError
from source_jira_port.port.writer import PortWriter

COMPLETE = AirbyteStreamStatus.COMPLETE


def test_state_is_yielded_only_after_its_records_are_written() -> None:
    port = StubPort()
    output = port_writer(port).write(
        [
            record("issues", make_issue("ACME-1")),
            record("issues", make_issue("ACME-2")),
            state("issues", {"updated": "1"}),
            record("issues", make_issue("ACME-3")),
            state("issues", {"updated": "2"}),
        ]
    )

    assert state_value(next(output)) == {"updated": "1"}
    assert set(port.entities["jiraIssue"]) == {"ACME-1", "ACME-2"}
    assert state_value(next(output)) == {"updated": "2"}
    assert set(port.entities["jiraIssue"]) == {"ACME-1", "ACME-2", "ACME-3"}
    assert list(output) == []


def test_states_are_echoed_in_order_with_destination_record_counts() -> None:
    messages = [
        record("projects", make_project("ACME")),
        state("projects", {"p": 1}),
        record("issues", make_issue("ACME-1")),
        record("issues", make_issue("ACME-2")),
        state("issues", {"i": 1}),
        state("issues", {"i": 2}),
    ]

    output = list(port_writer(StubPort()).write(messages))

    assert [state_value(m) for m in output] == [{"p": 1}, {"i": 1}, {"i": 2}]
    counts = [m.state.destinationStats.recordCount for m in output]  # type: ignore[union-attr]
    assert counts == [1, 2, 0]


def test_write_failure_before_a_state_keeps_that_state_back() -> None:
    port = StubPort()
    port.fail_on_call = 2
    output = port_writer(port).write(
        [
            record("issues", make_issue("ACME-1")),
            state("issues", {"updated": "1"}),
            record("issues", make_issue("ACME-2")),
            state("issues", {"updated": "2"}),
        ]
    )

    assert state_value(next(output)) == {"updated": "1"}
    with pytest.raises(PortApiError):
        next(output)


def test_batches_respect_batch_size_and_flush_when_workers_are_full() -> None:
    port = StubPort()
    issues = [record("issues", make_issue(f"ACME-{n}")) for n in range(25)]
    output = port_writer(port, batch_size=10, concurrency=2).write([*issues, state("issues", {})])

    next(output)

    assert [len(ids) for _, ids, _ in port.bulk_calls] == [10, 10, 5]


def test_a_record_repeated_before_a_flush_is_written_once_latest_wins() -> None:
    port = StubPort()
    messages = [
        record("issues", make_issue("ACME-1", summary="old")),
        record("issues", make_issue("ACME-1", summary="new")),
        state("issues", {}),
    ]

    list(port_writer(port).write(messages))

    assert [ids for _, ids, _ in port.bulk_calls] == [["ACME-1"]]
    assert port.entities["jiraIssue"]["ACME-1"]["title"] == "new"


class SlowPort(StubPort):
    """A StubPort whose bulk upserts take 50 ms; records what ran at the same time."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.running: list[list[str]] = []
        self.most_at_once = 0
        self.sent_while_in_flight: set[str] = set()

    def upsert_entities(
        self, blueprint: str, entities: list[dict[str, Any]], **flags: bool
    ) -> BulkResult:
        identifiers = [entity["identifier"] for entity in entities]
        with self._lock:
            for other in self.running:
                self.sent_while_in_flight.update(set(identifiers) & set(other))
            self.running.append(identifiers)
            self.most_at_once = max(self.most_at_once, len(self.running))
        time.sleep(0.05)
        try:
            return super().upsert_entities(blueprint, entities, **flags)
        finally:
            with self._lock:
                self.running.remove(identifiers)


def test_records_keep_being_read_while_up_to_concurrency_upserts_run() -> None:
    port = SlowPort()
    uploads_seen_by_reader: list[int] = []

    def messages() -> Iterable[AirbyteMessage]:
        for n in range(12):
            uploads_seen_by_reader.append(len(port.running))
            yield record("issues", make_issue(f"ACME-{n}"))
        yield state("issues", {})

    list(port_writer(port, batch_size=2, concurrency=3).write(messages()))

    assert port.most_at_once == 3
    assert max(uploads_seen_by_reader) > 0
    assert len(port.entities["jiraIssue"]) == 12


def test_an_entity_is_not_sent_while_an_older_version_of_it_is_in_flight() -> None:
    port = SlowPort()
    messages = [
        record("issues", make_issue("ACME-1", summary="old")),
        record("issues", make_issue("ACME-2")),
        record("issues", make_issue("ACME-1", summary="new")),
        state("issues", {}),
    ]

    list(port_writer(port, batch_size=1, concurrency=3).write(messages))

    assert port.sent_while_in_flight == set()
    assert port.entities["jiraIssue"]["ACME-1"]["title"] == "new"


def test_merge_and_missing_related_flags_come_from_the_mapping() -> None:
    port = StubPort()
    list(port_writer(port).write([record("issues", make_issue("ACME-1")), state("issues", {})]))

    assert port.bulk_calls[0][2] == {"merge": True, "create_missing_related_entities": True}


_NO_CREATE = (
    resources.files("source_jira_port.port")
    .joinpath("defaults/port-app-config.yaml")
    .read_text()
    .replace("createMissingRelatedEntities: true", "createMissingRelatedEntities: false")
)


def test_missing_relation_targets_are_retried_after_the_checkpoint_before_the_state() -> None:
    port = StubPort()
    child = make_issue("ACME-2", parent={"key": "ACME-1"})
    output = port_writer(port, mapping=_NO_CREATE).write(
        [record("issues", child), record("issues", make_issue("ACME-1")), state("issues", {})]
    )

    assert yielded_states(output) == [{}]
    assert set(port.entities["jiraIssue"]) == {"ACME-1", "ACME-2"}
    assert [ids for _, ids, _ in port.bulk_calls] == [["ACME-2", "ACME-1"], ["ACME-2"]]


def test_a_newer_version_supersedes_a_deferred_entity() -> None:
    port = StubPort()
    early = make_issue("ACME-2", summary="old", parent={"key": "ACME-1"})
    later = make_issue("ACME-2", summary="new", parent={"key": "ACME-1"})
    messages = [
        record("issues", early),
        record("issues", make_issue("ACME-1")),
        record("issues", later),
        state("issues", {}),
    ]

    list(port_writer(port, mapping=_NO_CREATE, batch_size=1, concurrency=1).write(messages))

    assert port.entities["jiraIssue"]["ACME-2"]["title"] == "new"
    assert [ids for _, ids, _ in port.bulk_calls] == [["ACME-2"], ["ACME-1"], ["ACME-2"]]


def test_a_newer_version_written_while_an_older_one_waited_for_its_target_wins() -> None:
    port = StubPort()
    messages = [
        record("issues", make_issue("ACME-2", summary="old", parent={"key": "ACME-1"})),
        record("issues", make_issue("ACME-2", summary="new")),
        state("issues", {}),
    ]

    list(port_writer(port, mapping=_NO_CREATE, batch_size=1, concurrency=2).write(messages))

    assert port.entities["jiraIssue"]["ACME-2"]["title"] == "new"
    assert [ids for _, ids, _ in port.bulk_calls] == [["ACME-2"], ["ACME-2"]]


def test_an_entity_deleted_while_it_waited_for_its_target_is_not_written_again() -> None:
    port = StubPort()
    messages = [
        record("issues", make_issue("ACME-2", parent={"key": "ACME-1"})),
        _deletion("issues", "10002", "ACME-2"),
        state("issues", {}),
    ]

    list(port_writer(port, mapping=_NO_CREATE, batch_size=1, concurrency=2).write(messages))

    assert [ids for _, ids, _ in port.bulk_calls] == [["ACME-2"]]
    assert port.deleted == [("jiraIssue", ["ACME-2"])]
    assert "ACME-2" not in port.entities["jiraIssue"]


def test_relation_target_that_never_arrives_fails_the_record() -> None:
    port = StubPort()
    orphan = make_issue("ACME-2", parent={"key": "ACME-404"})

    with pytest.raises(AirbyteTracedException, match=r"Record ACME-2 .*not_found"):
        list(
            port_writer(port, mapping=_NO_CREATE).write(
                [record("issues", orphan), state("issues", {})]
            )
        )


def test_invalid_record_fails_with_key_and_reason_and_no_state() -> None:
    bad = make_issue("BAD KEY")
    output = port_writer(StubPort()).write(
        [record("issues", make_issue("ACME-1")), record("issues", bad), state("issues", {})]
    )

    with pytest.raises(AirbyteTracedException) as raised:
        list(output)
    assert "Record BAD KEY of stream issues" in str(raised.value)
    assert "characters Port does not allow" in str(raised.value)
    assert raised.value.failure_type == FailureType.config_error


def test_invalid_records_are_skipped_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    port = StubPort()
    messages = [
        record("issues", make_issue("ACME-1")),
        record("issues", make_issue("BAD KEY") | {"id": "10002"}),
        record("issues", {"fields": {}}),
        state("issues", {"updated": "1"}),
    ]

    states = yielded_states(port_writer(port, on_invalid_record="skip").write(messages))

    # The skipped record with an id is retried by the next sync (port/skipped.py).
    assert states == [{"updated": "1", "pending_retry": ["10002"]}]
    assert set(port.entities["jiraIssue"]) == {"ACME-1"}
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors[0].startswith("Skipped record BAD KEY of stream issues: identifier")
    assert errors[1].startswith("Skipped record <no key or id> of stream issues: jq failed")
    assert "2 invalid records skipped" in caplog.text


def test_entity_port_rejects_fails_with_ports_message() -> None:
    port = StubPort()
    port.rejections["ACME-2"] = (422, "invalid_request", "url is not a url")
    messages = [record("issues", make_issue("ACME-1")), record("issues", make_issue("ACME-2"))]

    with pytest.raises(AirbyteTracedException, match=r"Record ACME-2 .*url is not a url"):
        list(port_writer(port).write([*messages, state("issues", {})]))


_DOES_NOT_MATCH = (
    422,
    "entity_does_not_match_blueprint",
    "The entity ACME-2 does not match the blueprint's schema",
    'property creator: must match format "user" (an email address) [format]',
)


def test_ports_rule_reaches_the_trace_of_a_rejected_entity() -> None:
    port = StubPort()
    port.rejections["ACME-2"] = _DOES_NOT_MATCH
    messages = [record("issues", make_issue("ACME-1")), record("issues", make_issue("ACME-2"))]

    with pytest.raises(AirbyteTracedException) as raised:
        list(port_writer(port).write([*messages, state("issues", {})]))

    assert raised.value.message == (
        "Record ACME-2 of stream issues cannot be written to Port: Port rejected entity ACME-2 of "
        "blueprint jiraIssue (HTTP 422 entity_does_not_match_blueprint): The entity ACME-2 does "
        'not match the blueprint\'s schema: property creator: must match format "user" (an email '
        "address) [format]"
    )


def test_ports_rule_reaches_the_log_line_of_a_skipped_entity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = StubPort()
    port.rejections["ACME-2"] = _DOES_NOT_MATCH
    messages = [record("issues", make_issue(k)) for k in ("ACME-1", "ACME-2")]

    list(port_writer(port, on_invalid_record="skip").write([*messages, state("issues", {})]))

    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert line.startswith("Skipped record ACME-2 of stream issues: Port rejected entity ACME-2")
    assert line.endswith('property creator: must match format "user" (an email address) [format]')


def test_pre_send_check_names_the_property_and_the_rule() -> None:
    creator = {"accountId": "5b10a2844c20165700ede21g"}
    mapping = (
        resources.files("source_jira_port.port")
        .joinpath("defaults/port-app-config.yaml")
        .read_text()
        .replace(".fields.creator.emailAddress | port_email", ".fields.creator.accountId")
    )

    with pytest.raises(AirbyteTracedException) as raised:
        list(
            port_writer(StubPort(), mapping).write(
                [record("issues", make_issue("A-1", creator=creator))]
            )
        )

    assert raised.value.message == (
        "Record A-1 of stream issues cannot be written to Port: blueprint jiraIssue: property "
        'creator: "5b10a2844c20165700ede21g" is not an email address (format user)'
    )


def test_entity_port_rejects_is_logged_when_skipping(caplog: pytest.LogCaptureFixture) -> None:
    port = StubPort()
    port.rejections["ACME-2"] = (422, "invalid_request", "url is not a url")
    messages = [
        record("issues", make_issue(k) | {"id": i}) for k, i in (("ACME-1", "1"), ("ACME-2", "2"))
    ]

    output = port_writer(port, on_invalid_record="skip").write([*messages, state("issues", {})])
    assert yielded_states(output) == [{"pending_retry": ["2"]}]
    assert "Skipped record ACME-2 of stream issues: Port rejected entity ACME-2" in caplog.text


def _full_refresh(port: StubPort, keys: list[str], *extra: AirbyteMessage, **config: Any) -> None:
    messages = [*(record("issues", make_issue(k)) for k in keys), *extra]
    writer = port_writer(
        port, streams=(("issues", "overwrite"),), delete_missing_entities=True, **config
    )
    list(writer.write(messages))


def _seed(port: StubPort, count: int) -> None:
    for n in range(count):
        port.entities["jiraIssue"][f"ACME-{n}"] = {}


def test_overwrite_sync_deletes_entities_missing_from_jira() -> None:
    port = StubPort()
    _seed(port, 10)

    _full_refresh(port, [f"ACME-{n}" for n in range(9)], status("issues", COMPLETE))

    assert port.deleted == [("jiraIssue", ["ACME-9"])]


def test_deletion_beyond_the_threshold_is_skipped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = StubPort()
    _seed(port, 10)

    _full_refresh(port, ["ACME-0"], status("issues", COMPLETE), entity_deletion_threshold=0.5)

    assert port.deleted == []
    assert "Not deleting 9 of 10 jiraIssue entities" in caplog.text


def test_deletion_exactly_at_the_threshold_proceeds() -> None:
    port = StubPort()
    _seed(port, 10)

    _full_refresh(
        port,
        [f"ACME-{n}" for n in range(5)],
        status("issues", COMPLETE),
        entity_deletion_threshold=0.5,
    )

    assert len(port.deleted[0][1]) == 5


@pytest.mark.parametrize(
    ("extra", "config", "streams_mode"),
    [
        ([], {}, "overwrite"),  # the source never said COMPLETE
        ([status("issues", AirbyteStreamStatus.INCOMPLETE)], {}, "overwrite"),
        ([status("issues", COMPLETE)], {"delete_missing_entities": False}, "overwrite"),
        ([status("issues", COMPLETE)], {}, "append_dedup"),
    ],
)
def test_no_deletion_unless_a_complete_overwrite_sync_allows_it(
    extra: list[AirbyteMessage], config: dict[str, Any], streams_mode: str
) -> None:
    port = StubPort()
    _seed(port, 3)
    settings = {"delete_missing_entities": True, **config}

    writer = port_writer(port, streams=(("issues", streams_mode),), **settings)
    list(writer.write([record("issues", make_issue("ACME-0")), *extra]))

    assert port.deleted == []


def test_no_deletion_after_a_skipped_record() -> None:
    port = StubPort()
    _seed(port, 3)

    _full_refresh(
        port,
        ["ACME-0", "ACME-1", "NOT VALID"],
        status("issues", COMPLETE),
        on_invalid_record="skip",
    )

    assert port.deleted == []


def _counts(writer: PortWriter) -> dict[str, tuple[int, int, int, int]]:
    """(created, updated, deleted, failed) of each blueprint that has any of them."""
    counts = {
        blueprint: (c.created, c.updated, c.deleted, c.failed)
        for blueprint, c in writer.stats.blueprints.items()
    }
    return {blueprint: four for blueprint, four in counts.items() if any(four)}


def test_stats_count_created_and_updated_entities_per_blueprint() -> None:
    port = StubPort()
    port.entities["jiraIssue"]["ACME-1"] = {}
    writer = port_writer(port)
    messages = [
        record("projects", make_project("ACME")),
        record("issues", make_issue("ACME-1")),
        record("issues", make_issue("ACME-2")),
        state("issues", {}),
    ]

    list(writer.write(messages))

    assert _counts(writer) == {"jiraProject": (1, 0, 0, 0), "jiraIssue": (1, 1, 0, 0)}
    assert writer.stats.written == 3


def test_stats_count_deleted_and_skipped_entities() -> None:
    port = StubPort()
    _seed(port, 3)
    port.rejections["ACME-1"] = (422, "invalid_request", "url is not a url")
    writer = port_writer(
        port,
        streams=(("issues", "overwrite"),),
        delete_missing_entities=True,
        on_invalid_record="skip",
    )
    messages = [record("issues", make_issue(k)) for k in ("ACME-0", "ACME-1", "BAD KEY")]
    unmappable = record("issues", {"fields": {}})

    list(writer.write([*messages, unmappable, state("issues", {}), status("issues", COMPLETE)]))

    assert _counts(writer) == {"jiraIssue": (0, 1, 0, 3)}


def test_stats_count_deletions_of_a_complete_overwrite_sync() -> None:
    port = StubPort()
    _seed(port, 4)
    writer = port_writer(port, streams=(("issues", "overwrite"),), delete_missing_entities=True)

    list(writer.write([record("issues", make_issue("ACME-0")), status("issues", COMPLETE)]))

    assert _counts(writer) == {"jiraIssue": (0, 1, 3, 0)}


def test_a_failing_record_is_counted_before_the_sync_stops() -> None:
    writer = port_writer(StubPort())

    with pytest.raises(AirbyteTracedException):
        list(writer.write([record("issues", make_issue("BAD KEY")), state("issues", {})]))

    assert _counts(writer) == {"jiraIssue": (0, 0, 0, 1)}


def _deletion(stream: str, record_id: str, key: str) -> AirbyteMessage:
    at = "2026-11-22T10:00:00.000+00:00"
    return record(
        stream, {"id": record_id, "key": key, "_ab_cdc_deleted_at": at, "_ab_cdc_updated_at": at}
    )


def test_deletion_records_delete_the_entities_they_identify_before_the_state() -> None:
    port = StubPort()
    setup = [record("projects", make_project("ACME")), record("issues", make_issue("ACME-1"))]
    list(port_writer(port).write([*setup, record("issues", make_issue("ACME-2"))]))

    output = port_writer(port).write(
        [
            _deletion("issues", "10001", "ACME-1"),
            _deletion("projects", "1", "ACME"),
            state("issues", {"u": 1}),
        ]
    )

    assert state_value(next(output)) == {"u": 1}
    assert sorted(port.deleted) == [("jiraIssue", ["ACME-1"]), ("jiraProject", ["ACME"])]
    assert set(port.entities["jiraIssue"]) == {"ACME-2"}


def test_the_later_of_an_upsert_and_a_deletion_of_one_entity_wins() -> None:
    port = StubPort()

    list(
        port_writer(port).write(
            [
                record("issues", make_issue("ACME-1")),
                _deletion("issues", "10001", "ACME-1"),
                _deletion("issues", "10002", "ACME-2"),
                record("issues", make_issue("ACME-2")),
            ]
        )
    )

    assert port.deleted == [("jiraIssue", ["ACME-1"])]
    assert [identifiers for _, identifiers, _ in port.bulk_calls] == [["ACME-2"]]


def test_deletions_are_counted_per_blueprint() -> None:
    writer = port_writer(StubPort())

    list(writer.write([_deletion("issues", "1", "A-1"), _deletion("issues", "2", "A-2")]))

    assert writer.stats.of("jiraIssue").deleted == 2


def test_a_deletion_record_the_mapping_cannot_identify_fails_with_its_reason() -> None:
    mapping = resources.files("source_jira_port.port") / "defaults" / "port-app-config.yaml"
    custom = mapping.read_text().replace("identifier: .key", "identifier: .fields.summary", 2)

    with pytest.raises(AirbyteTracedException, match="on a deletion record"):
        list(port_writer(StubPort(), custom).write([_deletion("issues", "1", "A-1")]))


class PlaceholderPort(StubPort):
    """StubPort that, like Port with create_missing_related_entities, creates missing targets."""

    def upsert_entities(
        self, blueprint: str, entities: list[dict[str, Any]], **flags: bool
    ) -> BulkResult:
        result = super().upsert_entities(blueprint, entities, **flags)
        targets = {"parentIssue": "jiraIssue", "assignee": "jiraUser", "reporter": "jiraUser"}
        for entity in entities:
            for name, target_blueprint in targets.items():
                target = entity["relations"].get(name)
                if target is not None:
                    self.entities[target_blueprint].setdefault(target, {})
        return result


def _placeholder_counts(writer: PortWriter) -> dict[str, tuple[int, int, int, int]]:
    """(created, updated, placeholders, bare) per blueprint."""
    return {
        blueprint: (c.created, c.updated, c.placeholders, c.bare)
        for blueprint, c in writer.stats.blueprints.items()
    }


def test_a_bare_parent_written_later_counts_as_a_placeholder_not_as_updated() -> None:
    port = PlaceholderPort()
    writer = port_writer(port, batch_size=1)
    users = {"assignee": {"accountId": "u-1"}, "reporter": {"accountId": "u-2"}}
    messages = [
        record("issues", make_issue("ACME-2", parent={"key": "ACME-1"}, **users)),
        record("issues", make_issue("ACME-1", **users)),
        record("issues", make_issue("ACME-1", **users)),  # written again: now an update
        record("issues", make_issue("ACME-3", parent={"key": "ACME-1"}, **users)),
        state("issues", {}),
    ]

    list(writer.write(messages))

    assert _placeholder_counts(writer) == {"jiraIssue": (2, 1, 1, 0)}


def test_relation_targets_of_a_blueprint_no_resource_writes_are_counted_bare() -> None:
    writer = port_writer(PlaceholderPort(), default_mapping_without("users"), batch_size=1)
    users = {"assignee": {"accountId": "u-1"}, "reporter": {"accountId": "u-2"}}

    list(writer.write([record("issues", make_issue("ACME-1", **users)), state("issues", {})]))

    assert _placeholder_counts(writer) == {"jiraIssue": (1, 0, 0, 0), "jiraUser": (0, 0, 0, 2)}


def test_an_issue_port_already_had_is_updated_when_nothing_referred_to_it_first() -> None:
    port = PlaceholderPort()
    port.entities["jiraIssue"]["ACME-1"] = {}
    writer = port_writer(port, batch_size=1)

    list(writer.write([record("issues", make_issue("ACME-1")), state("issues", {})]))

    assert writer.stats.of("jiraIssue").updated == 1
    assert writer.stats.of("jiraIssue").placeholders == 0


def test_no_placeholders_without_create_missing_related_entities() -> None:
    mapping = (
        resources.files("source_jira_port.port")
        .joinpath("defaults/port-app-config.yaml")
        .read_text()
        .replace("createMissingRelatedEntities: true", "createMissingRelatedEntities: false")
    )
    port = StubPort()
    for user in ("557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "5b10a2844c20165700ede21g"):
        port.entities["jiraUser"][user] = {}
    writer = port_writer(port, mapping)
    messages = [
        record("issues", make_issue("ACME-2", parent={"key": "ACME-1"})),
        record("issues", make_issue("ACME-1")),
        state("issues", {}),
    ]

    list(writer.write(messages))

    assert _placeholder_counts(writer) == {"jiraIssue": (2, 0, 0, 0)}


def test_records_without_the_issue_expand_the_mapping_asks_for_get_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mapping = (
        "resources:\n  - kind: issue\n    selector: {query: 'true', expand: 'changelog,names'}\n"
        "    port:\n      entity:\n        mappings:\n          identifier: .key\n"
        "          blueprint: '\"jiraIssue\"'\n"
    )
    messages = [
        record("issues", make_issue("ACME-1") | {"names": {}}),
        record("issues", make_issue("ACME-2")),
        state("issues", {"updated": "1"}),
    ]

    list(port_writer(StubPort(), mapping).write(messages))

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    [warning] = [w for w in warnings if "expand" in w]
    assert "issues resources ask Jira to expand changelog, but the source's records lack" in warning
    assert "issue_expand" in warning
