"""sync.yaml: read it, expand `${VAR}` references, and validate it against the connectors' specs.

The file has a `jira` section (the source config, manifest.yaml's spec), a `port` section (the
destination config, `port.config.SPEC`) and an optional `state_file` (see `EXAMPLE`). Unknown
keys are errors (a typo would otherwise be ignored silently), and every error names its key
path, such as `jira.credentials.api_token`, without quoting secret values.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets
from jsonschema import Draft7Validator

from source_jira_port.config_problems import (
    jira_value_problems,
    join_key,
    schema_problems,
    source_spec,
)
from source_jira_port.port.config import SPEC, PortSettings
from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config

EXAMPLE = """\
jira:                 # the Jira source config (`source-jira-port spec`)
  jira_url: https://acme.atlassian.net
  credentials: {auth_type: api_token, email: bot@acme.com, api_token: "${JIRA_API_TOKEN}"}
port:                 # the Port destination config (`destination-port spec`)
  port_client_id: "${PORT_CLIENT_ID}"
  port_client_secret: "${PORT_CLIENT_SECRET}"
state_file: sync.state.json   # optional; default <file name>.state.json
"""
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# The optional `webhooks` section, read by `jira-port webhooks serve|register`.
WEBHOOKS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "secret": {"type": "string", "minLength": 1, "airbyte_secret": True},
        "host": {"type": "string", "minLength": 1},
        "port": {"type": "integer", "minimum": 0, "maximum": 65535},
        "queue_path": {"type": "string", "minLength": 1},
        "url": {"type": "string", "pattern": "^https?://[^/]+"},
        "jql": {"type": "string", "minLength": 1},
        "max_body_bytes": {"type": "integer", "minimum": 1024},
    },
}


class ConfigError(Exception):
    """The sync.yaml cannot be used; the message names the file and the key paths."""


@dataclasses.dataclass(frozen=True)
class SyncJob:
    """A validated sync.yaml: the source config, the Port settings and the state file."""

    path: Path
    jira: dict[str, Any] = dataclasses.field(repr=False)
    port: PortSettings
    state_path: Path
    secrets: tuple[str, ...] = dataclasses.field(repr=False)
    webhooks: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


def load_job(path: Path, env: Mapping[str, str] = os.environ) -> SyncJob:
    """Read and validate a sync.yaml; raise `ConfigError` naming every bad key."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {_yaml_problem(error)}") from error
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping with the keys jira, port and state_file")
    document = _expand(document, "", env, path)
    problems = validate(document)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    port = PortSettings.from_config(document["port"])
    # The source reads what the mapping's selectors ask for (issue fields and expand).
    reads = load_app_config(port.mapping).source_reads(document["jira"])
    return SyncJob(
        path=path,
        jira={**document["jira"], **reads},
        port=port,
        state_path=path.parent
        / Path(document.get("state_file", f"{path.stem}.state.json")).expanduser(),
        secrets=tuple(
            str(secret)
            for spec, section in (
                (source_spec(), document["jira"]),
                (SPEC, document["port"]),
                (WEBHOOKS_SCHEMA, document.get("webhooks", {})),
            )
            for secret in get_secrets(spec, section)
        ),
        webhooks=document.get("webhooks", {}),
    )


def validate(document: Mapping[str, Any]) -> list[str]:
    """Return the problems of a parsed sync.yaml (empty when it is valid), one per bad key."""
    return schema_problems(_validator(), document) or _semantic_problems(document)


@cache
def _validator() -> Draft7Validator:
    def closed(spec: Mapping[str, Any]) -> dict[str, Any]:
        schema = {key: value for key, value in spec.items() if key != "$schema"}
        return {**schema, "additionalProperties": False}

    return Draft7Validator(
        {
            "type": "object",
            "required": ["jira", "port"],
            "additionalProperties": False,
            "properties": {
                "jira": closed(source_spec()),
                "port": closed(SPEC),
                "state_file": {"type": "string", "minLength": 1},
                "webhooks": WEBHOOKS_SCHEMA,
            },
        }
    )


def _semantic_problems(document: Mapping[str, Any]) -> list[str]:
    """Check what the schemas cannot: the Jira URL and dates, and the Port mapping."""
    problems = jira_value_problems(document["jira"], "jira")
    try:
        EntityMapper(load_app_config(document["port"].get("mapping") or None))
    except MappingError as error:
        problems.append(f"port.mapping: {error}")
    return problems


def _yaml_problem(error: yaml.YAMLError) -> str:
    # The problem and its position only: the snippet YAML quotes may hold a secret.
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or "cannot be parsed"
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def _expand(value: Any, path: str, env: Mapping[str, str], file: Path) -> Any:
    """Replace `${VAR}` in every string with the environment variable's value."""
    if isinstance(value, dict):
        return {
            key: _expand(item, join_key(path, str(key)), env, file) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_expand(item, f"{path}[{n}]", env, file) for n, item in enumerate(value)]
    if not isinstance(value, str):
        return value

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(f"{file}: {path}: environment variable {name} is not set")
        return env[name]

    return _ENV_REFERENCE.sub(variable, value)
