"""Port's port-app-config mapping: load it, compile each resource once, map records to entities.

Each resource becomes ONE jq program that evaluates the selector and builds the whole entity,
so a record costs one jq call per resource (compiling per field or per record is 10-300x slower).

Every expression may call two functions that make a Jira value fit Port (`JQ_PRELUDE`):
`port_email` (the value if it is an email address Port takes in an `email`/`user` property, else
null) and `port_identifier` (a string made to pass Port's identifier pattern: each character
Port refuses, and `=` itself, becomes `=` and its UTF-8 bytes in hex, `a b` -> `a=20b`, as in
quoted-printable; "." and ".." become "=2E" and "=2E=2E"; strings that pass are unchanged, so
Cloud accountIds and Jira keys stay as they are, and distinct strings stay distinct).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jq
import orjson
import yaml
from jsonschema import Draft7Validator

from source_jira_port.port.formats import EMAIL_PATTERN, identifier_characters
from source_jira_port.port.kinds import PORT_KIND_OF_STREAM, UnknownKindError, stream_of
from source_jira_port.port.selectors import (
    ALL_FIELDS,
    Selector,
    SelectorError,
    merged_expand,
    merged_fields,
    parse_selector,
    split_names,
)
from source_jira_port.stream_names import BACKLOG, ISSUES

# Streams whose records are Jira issues, read with the source's `issue_fields`.
_ISSUE_RECORDS = frozenset({ISSUES, BACKLOG})

Entity = dict[str, Any]

# A character port_identifier escapes: one Port refuses, or `=`, the escape itself.
_ESCAPED_CHARACTER = "(?<c>[^" + identifier_characters(without="=") + "])"
JQ_PRELUDE = (
    'def port_email: if type == "string" and test('
    + json.dumps(EMAIL_PATTERN)
    + ") then . else null end;\n"
    r"""def port_identifier:
  if type != "string" or . == "" then null
  elif . == "." or . == ".." then gsub("\\."; "=2E")
  else gsub("""
    + json.dumps(_ESCAPED_CHARACTER)
    + r""";
    .c | if . == "~" then "=7E" else @uri | gsub("%"; "=") end)
  end;
