"""The blueprints a mapping writes to: find them in Port, create the built-in ones if missing."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable
from importlib import resources
from typing import Any

from source_jira_port.port.client import PortClient

Blueprint = dict[str, Any]


class BlueprintSetupError(Exception):
    """A blueprint the mapping needs is missing and will not be created."""


def default_blueprints() -> dict[str, Blueprint]:
    """Return the built-in blueprint definitions by identifier."""
    text = (resources.files(__package__) / "defaults" / "blueprints.json").read_text()
    return {blueprint["identifier"]: blueprint for blueprint in json.loads(text)}


def fetch_blueprints(
    client: PortClient, needed: Iterable[str]
) -> tuple[dict[str, Blueprint], list[str]]:
    """Return the needed blueprints Port has, and the identifiers of those it lacks."""
    found: dict[str, Blueprint] = {}
    missing: list[str] = []
    for identifier in sorted(needed):
        blueprint = client.get_blueprint(identifier)
        if blueprint is None:
            missing.append(identifier)
        else:
            found[identifier] = blueprint
    return found, missing


def check_creatable(missing: Iterable[str], *, create_missing: bool) -> None:
    """Raise `BlueprintSetupError` unless every missing blueprint can be created."""
    missing = sorted(missing)
    if missing and not create_missing:
        raise BlueprintSetupError(
            f"Blueprints {', '.join(missing)} do not exist in Port. Create them in Port or "
            "enable create_missing_blueprints."
        )
    unknown = [identifier for identifier in missing if identifier not in default_blueprints()]
    if unknown:
        raise BlueprintSetupError(
            f"Blueprints {', '.join(unknown)} do not exist in Port and have no built-in "
            "definition. Create them in Port first."
        )


def creation_order(identifiers: Iterable[str]) -> list[str]:
    """Return `identifiers` and the built-in blueprints their relations target, targets first.

    Port refuses a relation whose target blueprint does not exist, so `jiraUser` comes before
    `jiraIssue`, which points at it. A blueprint's relations to itself do not order it.
    """
    definitions = default_blueprints()
    ordered: list[str] = []

    def visit(identifier: str, path: tuple[str, ...]) -> None:
        if identifier in ordered or identifier in path:
            return
        relations = definitions.get(identifier, {}).get("relations", {})
        for target in sorted({relation["target"] for relation in relations.values()}):
            visit(target, (*path, identifier))
        ordered.append(identifier)

    for identifier in sorted(identifiers):
        visit(identifier, ())
    return ordered


def create_blueprints(
    client: PortClient, missing: Iterable[str], logger: logging.Logger
) -> dict[str, Blueprint]:
    """Create built-in blueprints, relation targets first; relations once every one exists."""
    definitions = default_blueprints()
    created: dict[str, Blueprint] = {}
    # Relations may target a blueprint created here, even the blueprint itself (subtasks).
    for identifier in missing:
        created[identifier] = client.create_blueprint({**definitions[identifier], "relations": {}})
        logger.info("Created blueprint %s in Port", identifier)
    for identifier in created:
        relations = definitions[identifier].get("relations")
        if relations:
            created[identifier] = client.patch_blueprint(identifier, {"relations": relations})
    return created


@dataclasses.dataclass(frozen=True)
class BlueprintPlan:
    """The blueprints a sync writes to: those Port has, and the built-in ones to create."""

    found: dict[str, Blueprint]
    to_create: list[str]  # relation targets first

    def expected(self) -> dict[str, Blueprint]:
        """Return every blueprint as Port will have it once the missing ones are created."""
        definitions = default_blueprints()
        return {
            **self.found,
            **{identifier: definitions[identifier] for identifier in self.to_create},
        }


def plan_blueprints(
    client: PortClient, needed: Iterable[str], *, create_missing: bool
) -> BlueprintPlan:
    """Fetch the needed blueprints and decide which to create, without changing Port.

    A missing built-in blueprint brings the blueprints its relations target (`jiraIssue` brings
    `jiraUser`), which are created first when Port lacks them too.
    """
    found, missing = fetch_blueprints(client, needed)
    check_creatable(missing, create_missing=create_missing)
    targets = [i for i in creation_order(missing) if i not in found and i not in missing]
    found_targets, missing_targets = fetch_blueprints(client, targets)
    to_create = {*missing, *missing_targets}
    ordered = [i for i in creation_order(to_create) if i in to_create]
    return BlueprintPlan({**found, **found_targets}, ordered)


def create_planned(
    client: PortClient, plan: BlueprintPlan, logger: logging.Logger
) -> dict[str, Blueprint]:
    """Create the blueprints `plan` lacks; return every planned blueprint as Port has it."""
    return {**plan.found, **create_blueprints(client, plan.to_create, logger)}
