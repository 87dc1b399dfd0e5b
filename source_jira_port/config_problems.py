"""What is wrong with a config, one problem per bad key, each naming the key and a valid example.

Used by the source (`check` and `read` fail with every problem at once, as a `config_error`,
before any request) and by `jira-port`'s sync.yaml (`app/config.py`, keys under `jira.`). The
JSON schema is the connector's spec; what it cannot say (a date that does not exist, a URL that
is no Jira site) is checked after it. Secret values are never quoted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException
from jsonschema import Draft7Validator, ValidationError

from source_jira_port.issue_query import START_DATE_FORMAT
from source_jira_port.jira_site import normalize_url

MANIFEST = Path(__file__).with_name("manifest.yaml")
# libyaml's safe loader where PyYAML has it (8x faster on the manifest), else the Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", type(None): "null"}


@cache
def shipped_manifest_document() -> Mapping[str, Any]:
    """Return the shipped manifest as written (references unresolved), parsed once; read only."""
    document: Mapping[str, Any] = yaml.load(MANIFEST.read_text(), Loader=_YAML_LOADER)  # noqa: S506
    return document


@cache
def source_spec() -> dict[str, Any]:
    """Return the Jira source's connection specification, from the shipped manifest."""
    return dict(shipped_manifest_document()["spec"]["connection_specification"])


@cache
def source_spec_defaults() -> dict[str, Any]:
    """Return the spec's default of each top-level option that has one."""
    properties = source_spec()["properties"]
    return {key: schema["default"] for key, schema in properties.items() if "default" in schema}


def ensure_valid_source_config(config: Mapping[str, Any]) -> None:
    """Raise a `config_error` listing every problem of the source config, if it has any."""
    problems = source_config_problems(config)
    if problems:
        message = "The config is not valid: " + "; ".join(problems)
        raise AirbyteTracedException(
            message=message, internal_message=message, failure_type=FailureType.config_error
        )


def source_config_problems(config: Mapping[str, Any]) -> list[str]:
    """Return the problems of a source config (empty when it is valid)."""
    problems = schema_problems(_source_validator(), config)
    return problems or jira_value_problems(config, "")


@cache
def _source_validator() -> Draft7Validator:
    return Draft7Validator(source_spec())


def schema_problems(validator: Draft7Validator, instance: Any) -> list[str]:
    """Return one problem per key of `instance` that `validator`'s schema rejects."""
    errors = sorted(validator.iter_errors(instance), key=_error_order)
    return list(dict.fromkeys(problem for error in errors for problem in _problems(error)))


def jira_value_problems(jira: Mapping[str, Any], prefix: str) -> list[str]:
    """Return what the spec's schema cannot check in a valid-looking Jira source config.

    `prefix` is the key path of the config (`jira` in sync.yaml, empty in a source config).
    """
    problems = []
    try:
        normalize_url(jira["jira_url"])
    except AirbyteTracedException as error:
        problems.append(f"{join_key(prefix, 'jira_url')}: {error.message}")
    start = jira.get("start_date")
    if start:
        try:
            datetime.strptime(start, START_DATE_FORMAT)
        except ValueError:
            example = _example(source_spec()["properties"]["start_date"])
            problems.append(
                f"{join_key(prefix, 'start_date')}: {json.dumps(start)} is not a date and time "
                f"that exists ({_date_error(start)}){example}"
            )
    return problems


def _date_error(text: str) -> str:
    """Say what is impossible in a date of the right form ("month must be in 1..12")."""
    try:
        datetime.fromisoformat(text.removesuffix("Z"))
    except ValueError as error:
        return str(error)
    return f"expected the form {START_DATE_FORMAT}"


def _problems(error: ValidationError) -> list[str]:
    path = _key_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator in ("oneOf", "anyOf"):
        branch = _chosen_branch(error)
        if branch is None:
            return [_discriminator_problem(error, path)]
        return [problem for sub in branch for problem in _problems(sub)]
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        properties = schema.get("properties", {})
        return [
            f"{join_key(path, name)}: required key is missing{_example(properties.get(name, {}))}"
            for name in missing
        ]
    if error.validator == "additionalProperties":
        known = schema.get("properties", {})
        return [
            f"{join_key(path, name)}: unknown key" for name in error.instance if name not in known
        ]
    return [_value_problem(error, path, schema)]


def _value_problem(error: ValidationError, path: str, schema: Mapping[str, Any]) -> str:
    """Return the problem of a value the schema rejects, with an example of a valid one."""
    if error.validator == "enum":
        return f"{path}: must be one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "type":  # names the value's type, never the value
        problem = _type_problem(path, error.validator_value, error.instance)
    elif schema.get("airbyte_secret"):
        return f"{path}: invalid value (not shown, it is a secret)"
    elif error.validator == "pattern":
        problem = f"{path}: {json.dumps(error.instance)} is not in the expected form"
    else:
        problem = f"{path}: {error.message}"
    return problem + _example(schema)


def _example(schema: Mapping[str, Any]) -> str:
    """Return `, e.g. <the schema's first example>`, or "" for a secret or no example."""
    examples = schema.get("examples") or []
    if not examples or schema.get("airbyte_secret"):
        return ""
    return f", e.g. {json.dumps(examples[0])}"


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
        return _type_problem(path, "object", error.instance) + _example(error.schema)
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
        return f"{join_key(path, name)}: required key is missing ({allowed})"
    return f"{join_key(path, name)}: {allowed}, not {json.dumps(error.instance[name])}"


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
        path = f"{path}[{part}]" if isinstance(part, int) else join_key(path, str(part))
    return path


def join_key(path: str, key: str) -> str:
    """Return the key path `path.key` (just `key` at the top)."""
    return f"{path}.{key}" if path else key
