from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from source_jira_port.app.config import EXAMPLE, ConfigError, load_job, validate

_SECRET = "tok-3x4mple"


def _document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "jira": {
            "jira_url": "https://acme.atlassian.net",
            "credentials": {
                "auth_type": "api_token",
                "email": "bot@acme.com",
                "api_token": _SECRET,
            },
        },
        "port": {"port_client_id": "id", "port_client_secret": "port-s3cret"},
    }
    return {**document, **overrides}


def _write(tmp_path: Path, content: Any, name: str = "sync.yaml") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def test_valid_file_gives_the_source_config_port_settings_and_state_path(tmp_path: Path) -> None:
    job = load_job(_write(tmp_path, _document(), "prod.yaml"))

    assert job.jira["credentials"]["api_token"] == _SECRET
    assert job.port.client_id == "id"
    assert job.port.batch_size == 20  # defaults from the Port spec
    assert job.state_path == tmp_path / "prod.state.json"
    assert set(job.secrets) == {_SECRET, "port-s3cret"}
    assert _SECRET not in repr(job)


def test_state_file_is_relative_to_the_config_file(tmp_path: Path) -> None:
    job = load_job(_write(tmp_path, _document(state_file="state/jira.json")))

    assert job.state_path == tmp_path / "state" / "jira.json"


def test_environment_references_are_expanded(tmp_path: Path) -> None:
    document = _document()
    document["jira"]["credentials"]["api_token"] = "${JIRA_TOKEN}"
    env = {"JIRA_TOKEN": "from-env"}

    job = load_job(_write(tmp_path, document), env)

    assert job.jira["credentials"]["api_token"] == "from-env"
    assert "from-env" in job.secrets


def test_missing_environment_variable_names_the_key(tmp_path: Path) -> None:
    document = _document()
    document["port"]["port_client_secret"] = "${PORT_SECRET}"

    with pytest.raises(ConfigError, match=r"port\.port_client_secret: environment variable "):
        load_job(_write(tmp_path, document), {})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d["jira"]["credentials"].pop("api_token"),
            "jira.credentials.api_token: required key is missing",
        ),
        (lambda d: d.pop("port"), "port: required key is missing"),
        (
            lambda d: d["jira"]["credentials"].update(auth_type="kerberos"),
            "jira.credentials.auth_type: must be one of api_token, basic, "
            'personal_access_token, oauth2, not "kerberos"',
        ),
        (
            lambda d: d["jira"]["credentials"].pop("auth_type"),
            "jira.credentials.auth_type: required key is missing (must be one of api_token, "
            "basic, personal_access_token, oauth2)",
        ),
        (
            lambda d: d["jira"].update(credentials="user:pass"),
            "jira.credentials: must be an object, not a string",
        ),
        (
            lambda d: d["port"].update(batch_size="20"),
            "port.batch_size: must be an integer, not a string",
        ),
        (lambda d: d["port"].update(batch_size=50), "port.batch_size: 50 is greater than"),
        (lambda d: d["jira"].update(projetcs=["A"]), "jira.projetcs: unknown key"),
        (lambda d: d.update(state="x.json"), "state: unknown key"),
        (
            lambda d: d["jira"].update(projects=["OK", "9X"]),
            'jira.projects[1]: "9X" is not in the expected form, e.g. "PROJ"',
        ),
        (
            lambda d: d["jira"].update(start_date="2024-13-45T00:00:00Z"),
            'jira.start_date: "2024-13-45T00:00:00Z" is not a date and time that exists',
        ),
        (
            lambda d: d["jira"].update(start_date="2024-01-01"),
            'jira.start_date: "2024-01-01" is not in the expected form, e.g. '
            '"2024-01-01T00:00:00Z"',
        ),
        (
            lambda d: d["jira"].update(num_workers="3"),
            "jira.num_workers: must be an integer, not a string, e.g. 3",
        ),
        (
            lambda d: d["port"].update(on_invalid_record="ignore"),
            "port.on_invalid_record: must be one of fail, skip",
        ),
        (lambda d: d["jira"].update(jira_url="ftp://x"), "jira.jira_url: 'ftp://x' is not a Jira"),
        (lambda d: d["port"].update(mapping="resources: [{kind: issues}]"), "port.mapping: "),
    ],
)
def test_each_problem_names_its_key(change: Any, problem: str) -> None:
    document = _document()
    change(document)

    problems = validate(document)

    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_all_problems_are_reported_together_without_secret_values(tmp_path: Path) -> None:
    document = _document()
    document["jira"]["credentials"]["api_token"] = 12345
    document["port"]["batch_size"] = 0

    with pytest.raises(ConfigError) as raised:
        load_job(_write(tmp_path, document))

    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'sync.yaml'}: ")
    assert "jira.credentials.api_token: must be a string, not an integer" in message
    assert "port.batch_size: 0 is less than the minimum of 1" in message
    assert "12345" not in message


def test_secret_values_are_not_quoted_in_pattern_errors() -> None:
    document = _document()
    document["port"]["port_client_secret"] = ""

    assert validate(document) == [
        "port.port_client_secret: invalid value (not shown, it is a secret)"
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("jira: [unclosed\n", "is not valid YAML: "),
        ("- a list\n", "expected a mapping with the keys jira, port and state_file"),
        ("", "expected a mapping"),
    ],
)
def test_unparsable_files_are_config_errors(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_job(_write(tmp_path, content))


def test_yaml_errors_give_the_position_but_not_the_text(tmp_path: Path) -> None:
    path = _write(tmp_path, f"jira: {{api_token: {_SECRET}\nport: [\n")

    with pytest.raises(ConfigError) as raised:
        load_job(path)

    assert "(line " in str(raised.value)
    assert _SECRET not in str(raised.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read .*nope\.yaml"):
        load_job(tmp_path / "nope.yaml")


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    env = {"JIRA_API_TOKEN": "t", "PORT_CLIENT_ID": "i", "PORT_CLIENT_SECRET": "s"}

    job = load_job(_write(tmp_path, EXAMPLE), env)

    assert job.state_path == tmp_path / "sync.state.json"
