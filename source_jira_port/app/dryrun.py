"""`--dry-run`: map the records as a sync would and print the entities, touching nothing.

Entities are validated like the writer does, against the built-in blueprint definitions (other
blueprints only by identifier: their definitions live in Port, which a dry run does not ask).
A deletion record (`_ab_cdc_deleted_at`) prints the entity it would delete:
`{"operation": "delete", "blueprint", "identifier"}` in JSON lines, `delete` in the table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Literal, TextIO

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

from source_jira_port import cdc
from source_jira_port.app.progress import SyncProgress
from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.formats import identifier_problem
from source_jira_port.port.mapping import Entity, EntityMapper, RecordMappingError
from source_jira_port.port.validation import EntityValidator

OutputFormat = Literal["jsonl", "table"]
_TITLE_WIDTH = 60

logger = logging.getLogger("airbyte")


class DryRun:
    """Prints the entities the records map to, on `out`, as JSON lines or as a table."""

    def __init__(
        self, mapper: EntityMapper, progress: SyncProgress, out: TextIO, output: OutputFormat
    ) -> None:
        self._mapper = mapper
        self._progress = progress
        self._out = out
        self._table = output == "table"
        self._known = default_blueprints()
        self._validator = EntityValidator(self._known)
        self._width = max(len("BLUEPRINT"), *(len(b) for b in mapper.blueprints()))

    def run(self, messages: Iterable[AirbyteMessage]) -> None:
        """Map every record of a mapped stream; count and log the ones that would fail."""
        if self._table:
            self._out.write(f"OPERATION  {'BLUEPRINT':<{self._width}}  {'IDENTIFIER':<16}  TITLE\n")
        kinds = self._mapper.kinds()
        for message in messages:
            record = message.record
            if message.type == Type.RECORD and record is not None and record.stream in kinds:
                self._map(record)
        self._out.flush()

    def _map(self, record: AirbyteRecordMessage) -> None:
        if record.data.get(cdc.DELETED_AT):
            self._delete(record)
            return
        try:
            entities = self._mapper.map_record(record.stream, record.data)
        except RecordMappingError as error:
            self._fail(record, error.blueprint, str(error))
            return
        for entity in entities:
            blueprint = entity["blueprint"]
            problem = (
                self._validator.problem(entity)
                if blueprint in self._known
                else identifier_problem(entity.get("identifier"))
            )
            if problem:
                self._fail(record, blueprint, problem)
                continue
            self._progress.mapped[blueprint] += 1
            self._out.write(self._format(entity) + "\n")

    def _delete(self, record: AirbyteRecordMessage) -> None:
        try:
            targets = self._mapper.identify(record.stream, record.data)
        except RecordMappingError as error:
            self._fail(record, error.blueprint, str(error))
            return
        for blueprint, identifier in targets:
            self._progress.deletions[blueprint] += 1
            if self._table:
                self._out.write(self._row("delete", blueprint, identifier, "") + "\n")
                continue
            deletion = {"operation": "delete", "blueprint": blueprint, "identifier": identifier}
            self._out.write(json.dumps(deletion, ensure_ascii=False) + "\n")

    def _format(self, entity: Entity) -> str:
        if not self._table:
            return json.dumps(entity, ensure_ascii=False)
        title = str(entity.get("title") or "")
        if len(title) > _TITLE_WIDTH:
            title = title[: _TITLE_WIDTH - 1] + "…"
        return self._row("upsert", entity["blueprint"], entity["identifier"], title)

    def _row(self, operation: str, blueprint: str, identifier: str, title: str) -> str:
        return f"{operation:<9}  {blueprint:<{self._width}}  {identifier:<16}  {title}".rstrip()

    def _fail(self, record: AirbyteRecordMessage, blueprint: str, reason: str) -> None:
        self._progress.stats.of(blueprint).failed += 1
        key = record.data.get("key") or record.data.get("id")
        logger.error("Record %s of stream %s would fail: %s", key, record.stream, reason)
