"""Checks an entity against Port's identifier rules and its blueprint before it is sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft7Validator, FormatChecker, ValidationError

from source_jira_port.port.formats import FORMAT_CHECKS, FORMAT_NAMES, identifier_problem
from source_jira_port.port.limits import MAX_REQUEST_BYTES
from source_jira_port.port.transport import encode_json


def _format_checker() -> FormatChecker:
    """Port's formats for jsonschema, which hands a format any value (it applies to strings)."""
    checker = FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
    return checker


_FORMAT_CHECKER = _format_checker()
# Room for the bulk request envelope around a single entity.
_MAX_ENTITY_BYTES = MAX_REQUEST_BYTES - 64


class EntityValidator:
    """Validates entities against the blueprints they are written to (fetched once).

    It applies the fake Port's rules (`integration_tests/fakes/port_server.py`, from Port's docs):
    types, formats (`port.formats`), array items, enums, properties required and sent as null,
    relations (defined, one or many, identifiers). A problem names the property and the rule.
    """

    def __init__(self, blueprints: Mapping[str, Mapping[str, Any]]) -> None:
        self.blueprints = blueprints
        schemas = {name: _properties_schema(blueprint) for name, blueprint in blueprints.items()}
        self._property_validators = {
            identifier: Draft7Validator(schema, format_checker=_FORMAT_CHECKER)
            for identifier, schema in schemas.items()
        }
        self._plain_checks = {
            identifier: _plain_checks(schema) for identifier, schema in schemas.items()
        }

    def problem(self, entity: Mapping[str, Any]) -> str | None:
        """Why Port would reject `entity`, or None."""
        blueprint = self.blueprints.get(entity["blueprint"])
        if blueprint is None:
            return f"blueprint {entity['blueprint']} is not known"
        return (
            identifier_problem(entity.get("identifier"))
            or _title_problem(entity)
            or self._properties_problem(entity)
            or _relations_problem(blueprint, entity.get("relations", {}))
            or _size_problem(entity)
        )

    def _properties_problem(self, entity: Mapping[str, Any]) -> str | None:
        properties = entity.get("properties", {})
        if _passes(self._plain_checks[entity["blueprint"]], properties):
            return None
        validator = self._property_validators[entity["blueprint"]]
        errors = validator.iter_errors(properties)
        messages = sorted(_property_message(error) for error in errors)
        return f"blueprint {entity['blueprint']}: " + "; ".join(messages) if messages else None


# JSON Schema types a value passes without the validator: Python types, bool apart from numbers.
_PLAIN_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
_Format = Callable[[str], bool] | None
# Per property: the types its value may have (None always may), its enum, its format, its items'
# types and format.
_PlainCheck = tuple[
    tuple[type, ...], frozenset[str] | None, _Format, tuple[type, ...] | None, _Format
]


def _plain_checks(schema: Mapping[str, Any]) -> dict[str, _PlainCheck] | None:
    """Return checks equal to `schema` for the common cases, or None if it needs the validator.

    `_passes` accepts only what the validator accepts; anything else goes to the validator,
    which also words the problem. About 20 times faster than the validator on a valid entity.
    """
    checks: dict[str, _PlainCheck] = {}
    for name, definition in schema["properties"].items():
        if "allOf" in definition:  # a required property: left to the validator
            return None
        [kind, _] = definition["type"]
        items = definition.get("items", {})
        item_kind = items.get("type")
        enum = definition.get("enum")
        if kind not in _PLAIN_TYPES or (item_kind and item_kind not in _PLAIN_TYPES):
            return None
        if "enum" in items:
            return None
        if enum is not None and (
            kind != "string" or not all(isinstance(v, str) for v in enum if v is not None)
        ):
            return None
        checks[name] = (
            _PLAIN_TYPES[kind],
            None if enum is None else frozenset(v for v in enum if v is not None),
            FORMAT_CHECKS.get(definition.get("format", "")),
            _PLAIN_TYPES[item_kind] if item_kind else None,
            FORMAT_CHECKS.get(items.get("format", "")),
        )
    return checks