"""
)

_JQ = {"type": "string", "minLength": 1}
# Port's comma-separated names, or a list of them.
_NAMES = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
_APP_CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resources"],
    "properties": {
        "createMissingRelatedEntities": {"type": "boolean"},
        "enableMergeEntity": {"type": "boolean"},
        "deleteDependentEntities": {"type": "boolean"},
        "entityDeletionThreshold": {"type": "number", "minimum": 0, "maximum": 1},
        "resources": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["kind", "port"],
                "additionalProperties": False,
                "properties": {
                    "kind": {"type": "string", "minLength": 1},
                    # Which keys a kind takes is checked by `selectors.parse_selector`.
                    "selector": {
                        "type": "object",
                        "properties": {
                            "query": _JQ,
                            "fields": _NAMES,
                            "expand": _NAMES,
                            "jql": {"type": "string"},
                            "includeMembers": {"type": "boolean"},
                        },
                    },
                    "port": {
                        "type": "object",
                        "required": ["entity"],
                        "additionalProperties": False,
                        "properties": {
                            "entity": {
                                "type": "object",
                                "required": ["mappings"],
                                "additionalProperties": False,
                                "properties": {
                                    "mappings": {
                                        "type": "object",
                                        "required": ["identifier", "blueprint"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "identifier": _JQ,
                                            "title": _JQ,
                                            "icon": _JQ,
                                            "team": _JQ,
                                            "blueprint": _JQ,
                                            "properties": {
                                                "type": "object",
                                                "additionalProperties": _JQ,
                                            },
                                            "relations": {
                                                "type": "object",
                                                "additionalProperties": _JQ,
                                            },
                                        },
                                    }
                                },
                            }
                        },
                    },
                },
            },
        },
    },
}
_OPTIONAL_FIELDS = ("title", "icon", "team")
# Keys of Port's `port` section (Ocean's PortResourceConfig) this writer refuses, and why.
_REFUSED_PORT_KEYS = {
    key: "one record maps to at most one entity per resource here; map a list's items from "
    "the stream that has them as records"
    for key in ("itemsToParse", "itemsToParseName", "itemsToParseTopLevelTransform")
}


class MappingError(ValueError):
    """The port-app-config cannot be used (a configuration error)."""


class RecordMappingError(ValueError):
    """The mapping failed on one record, in a resource that writes to `blueprint`."""

    def __init__(self, message: str, blueprint: str) -> None:
        super().__init__(message)
        self.blueprint = blueprint


@dataclasses.dataclass(frozen=True)
class ResourceMapping:
    """One `resources` item: the stream it reads, its blueprint and its jq expressions.

    `kind` is the stream (a kind in Port's naming, such as `issue`, is resolved to it);
    `request` is what its selector asks the source to read.
    """

    kind: str
    blueprint: str
    selector: str
    fields: dict[str, str]
    properties: dict[str, str]
    relations: dict[str, str]
    jql: str | None = None  # `selector.jql`: maps only the issues it matches (`select_by_jql`)
    request: Selector = dataclasses.field(default_factory=Selector)

    def expressions(self) -> dict[str, str]:
        """Return every jq expression by label: selector.query, identifier, properties.<id>..."""
        return {
            "selector.query": self.selector,
            **self.fields,
            **{f"properties.{name}": expr for name, expr in self.properties.items()},
            **{f"relations.{name}": expr for name, expr in self.relations.items()},
        }

    def program_text(self) -> str:
        """Build the single jq program: null when the selector is false, else the entity."""
        fields = {label: _field(label, expr) for label, expr in self.expressions().items()}
        entity = {
            **{name: fields[name] for name in self.fields},
            "properties": _object(fields, "properties."),
            "relations": _object(fields, "relations."),
        }
        return (
            f"{JQ_PRELUDE}{fields['selector.query']} as $__selected\n"
            f"| if $__selected == true then {_object(entity)}\n"
            "elif $__selected == false then null\n"
            'else error("selector.query must return true or false, got " + ($__selected | tojson))'
            " end"
        )


@dataclasses.dataclass(frozen=True)
class PortAppConfig:
    """A parsed port-app-config with Port's defaults for the top-level flags."""

    resources: tuple[ResourceMapping, ...]
    create_missing_related_entities: bool = True
    enable_merge_entity: bool = True
    delete_dependent_entities: bool = True
    entity_deletion_threshold: float = 0.9

    def issue_fields(self) -> str:
        """Return the `fields` the issue search must ask for to serve every issue resource."""
        return merged_fields(r.request for r in self.resources if r.kind in _ISSUE_RECORDS)

    def expand(self, stream: str) -> str:
        """Return the `expand` the resources of `stream` ask Jira for ("" for none)."""
        return merged_expand(r.request for r in self.resources if r.kind == stream)

    def source_reads(self, jira: Mapping[str, Any]) -> dict[str, str]:
        """Return the source options that serve this mapping: issue fields and expand, backlog jql.

        What the source config `jira` sets is kept, and joined with what the issue and backlog
        resources' selectors ask for (`*all` fields when either wants every field). A backlog
        resource's `jql` is ANDed with the `backlog_jql` the config sets.
        """
        selectors = [r.request for r in self.resources if r.kind in _ISSUE_RECORDS]
        if "issue_fields" in jira or not selectors:
            selectors.append(Selector(fields=split_names(jira.get("issue_fields", ALL_FIELDS))))
        selectors.append(Selector(fields=(), expand=split_names(jira.get("issue_expand", ""))))
        reads = {"issue_fields": merged_fields(selectors), "issue_expand": merged_expand(selectors)}
        mapped = self.backlog_jql()
        if mapped is not None:
            given = jira.get("backlog_jql", "")
            both = given and mapped
            reads["backlog_jql"] = f"({given}) AND ({mapped})" if both else given or mapped
        return reads

    def backlog_jql(self) -> str | None:
        """Return the `jql` the backlog resources share (None without a backlog resource)."""
        found = {r.request.backlog_jql for r in self.resources if r.kind == BACKLOG}
        return next(iter(found), "") if found else None


def load_app_config(text: str | None = None) -> PortAppConfig:
    """Parse port-app-config YAML (the built-in default when `text` is None)."""
    if text is None:
        text = (resources.files(__package__) / "defaults" / "port-app-config.yaml").read_text()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise MappingError(f"mapping is not valid YAML: {error}") from error
    refused_keys = [
        f"resources[{index}].port.{key} is not supported: {reason}"
        for index, item in enumerate(_items(raw))
        for key, reason in _REFUSED_PORT_KEYS.items()
        if isinstance(item.get("port"), dict) and key in item["port"]
    ]
    if refused_keys:
        raise MappingError("; ".join(refused_keys))
    errors = list(Draft7Validator(_APP_CONFIG_SCHEMA).iter_errors(raw))
    if errors:
        problems = "; ".join(f"{error.json_path}: {error.message}" for error in errors)
        raise MappingError(f"mapping is not a valid port-app-config: {problems}")
    parsed: list[ResourceMapping] = []
    refused: list[str] = []
    for index, item in enumerate(raw["resources"]):
        try:
            parsed.append(_resource(index, item))
        except (UnknownKindError, SelectorError) as error:
            refused.append(f"resources[{index}]: {error}")
    refused += _backlog_jql_conflicts(parsed)
    if refused:
        raise MappingError("; ".join(refused))
    return PortAppConfig(
        resources=tuple(parsed),
        create_missing_related_entities=raw.get("createMissingRelatedEntities", True),
        enable_merge_entity=raw.get("enableMergeEntity", True),
        delete_dependent_entities=raw.get("deleteDependentEntities", True),
        entity_deletion_threshold=float(raw.get("entityDeletionThreshold", 0.9)),
    )


class EntityMapper:
    """Turns records of a stream into Port entities with the compiled resources of its kind."""

    def __init__(self, app_config: PortAppConfig) -> None:
        self.app_config = app_config
        self._programs = [(r, _compile(index, r)) for index, r in enumerate(app_config.resources)]
        self._jql_matches: Mapping[int, frozenset[str]] | None = None
        self._known_issues: frozenset[str] | None = None

    def issue_jql(self) -> dict[int, str]:
        """Return the `selector.jql` of each issue resource that has one, by resource index."""
        return {i: r.jql for i, r in enumerate(self.app_config.resources) if r.jql is not None}

    def select_by_jql(
        self, matches: Mapping[int, frozenset[str]], known: frozenset[str] | None = None
    ) -> None:
        """Map issues only with the resources whose JQL matches them, from now on.

        `matches` holds, for each resource index of `issue_jql`, the ids of the issues its JQL
        matches. Without this call every resource maps every record (its JQL unchecked).
        `known`: the ids of the issues written before (the source's known set); Port has no
        entity of any other issue to lose. None: any issue may have entities in Port.
        """
        self._jql_matches = matches
        self._known_issues = known

    def _selected_by_jql(self, index: int, record: Mapping[str, Any]) -> bool:
        matches = self._jql_matches
        return matches is None or index not in matches or str(record.get("id")) in matches[index]

    def unselected_by_jql(self, kind: str, record: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Return (blueprint, identifier) of the resources of `kind` whose JQL skips `record`.

        Their entities are Port's no more: the issue left that resource's JQL (or never was in
        it). None for an issue not written before (`select_by_jql`'s `known`): Port has none.
        Raises `RecordMappingError` when an identifier names nothing.
        """
        known = self._known_issues
        if known is not None and str(record.get("id")) not in known:
            return []
        skipped = frozenset(
            index
            for index, (resource, _) in enumerate(self._programs)
            if resource.kind == kind and not self._selected_by_jql(index, record)
        )
        if not skipped:
            return []
        return self.identify(kind, record, only=skipped)

    def kinds(self) -> frozenset[str]:
        """Return the stream names the mapping has resources for."""
        return frozenset(resource.kind for resource in self.app_config.resources)

    def blueprints(self, kinds: frozenset[str] | None = None) -> frozenset[str]:
        """Return the blueprints written by resources of `kinds` (all kinds when None)."""
        return frozenset(
            r.blueprint for r in self.app_config.resources if kinds is None or r.kind in kinds
        )

    def kinds_writing(self, blueprint: str) -> frozenset[str]:
        """Return the streams whose resources write to `blueprint`."""
        return frozenset(r.kind for r in self.app_config.resources if r.blueprint == blueprint)

    def missing_expansions(self, kind: str, record: Mapping[str, Any]) -> list[str]:
        """Return the issue `expand` names the mapping asks for that `record` lacks.

        The source adds them when its `issue_expand` names them (`jira-port sync` sets it from
        the mapping); a source configured separately may not. Project expansions are always read.
        """
        if kind != ISSUES:
            return []
        return [name for name in split_names(self.app_config.expand(kind)) if name not in record]

    def map_record(self, kind: str, record: Mapping[str, Any]) -> list[Entity]:
        """Map a record to the entities of every selected resource of `kind`.

        Raises `RecordMappingError` when jq fails on the record.
        """
        entities = []
        for index, (resource, program) in enumerate(self._programs):
            if resource.kind != kind or not self._selected_by_jql(index, record):
                continue
            try:
                # Every field is wrapped to yield exactly one value, so first() cannot be empty.
                output = program.input_text(_json_text(record)).first()
            except ValueError as error:
                raise RecordMappingError(
                    f"jq failed for blueprint {resource.blueprint}: {error}", resource.blueprint
                ) from error
            if output is not None:
                entities.append(_finish(output, resource.blueprint))
        return entities

    @functools.cached_property
    def _identifier_programs(self) -> list[tuple[ResourceMapping, Any]]:
        return [
            (r, jq.compile(JQ_PRELUDE + r.fields["identifier"])) for r in self.app_config.resources
        ]

    def identify(
        self, kind: str, record: Mapping[str, Any], only: frozenset[int] | None = None
    ) -> list[tuple[str, str]]:
        """Return (blueprint, identifier) for each resource of `kind`, selector not applied.

        For deletion records, which carry only id and key: the entity to delete is whatever the
        identifier expression names. Raises `RecordMappingError` when it names nothing. `only`
        limits it to those resource indexes.
        """
        found = []
        for index, (resource, program) in enumerate(self._identifier_programs):
            if resource.kind != kind or (only is not None and index not in only):
                continue
            try:
                identifier = program.input_value(record).first()
            except (ValueError, StopIteration) as error:
                raise RecordMappingError(
                    f"identifier jq failed for blueprint {resource.blueprint}: {error}",
                    resource.blueprint,
                ) from error
            if not isinstance(identifier, str) or not identifier:
                raise RecordMappingError(
                    f"the identifier of blueprint {resource.blueprint} is {identifier!r} on a "
                    "deletion record (it carries only id and key)",
                    resource.blueprint,
                )
            found.append((resource.blueprint, identifier))
        return found


def _backlog_jql_conflicts(parsed: list[ResourceMapping]) -> list[str]:
    """Backlog resources must share one `jql`: every board's backlog is read once, with it."""
    jqls = {r.request.backlog_jql for r in parsed if r.kind == BACKLOG}
    if len(jqls) <= 1:
        return []
    shown = ", ".join(repr(jql) for jql in sorted(j or "" for j in jqls))
    return [
        f"the backlog resources have different selector.jql ({shown}; absent means Port's "
        "default): the backlog of each board is read once, so give them one jql and put what "
        "differs into selector.query"
    ]


def _items(raw: Any) -> list[dict[str, Any]]:
    """Return the resources of a parsed config that are mappings, whatever else it holds."""
    resources = raw.get("resources") if isinstance(raw, dict) else None
    return (
        [item for item in resources if isinstance(item, dict)]
        if isinstance(resources, list)
        else []
    )


def _resource(index: int, item: Mapping[str, Any]) -> ResourceMapping:
    mappings = item["port"]["entity"]["mappings"]
    try:
        blueprint = json.loads(mappings["blueprint"])
    except json.JSONDecodeError:
        blueprint = None
    if not isinstance(blueprint, str) or not blueprint:
        raise MappingError(
            f"resources[{index}].port.entity.mappings.blueprint must be a jq string literal such "
            f"as '\"jiraIssue\"' (dynamic blueprints are not supported), "
            f"got {mappings['blueprint']}"
        )
    stream = stream_of(item["kind"])
    request = parse_selector(PORT_KIND_OF_STREAM[stream], item.get("selector", {}))
    return ResourceMapping(
        kind=stream,
        blueprint=blueprint,
        jql=item.get("selector", {}).get("jql") if stream == ISSUES else None,
        selector=request.query,
        fields={
            name: mappings[name] for name in ("identifier", *_OPTIONAL_FIELDS) if name in mappings
        },
        properties=dict(mappings.get("properties", {})),
        relations=dict(mappings.get("relations", {})),
        request=request,
    )


def _field(label: str, expr: str) -> str:
    # First output or null (like Port's per-field first()); errors name the field.
    prefix = json.dumps(f"{label}: ")
    return f"(try ([(\n{expr}\n)] | .[0]) catch error({prefix} + (. | tostring)))"


def _object(fields: Mapping[str, str], prefix: str = "") -> str:
    """Build a jq object constructor from the fields whose label starts with `prefix`."""
    items = (
        f"{json.dumps(label.removeprefix(prefix))}: {value}"
        for label, value in fields.items()
        if label.startswith(prefix)
    )
    return "{" + ", ".join(items) + "}"


def _compile(index: int, resource: ResourceMapping) -> Any:
    try:
        return jq.compile(resource.program_text())
    except ValueError as program_error:
        for label, expr in resource.expressions().items():
            try:
                jq.compile(JQ_PRELUDE + expr)
            except ValueError as error:
                raise MappingError(
                    f"resources[{index}] (kind {resource.kind}): {label} is not valid jq: {error}"
                ) from error
        raise MappingError(
            f"resources[{index}] (kind {resource.kind}) is not valid jq: {program_error}"
        ) from program_error


def _finish(output: dict[str, Any], blueprint: str) -> Entity:
    entity = {k: v for k, v in output.items() if not (k in _OPTIONAL_FIELDS and v is None)}
    entity["blueprint"] = blueprint
    return entity


def _json_text(record: Mapping[str, Any]) -> str:
    """Return `record` as JSON for jq: orjson, ~7x faster than `input_value`'s json.dumps.

    json.dumps remains for what orjson refuses (integers beyond 64 bits).
    """
    try:
        return orjson.dumps(record).decode()
    except orjson.JSONEncodeError:
        return json.dumps(record)
