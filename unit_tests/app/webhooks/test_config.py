from __future__ import annotations

from pathlib import Path

import pytest

from source_jira_port.app.config import ConfigError
from source_jira_port.app.webhooks.config import load_webhooks_job

_SYNC = """
jira:
  jira_url: https://acme.atlassian.net
  credentials: {auth_type: api_token, email: bot@acme.com, api_token: "${JIRA_TOKEN}"}
port:
  port_client_id: id
  port_client_secret: "${PORT_SECRET}"
"""
_ENV = {"JIRA_TOKEN": "jira-token", "PORT_SECRET": "port-secret", "HOOK_SECRET": "hook-secret"}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sync.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_webhooks_section(tmp_path: Path) -> None:
    job = load_webhooks_job(_write(tmp_path, _SYNC), _ENV)

    assert job.jira["credentials"]["api_token"] == "jira-token"
    assert job.port.client_secret == "port-secret"
    settings = job.webhooks
    assert (settings.host, settings.port, settings.secret) == ("127.0.0.1", 8080, None)
    assert settings.queue_path == tmp_path / "sync.webhooks.sqlite"
    assert settings.max_body_bytes == 1024 * 1024


def test_the_webhooks_section_is_read_with_variables_expanded(tmp_path: Path) -> None:
    text = _SYNC + (
        "webhooks:\n  secret: ${HOOK_SECRET}\n  host: 0.0.0.0\n  port: 9000\n"
        "  queue_path: data/q.sqlite\n  url: https://hooks.example.com/webhooks/jira\n"
        "  jql: project = BSD\n"
    )

    settings = load_webhooks_job(_write(tmp_path, text), _ENV).webhooks

    assert (settings.secret, settings.host, settings.port) == ("hook-secret", "0.0.0.0", 9000)
    assert settings.queue_path == tmp_path / "data" / "q.sqlite"
    assert (settings.url, settings.jql) == (
        "https://hooks.example.com/webhooks/jira",
        "project = BSD",
    )
    assert "hook-secret" not in repr(settings)


def test_every_bad_key_is_named_without_quoting_secrets(tmp_path: Path) -> None:
    text = _SYNC.replace("port_client_id: id\n", "") + (
        "webhooks:\n  secret: 12345\n  port: 70000\n  colour: blue\n  url: ftp://x\n"
    )

    with pytest.raises(ConfigError) as raised:
        load_webhooks_job(_write(tmp_path, text), _ENV)

    message = str(raised.value)
    for expected in (
        "port.port_client_id: required key is missing",
        "webhooks.secret: must be a string, not an integer",
        "webhooks.port:",
        "webhooks.colour: unknown key",
        "webhooks.url:",
    ):
        assert expected in message
    assert "12345" not in message


def test_unreadable_and_invalid_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_webhooks_job(tmp_path / "missing.yaml", _ENV)
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_webhooks_job(_write(tmp_path, "jira: [\n"), _ENV)
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_webhooks_job(_write(tmp_path, "- a\n"), _ENV)
