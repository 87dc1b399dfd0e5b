"""Counts of what a PortWriter did in Port, per blueprint, for progress and summaries."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class BlueprintCounts:
    """Entities of one blueprint: upserts that created or updated one, deletions, failures."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0
    # Bare entities Port made for relation targets (`create_missing_related_entities`) that this
    # sync then wrote in full: neither created nor updated by a record of their own.
    placeholders: int = 0
    # Relation targets of a blueprint no stream of the mapping writes (`jiraUser` until a users
    # stream exists) that this sync referred to: Port holds them as bare entities.
    bare: int = 0


class WriteStats:
    """Per-blueprint counts, updated by the writer as Port confirms each bulk request.

    An entity written twice in one sync (changed again, or re-read at the cursor) counts twice.
    """

    def __init__(self) -> None:
        self.blueprints: dict[str, BlueprintCounts] = {}
        # Records skipped under `on_invalid_record: skip` that the state remembers, to be
        # retried by the next sync until Port takes them or Jira deletes them.
        self.pending_retry = 0

    def of(self, blueprint: str) -> BlueprintCounts:
        """Return the counts of `blueprint`, starting at zero."""
        return self.blueprints.setdefault(blueprint, BlueprintCounts())

    @property
    def written(self) -> int:
        """Entities Port accepted so far (created, updated, placeholders), over all blueprints."""
        return sum(
            counts.created + counts.updated + counts.placeholders
            for counts in self.blueprints.values()
        )
