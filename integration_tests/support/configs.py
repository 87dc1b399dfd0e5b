"""Configs: the source's for a mocked Jira site, and a `jira-port` sync.yaml for the fakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort

CLOUD_URL = "https://acme.atlassian.net"
SERVER_URL = "https://jira.example.com/jira"
SECRET = "s3cr3t-value-never-logged"
PORT_SECRET = "port-secret"


def cloud_config(**overrides: Any) -> dict[str, Any]:
    """A Jira Cloud source config (API token) for `CLOUD_URL`, with `overrides`."""
    config: dict[str, Any] = {
        "jira_url": CLOUD_URL,
        "deployment": "cloud",
        "credentials": {"auth_type": "api_token", "email": "bot@example.com", "api_token": SECRET},
        "start_date": "2024-01-01T00:00:00Z",
    }
    return config | overrides


def server_config(**overrides: Any) -> dict[str, Any]:
    """A Jira Server source config (basic auth) for `SERVER_URL`, with `overrides`."""
    config: dict[str, Any] = {
        "jira_url": SERVER_URL,
        "deployment": "server",
        "credentials": {"auth_type": "basic", "username": "bot", "password": SECRET},
        "start_date": "2024-01-01T00:00:00Z",
    }
    return config | overrides


def port_config(port: FakePort, **overrides: Any) -> dict[str, Any]:
    """A destination config for a fake Port whose client secret is `PORT_SECRET`."""
    return {
        "port_client_id": "port-client",
        "port_client_secret": PORT_SECRET,
        "port_base_url": port.base_url,
        **overrides,
    }


def write_config(
    folder: Path, jira: FakeJira, port: FakePort, *, mapping: str | None = None, **jira_extra: Any
) -> Path:
    """Write `folder/sync.yaml` for the two fakes (state in `state.json`); return its path.

    `mapping`: the Port section's port-app-config (default: the built-in one).
    """
    document = {
        "jira": jira.source_config(start_date="2023-01-01T00:00:00Z", **jira_extra),
        "port": port_config(port, **({"mapping": mapping} if mapping else {})),
        "state_file": "state.json",
    }
    path = folder / "sync.yaml"
    path.write_text(yaml.safe_dump(document))
    return path
