"""spec, check, discover and read through the real command line against the fake Jira."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from integration_tests.fakes.jira_server import CLOUD_API_TOKEN, SERVER_PASSWORD, FakeJira
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli
from integration_tests.support.messages import of_type, records

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]


def _failing_requests(fake: FakeJira) -> int:
    """Requests that sent the credentials (serverInfo is asked anonymously)."""
    return sum(1 for request in fake.requests_log if not request.path.endswith("/serverInfo"))


def test_spec_marks_every_secret(source_cli: SourceCli) -> None:
    code, messages, _ = source_cli.run("spec")
    assert code == 0
    credentials = of_type(messages, "SPEC")[0]["spec"]["connectionSpecification"]["properties"][
        "credentials"
    ]
    secrets = {
        name
        for option in credentials["oneOf"]
        for name, field in option["properties"].items()
        if field.get("airbyte_secret")
    }
    assert secrets == {"api_token", "password", "personal_access_token", "access_token"}


def test_check_succeeds_with_good_credentials_and_projects(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    keys = [project.key for project in fake_jira.dataset.projects]
    code, messages, _ = source_cli.run("check", fake_jira.source_config(projects=keys))
    assert code == 0
    assert of_type(messages, "CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"projects": ["NOPE"]}, "No project could be found with key 'NOPE'"),
        ({"jira_url": "http://127.0.0.1:9"}, "Cannot reach Jira at http://127.0.0.1:9"),
        (
            {"jira_url": "http://127.0.0.1:9", "deployment": "server"},
            "Cannot reach Jira at http://127.0.0.1:9",
        ),
        (
            {"jql": "status = = Done"},
            'jql: Jira rejects "status = = Done": Error in the JQL Query: Expecting either a '
            "value, list or function but got '='. (line 1, character 10)",
        ),
        ({"jql": "flavour = x"}, "Field 'flavour' does not exist"),
        (
            {"start_date": "2024-13-45T00:00:00Z"},
            'start_date: "2024-13-45T00:00:00Z" is not a date and time that exists (month must '
            'be in 1..12), e.g. "2024-01-01T00:00:00Z"',
        ),
        ({"num_workers": "3"}, "num_workers: must be an integer, not a string, e.g. 3"),
        ({"jira_url": "ftp://jira"}, "jira_url: 'ftp://jira' is not a Jira URL"),
        ({"credentials": {"auth_type": "basic"}}, "credentials.username: required key is missing"),
    ],
    ids=[
        "unknown-project",
        "unreachable-host",
        "unreachable-host-explicit-deployment",
        "jql-syntax",
        "jql-unknown-field",
        "impossible-date",
        "wrong-type",
        "bad-url",
        "missing-key",
    ],
)
def test_check_says_what_is_wrong_the_same_way_for_every_cause(
    source_cli: SourceCli, fake_jira: FakeJira, overrides: dict[str, object], expected: str
) -> None:
    code, messages, _ = source_cli.run("check", fake_jira.source_config(**overrides))
    assert code == 0
    assert [m["type"] for m in messages if m["type"] != "LOG"] == ["CONNECTION_STATUS"]
    status = of_type(messages, "CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert expected in status["message"]


def test_check_rejects_a_wrong_secret_without_printing_it(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    config = fake_jira.source_config()
    wrong = "wrong-secret-value"
    secret_key = "api_token" if fake_jira.deployment == "cloud" else "password"
    config["credentials"][secret_key] = wrong

    code, messages, stderr = source_cli.run("check", config)

    assert code == 0
    status = of_type(messages, "CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert "rejected the credentials" in status["message"]
    output = str(messages) + stderr
    assert wrong not in output
    assert CLOUD_API_TOKEN not in output and SERVER_PASSWORD not in output


def test_check_explains_disabled_basic_auth(source_cli: SourceCli) -> None:
    with FakeJira("server", basic_auth_disabled=True) as fake:
        _, messages, _ = source_cli.run("check", fake.source_config())
    status = of_type(messages, "CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert "personal access token" in status["message"]


def test_discover_lists_the_streams_with_keys_and_cursor(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    code, messages, _ = source_cli.run("discover", fake_jira.source_config())
    assert code == 0
    streams = {s["name"]: s for s in of_type(messages, "CATALOG")[0]["catalog"]["streams"]}
    assert set(streams) == {
        *("projects", "issues", "users", "releases", "components", "worklogs"),
        *("boards", "sprints", "epics", "backlog"),
    }
    assert streams["backlog"]["source_defined_primary_key"] == [["__boardId"], ["id"]]
    for agile in ("boards", "sprints", "epics"):
        assert streams[agile]["source_defined_primary_key"] == [["id"]]
        assert streams[agile]["supported_sync_modes"] == ["full_refresh"]
    user_key = "accountId" if fake_jira.deployment == "cloud" else "key"
    assert streams["users"]["source_defined_primary_key"] == [[user_key]]
    assert streams["users"]["supported_sync_modes"] == ["full_refresh"]
    assert streams["issues"]["source_defined_primary_key"] == [["id"]]
    assert streams["issues"]["default_cursor_field"] == ["updated"]
    assert streams["issues"]["supported_sync_modes"] == ["full_refresh", "incremental"]
    assert streams["projects"]["supported_sync_modes"] == ["full_refresh"]
    for name in ("releases", "components"):
        assert streams[name]["source_defined_primary_key"] == [["id"]]
        assert streams[name]["supported_sync_modes"] == ["full_refresh"]


def test_read_returns_every_project_and_issue(source_cli: SourceCli, fake_jira: FakeJira) -> None:
    code, messages, _ = source_cli.run(
        "read", fake_jira.source_config(), configured_catalog("projects", "issues")
    )
    assert code == 0
    assert sorted(p["key"] for p in records(messages, "projects")) == sorted(
        p.key for p in fake_jira.dataset.projects
    )
    issues = records(messages, "issues")
    assert sorted(i["key"] for i in issues) == sorted(fake_jira.dataset.issues)
    assert len({i["id"] for i in issues}) == len(issues)


def test_records_validate_against_the_shipped_schemas(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    _, messages, _ = source_cli.run(
        "read", fake_jira.source_config(), configured_catalog("projects", "issues")
    )
    for stream in ("projects", "issues"):
        schema = json.loads((ROOT / "schemas" / f"{stream}.json").read_text())
        validator = jsonschema.Draft7Validator(schema)
        stream_records = records(messages, stream)
        assert stream_records
        for record in stream_records:
            validator.validate(record)
    description = next(
        i["fields"]["description"]
        for i in records(messages, "issues")
        if i["fields"]["description"]
    )
    assert isinstance(description, dict if fake_jira.deployment == "cloud" else str)


def test_read_limits_to_configured_projects_and_jql(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    project = fake_jira.dataset.projects[0].key
    config = fake_jira.source_config(projects=[project], jql="status != Done")
    code, messages, _ = source_cli.run("read", config, configured_catalog("projects", "issues"))
    assert code == 0
    assert [p["key"] for p in records(messages, "projects")] == [project]
    issues = records(messages, "issues")
    expected = {
        issue.key
        for issue in fake_jira.dataset.issues.values()
        if issue.project_key == project and issue.status.name != "Done"
    }
    assert {i["key"] for i in issues} == expected
    assert all(i["fields"]["status"]["name"] != "Done" for i in issues)


def test_a_bad_jql_costs_one_request_and_points_into_the_users_text(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    project = fake_jira.dataset.projects[0].key
    config = fake_jira.source_config(projects=[project], jql="status = = Done", num_workers=3)
    code, messages, _ = source_cli.run(
        "read", config, configured_catalog("projects", "issues", incremental=True)
    )
    assert code == 1
    assert _failing_requests(fake_jira) == 1
    errors = [
        m["trace"]["error"] for m in of_type(messages, "TRACE") if m["trace"]["type"] == "ERROR"
    ]
    assert {e["failure_type"] for e in errors} == {"config_error"}
    # Character 10 of the user's own text, not of the wrapped query the read sends.
    assert "got '='. (line 1, character 10)" in errors[-1]["message"]
    assert records(messages, "issues") == []
    assert of_type(messages, "STATE") == []


def test_an_impossible_start_date_fails_the_read_before_any_request(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    config = fake_jira.source_config(start_date="2024-13-45T00:00:00Z")
    code, messages, stderr = source_cli.run("read", config, configured_catalog("issues"))
    assert code == 1
    assert fake_jira.requests_log == []
    [error] = [
        m["trace"]["error"] for m in of_type(messages, "TRACE") if m["trace"]["type"] == "ERROR"
    ]
    assert error["failure_type"] == "config_error"
    assert (
        'start_date: "2024-13-45T00:00:00Z" is not a date and time that exists'
        in (error["message"])
    )
    assert "ValueError" not in stderr + json.dumps(messages)


@pytest.mark.parametrize("status", [429, 503])
def test_read_waits_out_rate_limits(
    source_cli: SourceCli, fake_jira: FakeJira, status: int
) -> None:
    fake_jira.inject_failure(status, times=2, retry_after="1")
    code, messages, _ = source_cli.run(
        "read", fake_jira.source_config(), configured_catalog("projects")
    )
    assert code == 0
    assert len(records(messages, "projects")) == len(fake_jira.dataset.projects)


@pytest.mark.parametrize("incremental", [False, True], ids=["first-sync", "next-sync"])
def test_a_wrong_password_costs_at_most_one_request_per_worker_and_no_state(
    source_cli: SourceCli, fake_jira: FakeJira, incremental: bool
) -> None:
    config = fake_jira.source_config(num_workers=3, start_date="2000-01-01T00:00:00Z")
    secret = "api_token" if fake_jira.deployment == "cloud" else "password"
    config["credentials"] = {**config["credentials"], secret: "not-the-secret"}
    state = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "issues"},
                "stream_state": {"updated": "2000-01-02T00:00:00.000+0000"},
            },
        }
    ]
    catalog = configured_catalog("projects", "issues", incremental=True)

    code, messages, _ = source_cli.run("read", config, catalog, state if incremental else None)

    assert code == 1
    assert _failing_requests(fake_jira) <= 3
    assert of_type(messages, "STATE") == []
    errors = [
        m["trace"]["error"] for m in of_type(messages, "TRACE") if m["trace"]["type"] == "ERROR"
    ]
    assert {e["failure_type"] for e in errors} == {"config_error"}
    assert "credentials" in errors[-1]["message"]
    assert "not-the-secret" not in json.dumps(messages)
