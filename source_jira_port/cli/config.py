"""sync.yaml: read it, expand `${VAR}` references, and validate it against the connectors' specs.

The file has a `jira` section (the source config, manifest.yaml's spec), a `port` section (the
destination config, `port.config.SPEC`) and an optional `state_file` (see `EXAMPLE`). Unknown
keys are errors (a typo would otherwise be ignored silently), and every error names its key
path, such as `jira.credentials.api_token`, without quoting secret values.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from airbyte_cdk.utils import AirbyteTracedException
from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets
from jsonschema import Draft7Validator, ValidationError

from source_jira_port.port.config import SPEC, PortSettings
from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config
from source_jira_port.site import normalize_url
from source_jira_port.source import MANIFEST

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
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", type(None): "null"}
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


@cache
def source_spec() -> dict[str, Any]:
    """Return the Jira source's connection specification, from the shipped manifest."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    return dict(manifest["spec"]["connection_specification"])


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
    return SyncJob(
        path=path,
        jira=document["jira"],
        port=PortSettings.from_config(document["port"]),
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
    errors = _validator().iter_errors(document)
    problems = [p for e in sorted(errors, key=_error_order) for p in _problems(e)]
    if not problems:
        problems = _semantic_problems(document)
    return list(dict.fromkeys(problems))


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
    """Check what the schemas cannot: the Jira URL's form and the Port mapping."""
    problems = []
    try:
        normalize_url(document["jira"]["jira_url"])
    except AirbyteTracedException as error:
        problems.append(f"jira.jira_url: {error.message}")
    try:
        EntityMapper(load_app_config(document["port"].get("mapping") or None))
    except MappingError as error:
        problems.append(f"port.mapping: {error}")
    return problems


def _problems(error: ValidationError) -> list[str]:
    path = _key_path(error.absolute_path)
    if error.validator in ("oneOf", "anyOf"):
        branch = _chosen_branch(error)
        if branch is None:
            return [_discriminator_problem(error, path)]
        return [problem for sub in branch for problem in _problems(sub)]
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return [f"{_join(path, name)}: required key is missing" for name in missing]
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        return [f"{_join(path, name)}: unknown key" for name in error.instance if name not in known]
    if error.validator == "type":
        problem = _type_problem(path, error.validator_value, error.instance)
    elif error.validator == "enum":
        problem = f"{path}: must be one of {', '.join(map(str, error.validator_value))}"
    elif isinstance(error.schema, dict) and error.schema.get("airbyte_secret"):
        problem = f"{path}: invalid value (not shown, it is a secret)"
    else:
        problem = f"{path}: {error.message}"
    return [problem]


def _chosen_branch(error: ValidationError) -> list[ValidationError] | None:
    """Return the errors of the one `oneOf` branch whose `const` keys (auth_type) match."""
    by_branch: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context or ():
        by_branch[sub.relative_schema_path[0]].append(sub)
    chosen = [
        errors for errors in by_branch.values() if all(e.validator != "const" for e in errors)
    ]
    return chosen[0] if len(chosen) == 1 else None


def _discriminator_problem(error: ValidationError, path: str) -> str:
    if not isinstance(error.instance, dict):
        return _type_problem(path, "object", error.instance)
    options: dict[str, list[str]] = defaultdict(list)
    for branch in error.validator_value:
        for name, schema in branch.get("properties", {}).items():
            if "const" in schema:
                options[name].append(str(schema["const"]))
    if not options:
        return f"{path}: does not match any of the allowed forms"
    name, values = next(iter(options.items()))
    allowed = f"must be one of {', '.join(values)}"
    if name not in error.instance:
        return f"{_join(path, name)}: required key is missing ({allowed})"
    return f"{_join(path, name)}: {allowed}, not {json.dumps(error.instance[name])}"


def _type_problem(path: str, expected: str | Sequence[str], value: Any) -> str:
    wanted = expected if isinstance(expected, str) else " or ".join(expected)
    article = "an" if wanted[0] in "aeiou" else "a"
    return f"{path}: must be {article} {wanted}, not {_json_type(value)}"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    return _JSON_TYPES.get(type(value), "a value")


def _error_order(error: ValidationError) -> list[str]:
    return [str(part) for part in error.absolute_path]


def _key_path(parts: Sequence[Any]) -> str:
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return path


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _yaml_problem(error: yaml.YAMLError) -> str:
    # The problem and its position only: the snippet YAML quotes may hold a secret.
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or "cannot be parsed"
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def _expand(value: Any, path: str, env: Mapping[str, str], file: Path) -> Any:
    """Replace `${VAR}` in every string with the environment variable's value."""
    if isinstance(value, dict):
        return {key: _expand(item, _join(path, str(key)), env, file) for key, item in value.items()}
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
