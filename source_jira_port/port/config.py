"""Settings of the Port destination: the connector spec and its validated, typed form."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from jsonschema import Draft7Validator

from source_jira_port.port.limits import MAX_BULK_ENTITIES

EU_BASE_URL = "https://api.getport.io"
US_BASE_URL = "https://api.us.getport.io"


class InvalidRecordPolicy(StrEnum):
    """What to do with a record that cannot become a valid Port entity."""

    FAIL = "fail"
    SKIP = "skip"


SPEC: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Port Destination Spec",
    "type": "object",
    "required": ["port_client_id", "port_client_secret"],
    "properties": {
        "port_client_id": {
            "type": "string",
            "title": "Port Client ID",
            "description": "Client ID of your Port organization (Port: ... menu > Credentials).",
            "examples": ["hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"],
            "minLength": 1,
            "order": 0,
        },
        "port_client_secret": {
            "type": "string",
            "title": "Port Client Secret",
            "description": "Client secret that belongs to the client ID.",
            "examples": ["<your Port client secret>"],
            "airbyte_secret": True,
            "minLength": 1,
            "order": 1,
        },
        "port_base_url": {
            "type": "string",
            "title": "Port API URL",
            "description": (
                f"Port API of your organization's region: EU {EU_BASE_URL} (default) or US "
                f"{US_BASE_URL}. Credentials only work in their own region."
            ),
            "default": EU_BASE_URL,
            "examples": [EU_BASE_URL, US_BASE_URL],
            "pattern": "^https?://[^/]+",
            "order": 2,
        },
        "mapping": {
            "type": "string",
            "title": "Mapping (port-app-config YAML)",
            "description": (
                "Port's port-app-config YAML: `resources` of `kind` (the Airbyte stream: projects, "
                "issues; or Port's Jira kinds project, issue), `selector.query` (jq boolean; "
                "Port's other selector keys as the README's table says) and "
                "`port.entity.mappings` (identifier, "
                "title, blueprint as a jq string literal, properties, relations as jq), plus "
                "createMissingRelatedEntities, enableMergeEntity, deleteDependentEntities and "
                "entityDeletionThreshold. Empty: the built-in mapping onto the jiraProject, "
                "jiraUser and jiraIssue blueprints: assignee and reporter relate to jiraUser by "
                "Cloud `accountId` or Server `key`; creator is an email address or null."
            ),
            "examples": [
                "resources:\n  - kind: projects\n    selector:\n      query: 'true'\n    port:\n"
                "      entity:\n        mappings:\n          identifier: .key\n"
                "          title: .name\n          blueprint: '\"jiraProject\"'\n"
            ],
            "multiline": True,
            "order": 3,
        },
        "create_missing_blueprints": {
            "type": "boolean",
            "title": "Create Missing Blueprints",
            "description": (
                "Create the built-in blueprints (jiraProject, jiraUser, jiraIssue) when Port lacks "
                "them. Blueprints that exist are never changed."
            ),
            "default": True,
            "examples": [True],
            "order": 4,
        },
        "batch_size": {
            "type": "integer",
            "title": "Batch Size",
            "description": (
                f"Entities per bulk request (Port accepts at most {MAX_BULK_ENTITIES}, and 1 MiB)."
            ),
            "default": MAX_BULK_ENTITIES,
            "minimum": 1,
            "maximum": MAX_BULK_ENTITIES,
            "examples": [MAX_BULK_ENTITIES],
            "order": 5,
        },
        "concurrency": {
            "type": "integer",
            "title": "Concurrent Requests",
            "description": (
                "Bulk requests sent to Port at the same time. Each takes a round trip to Port, "
                "so this bounds the write rate: about concurrency x "
                f"{MAX_BULK_ENTITIES} entities per round trip."
            ),
            "default": 8,
            "minimum": 1,
            "maximum": 10,
            "examples": [8],
            "order": 6,
        },
        "delete_missing_entities": {
            "type": "boolean",
            "title": "Delete Entities Missing From Jira",
            "description": (
                "On a full-refresh (overwrite) sync, delete the Port entities of the stream's "
                "blueprints that the sync did not produce. Only runs when the whole stream was "
                "read (the source reported it COMPLETE) and none of its records failed."
            ),
            "default": False,
            "examples": [False],
            "order": 7,
        },
        "entity_deletion_threshold": {
            "type": "number",
            "title": "Entity Deletion Threshold",
            "description": (
                "Safety limit like Port's entityDeletionThreshold: deletion is skipped (with an "
                "error log) when it would remove more than this fraction of a blueprint's "
                "entities. The lower of this and the mapping's entityDeletionThreshold applies."
            ),
            "default": 0.9,
            "minimum": 0,
            "maximum": 1,
            "examples": [0.9],
            "order": 8,
        },
        "on_invalid_record": {
            "type": "string",
            "title": "On Invalid Record",
            "description": (
                "A record the mapping cannot turn into a valid entity, or that Port rejects: "
                "`fail` stops the sync naming the record key and reason (no later state is "
                "committed); `skip` logs an error line per record (key and reason), counts it, "
                "keeps its id in the state so that every later sync retries it by id until Port "
                "takes it or Jira deletes it, and disables deletion of missing entities for that "
                "stream."
            ),
            "enum": [policy.value for policy in InvalidRecordPolicy],
            "default": InvalidRecordPolicy.FAIL.value,
            "examples": ["fail", "skip"],
            "order": 9,
        },
    },
}

_SECRET_KEYS = frozenset(
    key for key, schema in SPEC["properties"].items() if schema.get("airbyte_secret")
)


@dataclasses.dataclass(frozen=True)
class PortSettings:
    """The destination config, validated against `SPEC` with defaults filled in."""

    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    base_url: str
    mapping: str | None
    create_missing_blueprints: bool
    batch_size: int
    concurrency: int
    delete_missing_entities: bool
    entity_deletion_threshold: float
    on_invalid_record: InvalidRecordPolicy

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PortSettings:
        """Validate an Airbyte config; raise a `config_error` naming every invalid key."""
        errors = sorted(Draft7Validator(SPEC).iter_errors(config), key=lambda e: list(e.path))
        if errors:
            problems = "; ".join(_describe(error.path, error.message) for error in errors)
            raise AirbyteTracedException(
                message=f"Invalid Port destination configuration: {problems}",
                failure_type=FailureType.config_error,
            )
        values = {
            key: config.get(key, schema.get("default"))
            for key, schema in SPEC["properties"].items()
        }
        return cls(
            client_id=values["port_client_id"],
            client_secret=values["port_client_secret"],
            base_url=values["port_base_url"].rstrip("/"),
            mapping=values["mapping"] or None,
            create_missing_blueprints=values["create_missing_blueprints"],
            batch_size=values["batch_size"],
            concurrency=values["concurrency"],
            delete_missing_entities=values["delete_missing_entities"],
            entity_deletion_threshold=float(values["entity_deletion_threshold"]),
            on_invalid_record=InvalidRecordPolicy(values["on_invalid_record"]),
        )


def _describe(path: Any, message: str) -> str:
    key = str(path[0]) if path else "config"
    # jsonschema quotes the offending value, which must not leak for secrets.
    return f"{key}: invalid value" if key in _SECRET_KEYS else f"{key}: {message}"