def _passes(checks: dict[str, _PlainCheck] | None, properties: Any) -> bool:
    """Whether `properties` certainly passes the schema `checks` were made from."""
    if checks is None or not isinstance(properties, dict):
        return False
    for name, value in properties.items():
        check = checks.get(name)
        if check is None or (value is not None and not _value_passes(check, value)):
            return False
    return True


def _value_passes(check: _PlainCheck, value: Any) -> bool:
    types, enum, fmt, item_types, item_fmt = check
    if not _is_a(value, types) or (enum is not None and value not in enum):
        return False
    if fmt is not None and isinstance(value, str) and not fmt(value):
        return False
    if item_types is not None and not all(_is_a(item, item_types) for item in value):
        return False
    return item_fmt is None or all(not isinstance(item, str) or item_fmt(item) for item in value)


def _is_a(value: Any, types: tuple[type, ...]) -> bool:
    return isinstance(value, types) and (bool not in types) == (not isinstance(value, bool))


def _properties_schema(blueprint: Mapping[str, Any]) -> dict[str, Any]:
    properties = {}
    for name, definition in blueprint.get("schema", {}).get("properties", {}).items():
        schema: dict[str, Any] = {"type": [definition["type"], "null"]}
        if "enum" in definition:
            schema["enum"] = [*definition["enum"], None]
        if "format" in definition:
            schema["format"] = definition["format"]
        items = definition.get("items")
        if isinstance(items, Mapping):
            schema["items"] = {k: items[k] for k in ("type", "format", "enum") if k in items}
        properties[name] = schema
    required = blueprint.get("schema", {}).get("required", [])
    # Only a required property sent as null is certainly refused: with merge, an absent one
    # keeps the value Port has.
    not_null = {"not": {"type": "null"}}
    properties = {
        name: {"allOf": [schema, not_null]} if name in required else schema
        for name, schema in properties.items()
    }
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _title_problem(entity: Mapping[str, Any]) -> str | None:
    title = entity.get("title", "")
    return None if isinstance(title, str) else f"title must be a string, got {json.dumps(title)}"


def _size_problem(entity: Mapping[str, Any]) -> str | None:
    size = len(encode_json(entity))
    return (
        f"entity is {size} bytes, over Port's 1 MiB request limit"
        if size > _MAX_ENTITY_BYTES
        else None
    )


def _property_message(error: ValidationError) -> str:
    """`property <name>: <value> <broken rule>`, the rule in Port's words where it has some."""
    path = list(error.absolute_path)
    if not path:
        return f"{error.message} (not a property of the blueprint)"
    where = f"property {path[0]}" + "".join(f" item {part}" for part in path[1:])
    if error.validator == "format":
        fmt = str(error.validator_value)
        return (
            f"{where}: {json.dumps(error.instance)} is not {FORMAT_NAMES.get(fmt, fmt)} "
            f"(format {fmt})"
        )
    if error.validator == "not":
        return f"{where}: is required and must not be null"
    return f"{where}: {error.message} ({error.validator})"


def _relations_problem(blueprint: Mapping[str, Any], relations: Mapping[str, Any]) -> str | None:
    definitions = blueprint.get("relations", {})
    for name, value in relations.items():
        definition = definitions.get(name)
        if definition is None:
            return f"relation {name} is not a relation of blueprint {blueprint['identifier']}"
        if definition.get("many"):
            valid = value is None or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            )
            expected = "an array of identifiers"
        else:
            valid = value is None or isinstance(value, str)
            expected = "one identifier"
        if not valid:
            return f"relation {name} must be {expected} or null, got {json.dumps(value)}"
        targets = value if isinstance(value, list) else [value]
        for target in targets:
            problem = None if target is None else identifier_problem(target)
            if problem:
                return f"relation {name}: {problem}"
        if definition.get("required") and value in (None, []):
            return f"relation {name} is required and must not be null"
    return None
