"""The one write path into Port: records to entities, checked, batched, sent, each outcome named.

`PortWriter` (Airbyte messages) and `WebhookApplier` (webhook events) both write through an
`EntityApplier`: the mapping turns a record into entities, the pre-send check refuses what Port
would refuse, entities go to Port in bulk requests of one blueprint within Port's limits, and
each entity gets an `EntityOutcome`. What to do with an outcome (skip the record, fail the sync,
keep the event queued) is the caller's.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from source_jira_port.port.client import EntityError, PortClient, bulk_chunks
from source_jira_port.port.config import PortSettings
from source_jira_port.port.mapping import Entity, EntityMapper, RecordMappingError
from source_jira_port.port.preflight import prepare_blueprints
from source_jira_port.port.transport import PortApiError, is_transient
from source_jira_port.port.validation import EntityValidator

# Statuses of a whole request that Port refuses for its content (docs `create-multiple-entities`:
# 413, 422; 400 for a body Port cannot read): sent one entity at a time, the others go through.
_REFUSED_REQUEST = frozenset({400, 413, 422})
# A bulk request to a blueprint Port does not have.
_NO_BLUEPRINT = 404
# An entity-level timeout: retried like the transient statuses.
_ENTITY_TIMEOUT = 408

_Sent = TypeVar("_Sent")


class Outcome(StrEnum):
    """What became of one entity sent to Port."""

    CREATED = "created"  # upserted; Port did not have it
    UPDATED = "updated"  # upserted; Port had it (or created it bare as a relation target)
    DELETED = "deleted"  # deleted, or Port did not have it
    REFUSED = "refused"  # Port refuses it for good (a 4xx about it); `reason` says why
    MISSING_TARGET = "missing_target"  # a relation target is not in Port yet (see `_upserted`)
    NO_BLUEPRINT = "no_blueprint"  # Port has no such blueprint now: prepare them, then retry
    RETRY = "retry"  # not taken now (unreachable, 5xx, 429, 408, auth): send it again later


@dataclasses.dataclass(frozen=True)
class EntityOutcome:
    """One entity's outcome; `reason` and `status_code` (Port's HTTP status) for failures."""

    outcome: Outcome
    reason: str = ""
    status_code: int | None = None

    @property
    def done(self) -> bool:
        """Whether Port now has what was sent (created, updated, deleted)."""
        return self.outcome in (Outcome.CREATED, Outcome.UPDATED, Outcome.DELETED)


class InvalidEntityError(RecordMappingError):
    """A record maps to an entity Port would refuse; the message is the pre-send check's reason."""


