"""The `destination-port` command line against the fake Port API."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteStreamStatus

from integration_tests.fakes.port_server import FakePort
from integration_tests.support.commands import DestinationRun, destination
from integration_tests.support.configs import PORT_SECRET, port_config
from integration_tests.support.messages import record, state, status
from integration_tests.support.records import (
    bsd6_expected_entity,
    load_fixture,
    make_issue,
    make_project,
)
from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.client import PortClient
from source_jira_port.port.transport import PortApiError

pytestmark = pytest.mark.integration

_REPO = Path(__file__).resolve().parents[1]
_STARTED, _COMPLETE = AirbyteStreamStatus.STARTED, AirbyteStreamStatus.COMPLETE


@pytest.fixture
def port() -> Iterator[FakePort]:
    with FakePort(client_secret=PORT_SECRET) as fake:
        yield fake


@pytest.fixture
def seeded_port(port: FakePort) -> FakePort:
    for blueprint in default_blueprints().values():
        port.add_blueprint(blueprint)
    return port


def test_write_creates_blueprints_and_maps_jira_records_field_by_field(
    port: FakePort, tmp_path: Path
) -> None:
    messages = [
        record("projects", make_project("BSD") | {"name": "Basic Soft Dev"}),
        state("projects", {"__ab_no_cursor_state_message": True}),
        record("issues", load_fixture("bsd6_issue_server.json")),
        record("issues", load_fixture("cloud_issue_v3.json")),
        state("issues", {"updated": "2024-03-22T11:58:25.927+0200"}),
    ]

    run = destination(tmp_path, "write", port_config(port), messages)

    assert run.returncode == 0, run.stdout
    assert run.states() == [
        {"__ab_no_cursor_state_message": True},
        {"updated": "2024-03-22T11:58:25.927+0200"},
    ]
    assert port.blueprint("jiraIssue")["relations"]["subtasks"]["target"] == "jiraIssue"  # type: ignore[index]
    issues = port.entities("jiraIssue")
    expected = bsd6_expected_entity()
    bsd6 = issues["BSD-6"]
    assert bsd6["title"] == expected["title"]
    assert bsd6["properties"] == expected["properties"]
    assert bsd6["relations"] == expected["relations"]
    cloud = issues["ACME-2"]
    assert cloud["properties"]["issueType"] == "Sub-task"
    assert cloud["properties"]["components"] == ["Backend", "Payments"]
    assert cloud["properties"]["creator"] is None  # an empty emailAddress, never the accountId
    assert cloud["relations"]["assignee"] == "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"
    assert cloud["relations"]["reporter"] == "5b10a2844c20165700ede21g"
    assert set(port.entities("jiraUser")) == {
        "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
        "5b10a2844c20165700ede21g",
        "JIRAUSER10001",
        "JIRAUSER10002",
    }
    assert cloud["relations"]["parentIssue"] == "ACME-1"
    assert "ACME-1" in issues  # created bare: createMissingRelatedEntities defaults to true
    assert port.entities("jiraProject")["BSD"]["properties"] == {
        "url": "https://acme.atlassian.net/projects/BSD",
        "projectType": "software",
        "totalIssues": None,
    }
    [bulk] = port.calls("POST", "jiraIssue/entities/bulk")
    assert bulk.query == {
        "upsert": ["true"],
        "merge": ["true"],
        "create_missing_related_entities": ["true"],
    }


def test_upserts_merge_and_keep_properties_maintained_in_port(
    seeded_port: FakePort, tmp_path: Path
) -> None:
    blueprint = default_blueprints()["jiraIssue"]
    blueprint["schema"]["properties"]["owner"] = {"type": "string", "title": "Owner"}
    seeded_port.add_blueprint(blueprint)
    seeded_port.add_entity(
        "jiraIssue", {"identifier": "ACME-1", "properties": {"owner": "team-a", "status": "x"}}
    )

    run = destination(
        tmp_path, "write", port_config(seeded_port), [record("issues", make_issue("ACME-1"))]
    )

    assert run.returncode == 0, run.stdout
    properties = seeded_port.entities("jiraIssue")["ACME-1"]["properties"]
    assert properties["owner"] == "team-a"
    assert properties["status"] == "In Progress"


def test_crash_mid_write_then_resume_from_the_last_echoed_state(
    seeded_port: FakePort, tmp_path: Path
) -> None:
    head = [record("issues", make_issue("ACME-1")), state("issues", {"updated": "1"})]
    tail = [
        record("issues", make_issue("ACME-2")),
        state("issues", {"updated": "2"}),
        record("issues", make_issue("ACME-3")),
        state("issues", {"updated": "3"}),
    ]
    seeded_port.fail(500, times=None, path="/entities/bulk$", after=1, headers={"Retry-After": "0"})

    crashed = destination(tmp_path, "write", port_config(seeded_port), [*head, *tail])

    assert crashed.returncode != 0
    assert crashed.states() == [{"updated": "1"}]
    assert "HTTP 500" in crashed.error()["message"]
    assert set(seeded_port.entities("jiraIssue")) == {"ACME-1"}

    seeded_port.clear_faults()
    resumed = destination(tmp_path, "write", port_config(seeded_port), tail)

    assert resumed.returncode == 0, resumed.stdout
    assert resumed.states() == [{"updated": "2"}, {"updated": "3"}]
    issues = seeded_port.entities("jiraIssue")
    assert set(issues) == {"ACME-1", "ACME-2", "ACME-3"}
    assert issues["ACME-3"]["title"] == "Checkout fails for saved carts"


def test_rate_limits_and_expired_tokens_are_absorbed(seeded_port: FakePort, tmp_path: Path) -> None:
    seeded_port.fail(429, times=2, path="/entities/bulk$", headers={"Retry-After": "0"})
    seeded_port.fail(401, times=1, path="/entities/bulk$")
    messages = [record("issues", make_issue("ACME-1")), state("issues", {"updated": "1"})]

    run = destination(tmp_path, "write", port_config(seeded_port), messages)

    assert run.returncode == 0, run.stdout
    assert run.states() == [{"updated": "1"}]
    assert [c.status for c in seeded_port.calls("POST", "/entities/bulk$")] == [429, 429, 401, 200]
    assert len(seeded_port.calls("POST", "/auth/access_token$")) == 2
    assert "ACME-1" in seeded_port.entities("jiraIssue")


def test_relation_targets_written_later_in_the_checkpoint_when_not_auto_created(
    seeded_port: FakePort, tmp_path: Path
) -> None:
    mapping = (
        (_REPO / "source_jira_port/port/defaults/port-app-config.yaml")
        .read_text()
        .replace("createMissingRelatedEntities: true", "createMissingRelatedEntities: false")
    )
    seeded_port.add_entity("jiraProject", {"identifier": "ACME"})
    for user in ("557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "5b10a2844c20165700ede21g"):
        seeded_port.add_entity("jiraUser", {"identifier": user})
    child = make_issue("ACME-2", parent={"key": "ACME-1"})
    messages = [
        record("issues", child),
        record("issues", make_issue("ACME-1")),
        state("issues", {}),
    ]

    run = destination(tmp_path, "write", port_config(seeded_port, mapping=mapping), messages)

    assert run.returncode == 0, run.stdout
    assert run.states() == [{}]
    assert seeded_port.entities("jiraIssue")["ACME-2"]["relations"]["parentIssue"] == "ACME-1"
    statuses = [c.status for c in seeded_port.calls("POST", "/entities/bulk$")]
    assert statuses == [207, 200]


def test_overwrite_sync_deletes_entities_jira_no_longer_has(
    seeded_port: FakePort, tmp_path: Path
) -> None:
    for key in ("ACME-1", "ACME-2", "ACME-3", "ACME-GONE"):
        seeded_port.add_entity("jiraIssue", {"identifier": key})
    messages = [
        status("issues", _STARTED),
        *(record("issues", make_issue(key)) for key in ("ACME-1", "ACME-2", "ACME-3")),
        state("issues", {"__ab_no_cursor_state_message": True}),
        status("issues", _COMPLETE),
    ]
    config = port_config(seeded_port, delete_missing_entities=True)

    run = destination(tmp_path, "write", config, messages, streams=[("issues", "overwrite")])

    assert run.returncode == 0, run.stdout
    assert set(seeded_port.entities("jiraIssue")) == {"ACME-1", "ACME-2", "ACME-3"}
    [delete] = seeded_port.calls("POST", "/bulk/entities/delete$")
    assert (delete.path, delete.body) == (
        "/v1/blueprints/jiraIssue/bulk/entities/delete",
        {"entities": ["ACME-GONE"]},
    )


def test_overwrite_sync_without_complete_status_deletes_nothing(
    seeded_port: FakePort, tmp_path: Path
) -> None:
    seeded_port.add_entity("jiraIssue", {"identifier": "ACME-GONE"})
    messages = [status("issues", _STARTED), record("issues", make_issue("ACME-1"))]
    config = port_config(seeded_port, delete_missing_entities=True)

    run = destination(tmp_path, "write", config, messages, streams=[("issues", "overwrite")])

    assert run.returncode == 0, run.stdout
    assert "ACME-GONE" in seeded_port.entities("jiraIssue")
    assert any("did not report stream issues COMPLETE" in log for log in run.logs("WARN"))


def test_invalid_record_fails_the_write_naming_key_and_reason(
    seeded_port: FakePort, tmp_path: Path
) -> None:
    messages = [
        record("issues", make_issue("ACME-1")),
        state("issues", {"updated": "1"}),
        record("issues", make_issue("ACME 2")),
        state("issues", {"updated": "2"}),
    ]

    run = destination(tmp_path, "write", port_config(seeded_port), messages)

    assert run.returncode != 0
    assert run.states() == [{"updated": "1"}]
    error = run.error()
    assert "Record ACME 2 of stream issues" in error["message"]
    assert "characters Port does not allow" in error["message"]
    assert error["failure_type"] == "config_error"


def test_invalid_record_is_skipped_with_an_error_log(seeded_port: FakePort, tmp_path: Path) -> None:
    messages = [
        record("issues", make_issue("ACME 2")),
        record("issues", make_issue("ACME-1")),
        state("issues", {"updated": "1"}),
    ]

    run = destination(
        tmp_path, "write", port_config(seeded_port, on_invalid_record="skip"), messages
    )

    assert run.returncode == 0, run.stdout
    assert run.states() == [{"updated": "1"}]
    assert any(
        log.startswith("Skipped record ACME 2 of stream issues") for log in run.logs("ERROR")
    )
    assert set(seeded_port.entities("jiraIssue")) == {"ACME-1"}


def test_ports_rule_is_named_in_the_trace_and_the_log(
    seeded_port: FakePort, tmp_path: Path
) -> None:
    # A blueprint a Port admin changed: a required property the mapping does not send. Only Port
    # can tell (with merge, an absent property keeps Port's value), so Port's detail must show.
    issue = seeded_port.blueprint("jiraIssue") or {}
    issue["schema"]["properties"]["team"] = {"type": "string"}
    issue["schema"]["required"] = ["team"]
    seeded_port.add_blueprint(issue)
    messages = [record("issues", make_issue("ACME-1")), state("issues", {"updated": "1"})]

    failed = destination(tmp_path, "write", port_config(seeded_port), messages)
    skipped = destination(
        tmp_path, "write", port_config(seeded_port, on_invalid_record="skip"), messages
    )

    rule = "entity: must have required property 'team' [required]"
    message = failed.error()["message"]
    assert message.startswith("Record ACME-1 of stream issues cannot be written to Port: Port ")
    assert "entity ACME-1 of blueprint jiraIssue" in message
    assert "entity_does_not_match_blueprint" in message and message.endswith(rule)
    [log] = skipped.logs("ERROR")
    assert log.startswith("Skipped record ACME-1 of stream issues:") and log.endswith(rule)


def _connection_status(run: DestinationRun) -> dict[str, Any]:
    [message] = [m for m in run.messages if m["type"] == "CONNECTION_STATUS"]
    return dict(message["connectionStatus"])


def test_check_succeeds_with_good_credentials(port: FakePort, tmp_path: Path) -> None:
    result = _connection_status(destination(tmp_path, "check", port_config(port)))

    assert result == {"status": "SUCCEEDED"}
    assert port.blueprint("jiraIssue") is None  # check never creates anything


def test_check_fails_with_credentials_of_another_region(tmp_path: Path) -> None:
    with FakePort(client_id="eu-client", client_secret="eu-secret") as eu_port:
        result = _connection_status(destination(tmp_path, "check", port_config(eu_port)))

    assert result["status"] == "FAILED"
    assert "did not accept the credentials (HTTP 401: invalid_credentials" in result["message"]
    assert "US https://api.us.getport.io" in result["message"]


class _NotPort(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = b"<html><body>Not Found</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815

    def log_message(self, *_: Any) -> None:
        pass


def test_check_fails_with_a_url_that_is_not_port(port: FakePort, tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotPort)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = _connection_status(
            destination(tmp_path, "check", port_config(port, port_base_url=url))
        )
    finally:
        server.shutdown()
        server.server_close()

    assert result["status"] == "FAILED"
    assert "does not look like Port's API (HTTP 404" in result["message"]


def _client(port: FakePort) -> PortClient:
    return PortClient(port.base_url, "port-client", PORT_SECRET, sleep=lambda _: None)


def test_fake_port_enforces_bulk_limits(seeded_port: FakePort) -> None:
    client = _client(seeded_port)
    too_many = [{"identifier": f"A-{n}"} for n in range(21)]
    too_big = [{"identifier": "A-1", "title": "x" * (1024 * 1024)}]

    for entities, status_code in ((too_many, 422), (too_big, 413)):
        with pytest.raises(PortApiError) as raised:
            client.upsert_entities(
                "jiraIssue", entities, merge=True, create_missing_related_entities=True
            )
        assert raised.value.status_code == status_code


def test_fake_port_reports_partial_failures_by_index(seeded_port: FakePort) -> None:
    entities = [
        {"identifier": "A-1", "properties": {"status": "Open"}},
        {"identifier": "has space"},
        {"identifier": "A-3", "properties": {"storyPoints": 3}},
        {"identifier": "A-4", "relations": {"parentIssue": "A-404"}},
    ]

    errors = _client(seeded_port).upsert_entities(
        "jiraIssue", entities, merge=True, create_missing_related_entities=False
    )

    assert [(e.index, e.status_code, e.error) for e in errors] == [
        (1, 422, "invalid_request"),
        (2, 422, "entity_does_not_match_blueprint"),
        (3, 404, "not_found"),
    ]
    assert errors[1].details == (
        "property storyPoints: must NOT have additional properties [additionalProperties]"
    )
    assert set(seeded_port.entities("jiraIssue")) == {"A-1"}


def test_fake_port_merge_keeps_unsent_properties_and_replace_drops_them(
    seeded_port: FakePort,
) -> None:
    client = _client(seeded_port)
    first = [{"identifier": "A-1", "properties": {"status": "Open", "priority": "High"}}]
    update = [{"identifier": "A-1", "properties": {"status": "Done"}}]

    client.upsert_entities("jiraIssue", first, merge=True, create_missing_related_entities=True)
    client.upsert_entities("jiraIssue", update, merge=True, create_missing_related_entities=True)
    merged = dict(seeded_port.entities("jiraIssue")["A-1"]["properties"])
    client.upsert_entities("jiraIssue", update, merge=False, create_missing_related_entities=True)

    assert merged == {"status": "Done", "priority": "High"}
    assert seeded_port.entities("jiraIssue")["A-1"]["properties"] == {"status": "Done"}


def test_fake_port_search_paginates_identifiers(seeded_port: FakePort) -> None:
    for n in range(2500):
        seeded_port.add_entity("jiraIssue", {"identifier": f"A-{n:04d}"})

    identifiers = _client(seeded_port).list_identifiers("jiraIssue")

    assert identifiers == [f"A-{n:04d}" for n in range(2500)]
    assert len(seeded_port.calls("POST", "/entities/search$")) == 3
