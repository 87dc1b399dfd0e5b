"""A stub of Port's client in memory, and the writer on it: unit tests of the write path."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from importlib import resources
from typing import Any

import yaml
from airbyte_cdk.models import AirbyteMessage, Type

from integration_tests.support.catalogs import catalog
from integration_tests.support.messages import state_value
from source_jira_port.port.apply import EntityApplier
from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.client import BulkResult, EntityError
from source_jira_port.port.config import PortSettings
from source_jira_port.port.mapping import EntityMapper, load_app_config
from source_jira_port.port.transport import PortApiError
from source_jira_port.port.validation import EntityValidator
from source_jira_port.port.writer import PortWriter


class StubPort:
    """In-memory PortClient: stores entities, applies Port's missing-relation-target rule."""

    def __init__(self) -> None:
        self.entities: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.bulk_calls: list[tuple[str, list[str], dict[str, bool]]] = []
        self.deleted: list[tuple[str, list[str]]] = []
        self.rejections: dict[str, tuple[int, str, str] | tuple[int, str, str, str]] = {}
        self.fail_on_call: int | None = None

    def upsert_entities(
        self, blueprint: str, entities: list[dict[str, Any]], **flags: bool
    ) -> BulkResult:
        self.bulk_calls.append((blueprint, [e["identifier"] for e in entities], flags))
        if self.fail_on_call == len(self.bulk_calls):
            raise PortApiError("Port answered HTTP 500", 500)
        errors, created = [], []
        for index, entity in enumerate(entities):
            identifier = entity["identifier"]
            if identifier in self.rejections:
                errors.append(EntityError(index, identifier, *self.rejections[identifier]))
            elif not flags["create_missing_related_entities"] and self._missing_target(entity):
                errors.append(EntityError(index, identifier, 404, "not_found", "Entity not found"))
            else:
                if identifier not in self.entities[blueprint]:
                    created.append(index)
                self.entities[blueprint][identifier] = entity
        return BulkResult(errors, created)

    def _missing_target(self, entity: dict[str, Any]) -> bool:
        parent = entity.get("relations", {}).get("parentIssue")
        return parent is not None and parent not in self.entities["jiraIssue"]

    def list_identifiers(self, blueprint: str) -> list[str]:
        return list(self.entities[blueprint])

    def delete_entities(self, blueprint: str, identifiers: list[str], **_: bool) -> None:
        self.deleted.append((blueprint, list(identifiers)))
        for identifier in identifiers:
            self.entities[blueprint].pop(identifier, None)  # like PortClient: missing = gone


def port_writer(
    port: StubPort,
    mapping: str | None = None,
    streams: tuple[tuple[str, str], ...] = (("projects", "append"), ("issues", "append_dedup")),
    **config: Any,
) -> PortWriter:
    """A `PortWriter` on `port` with the default blueprints and `config` (a destination config)."""
    settings = PortSettings.from_config(
        {"port_client_id": "i", "port_client_secret": "s", **config}
    )
    applier = EntityApplier(
        port,  # type: ignore[arg-type]
        EntityMapper(load_app_config(mapping)),
        EntityValidator(default_blueprints()),
        batch_size=settings.batch_size,
    )
    return PortWriter(
        applier,
        settings=settings,
        catalog=catalog(*streams),
        logger=logging.getLogger("airbyte"),
    )


def yielded_states(output: Iterator[AirbyteMessage]) -> list[dict[str, Any]]:
    """The stream states of the STATE messages a write yields, in order."""
    return [state_value(message) for message in output if message.type == Type.STATE]


def default_mapping_without(kind: str) -> str:
    """The default port-app-config YAML without its resources of `kind`."""
    config = yaml.safe_load(
        resources.files("source_jira_port.port")
        .joinpath("defaults/port-app-config.yaml")
        .read_text()
    )
    config["resources"] = [r for r in config["resources"] if r["kind"] != kind]
    return str(yaml.safe_dump(config))