class EntityApplier:
    """Maps, checks and sends entities to Port with one mapping, blueprint set and batch size.

    `send_upserts` and `send_deletes` make one request's worth and raise `PortApiError` when the
    request fails as a whole (for callers that fail on it, or run requests concurrently);
    `upsert` and `delete` take any number, of any blueprints, and never raise `PortApiError`:
    every entity gets its outcome, and a request Port refuses as a whole is sent again one
    entity at a time, so only the entity at fault is refused.
    """

    def __init__(
        self,
        client: PortClient,
        mapper: EntityMapper,
        validator: EntityValidator,
        *,
        batch_size: int,
    ) -> None:
        self.client = client
        self.mapper = mapper
        self.validator = validator
        self._batch_size = batch_size

    @classmethod
    def prepare(
        cls,
        client: PortClient,
        mapper: EntityMapper,
        kinds: frozenset[str] | None,
        *,
        settings: PortSettings,
        logger: logging.Logger,
    ) -> EntityApplier:
        """Ensure the blueprints the mapping's resources of `kinds` (None: all) write; check them.

        Raises what `prepare_blueprints` raises (`BlueprintSetupError`, `PortApiError`).
        """
        blueprints = prepare_blueprints(
            client,
            mapper,
            kinds,
            create_missing=settings.create_missing_blueprints,
            logger=logger,
        )
        return cls(client, mapper, EntityValidator(blueprints), batch_size=settings.batch_size)

    def entities(self, kind: str, record: Mapping[str, Any]) -> list[Entity]:
        """Map a record of stream `kind` to its entities, each checked against its blueprint.

        Raises `RecordMappingError` when jq fails, and `InvalidEntityError` (a subclass) for the
        first entity Port would refuse.
        """
        entities = self.mapper.map_record(kind, record)
        for entity in entities:
            problem = self.validator.problem(entity)
            if problem:
                raise InvalidEntityError(problem, entity["blueprint"])
        return entities

    def deletions(self, kind: str, record: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Return the (blueprint, identifier) pairs that deleting a record of `kind` removes.

        Each resource of `kind` names one by its identifier expression, selector not applied, so
        a record that carries little more than its key (a CDC deletion record, say) is enough.
        Raises `RecordMappingError` when an expression names nothing.
        """
        return self.mapper.identify(kind, record)

    def chunks(self, entities: Sequence[Entity]) -> list[range]:
        """Split entities of one blueprint into bulk requests within the batch size and Port's."""
        return bulk_chunks(entities, self._batch_size)

    def send_upserts(self, blueprint: str, entities: Sequence[Entity]) -> list[EntityOutcome]:
        """Upsert one bulk request (a chunk); return each entity's outcome, in order."""
        app = self.mapper.app_config
        result = self.client.upsert_entities(
            blueprint,
            entities,
            merge=app.enable_merge_entity,
            create_missing_related_entities=app.create_missing_related_entities,
        )
        errors = {error.index: error for error in result}
        return [
            self._upserted(entity, errors.get(index), created=index in result.created)
            for index, entity in enumerate(entities)
        ]

    def send_deletes(self, blueprint: str, identifiers: Sequence[str]) -> list[EntityOutcome]:
        """Delete entities of one blueprint (the client splits them into bulk requests)."""
        self.client.delete_entities(
            blueprint,
            identifiers,
            delete_dependents=self.mapper.app_config.delete_dependent_entities,
        )
        return [EntityOutcome(Outcome.DELETED)] * len(identifiers)

    def upsert(self, entities: Sequence[Entity]) -> list[EntityOutcome]:
        """Upsert entities of any blueprints, blueprint by blueprint; outcomes in input order."""
        outcomes: dict[int, EntityOutcome] = {}
        for blueprint, indexes in _by_blueprint(e["blueprint"] for e in entities).items():
            group = [entities[index] for index in indexes]
            for chunk in self.chunks(group):
                part = group[chunk.start : chunk.stop]
                sent = self._isolating(self.send_upserts, blueprint, part)
                outcomes.update(zip(indexes[chunk.start : chunk.stop], sent, strict=True))
        return [outcomes[index] for index in range(len(entities))]

    def delete(self, targets: Sequence[tuple[str, str]]) -> list[EntityOutcome]:
        """Delete (blueprint, identifier) targets, blueprint by blueprint; outcomes in order."""
        outcomes: dict[tuple[str, str], EntityOutcome] = {}
        for blueprint, indexes in _by_blueprint(blueprint for blueprint, _ in targets).items():
            identifiers = list(dict.fromkeys(targets[index][1] for index in indexes))
            sent = self._isolating(self.send_deletes, blueprint, identifiers)
            outcomes.update(zip(((blueprint, i) for i in identifiers), sent, strict=True))
        return [outcomes[target] for target in targets]

    def _isolating(
        self,
        send: Callable[[str, list[_Sent]], list[EntityOutcome]],
        blueprint: str,
        items: list[_Sent],
    ) -> list[EntityOutcome]:
        try:
            return send(blueprint, items)
        except PortApiError as error:
            if len(items) > 1 and error.status_code in _REFUSED_REQUEST:
                return [o for item in items for o in self._isolating(send, blueprint, [item])]
            return [_request_failed(error)] * len(items)

    def _upserted(
        self, entity: Entity, error: EntityError | None, *, created: bool
    ) -> EntityOutcome:
        if error is None:
            return EntityOutcome(Outcome.CREATED if created else Outcome.UPDATED)
        # Port's rule (which property, which check) is in `details`; its message is generic.
        detail = f": {error.details}" if error.details else ""
        reason = (
            f"Port rejected entity {entity['identifier']} of blueprint {entity['blueprint']} "
            f"(HTTP {error.status_code} {error.error}): {error.message}{detail}"
        )
        status = error.status_code
        if (
            not self.mapper.app_config.create_missing_related_entities
            and status == 404
            and error.error == "not_found"
        ):
            # Port's answer for a relation target it lacks (as Port's Ocean reads it).
            return EntityOutcome(Outcome.MISSING_TARGET, reason, status)
        if 400 <= status < 500 and status != _ENTITY_TIMEOUT and not is_transient(status):
            return EntityOutcome(Outcome.REFUSED, reason, status)
        return EntityOutcome(Outcome.RETRY, reason, status)


def _request_failed(error: PortApiError) -> EntityOutcome:
    """Return the outcome of each entity of a request that failed as a whole."""
    status = error.status_code
    if status in _REFUSED_REQUEST:
        outcome = Outcome.REFUSED
    elif status == _NO_BLUEPRINT:
        outcome = Outcome.NO_BLUEPRINT
    else:
        outcome = Outcome.RETRY
    return EntityOutcome(outcome, str(error), status)


def _by_blueprint(blueprints: Iterable[str]) -> dict[str, list[int]]:
    """Group positions by blueprint, in order of first appearance."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, blueprint in enumerate(blueprints):
        groups[blueprint].append(index)
    return groups
