"""Preflight: before the first record, every blueprint has what the mapping writes into it.

The writer creates missing blueprints but never changes one that exists (other teams depend on
them). A blueprint made by an earlier version, or by hand, may lack a property or relation the
mapping writes; Port would then refuse every entity of it, one by one. The preflight finds this
once, before anything is written, and says what to add.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Mapping

from source_jira_port.port.blueprints import (
    Blueprint,
    BlueprintPlan,
    BlueprintSetupError,
    create_planned,
    default_blueprints,
    plan_blueprints,
)
from source_jira_port.port.client import PortClient
from source_jira_port.port.mapping import EntityMapper, ResourceMapping


class MappingMismatchError(BlueprintSetupError):
    """The mapping writes a property or relation that a blueprint in Port lacks."""


@dataclasses.dataclass
class _Written:
    """What the mapping's resources write into one blueprint."""

    kinds: set[str] = dataclasses.field(default_factory=set)
    properties: set[str] = dataclasses.field(default_factory=set)
    relations: set[str] = dataclasses.field(default_factory=set)


def prepare_blueprints(
    client: PortClient,
    mapper: EntityMapper,
    kinds: frozenset[str] | None,
    *,
    create_missing: bool,
    logger: logging.Logger,
) -> dict[str, Blueprint]:
    """Return the blueprints the mapping's resources of `kinds` (None: all) write, as Port has them.

    Missing built-in ones are created (if allowed), but only once the mapping is known to fit
    them all (`check_mapping_fits`), so a mapping that does not fit changes nothing in Port.
    """
    plan = plan_blueprints(client, mapper.blueprints(kinds), create_missing=create_missing)
    resources = [r for r in mapper.app_config.resources if kinds is None or r.kind in kinds]
    check_mapping_fits(client, resources, plan)
    return create_planned(client, plan, logger)


def check_mapping_fits(
    client: PortClient, resources: Iterable[ResourceMapping], plan: BlueprintPlan
) -> None:
    """Raise `MappingMismatchError` unless the planned blueprints take what `resources` write.

    Blueprints the plan creates count with their built-in definitions. A relation target that is
    neither planned nor created is looked up in Port (once).
    """
    expected = plan.expected()
    known: dict[str, bool] = {identifier: True for identifier in expected}

    def has_blueprint(identifier: str) -> bool:
        if identifier not in known:
            known[identifier] = client.get_blueprint(identifier) is not None
        return known[identifier]

    def in_port_now(identifier: str) -> bool:
        return identifier not in plan.to_create and has_blueprint(identifier)

    problems = mapping_problems(resources, expected, has_blueprint, in_port_now)
    if problems:
        raise MappingMismatchError(
            "The mapping does not fit the blueprints in Port, which would refuse every entity "
            "concerned; nothing was written. This writer creates missing blueprints but never "
            "changes one that exists. " + " ".join(problems)
        )


def mapping_problems(
    resources: Iterable[ResourceMapping],
    blueprints: Mapping[str, Blueprint],
    has_blueprint: Callable[[str], bool],
    in_port_now: Callable[[str], bool],
) -> list[str]:
    """Return one message per blueprint that lacks what the mapping writes into it.

    `blueprints` holds every blueprint the resources write to; `has_blueprint` tells whether
    Port has (or the writer creates) a relation's target blueprint, `in_port_now` whether Port
    has it before the writer creates any: a relation a user adds by hand needs that.
    """
    problems = []
    for identifier, written in sorted(_written(resources).items()):
        blueprint = blueprints[identifier]
        properties = blueprint.get("schema", {}).get("properties", {})
        relations = blueprint.get("relations", {})
        lacking = _Written(
            written.kinds,
            written.properties - set(properties),
            written.relations - set(relations),
        )
        if lacking.properties or lacking.relations:
            problems.append(_lacking_message(identifier, blueprint, lacking, in_port_now))
        for name in sorted(written.relations & set(relations)):
            target = relations[name].get("target", "")
            if not has_blueprint(target):
                problems.append(
                    f"Relation {name} of blueprint {identifier} targets blueprint {target}, "
                    "which Port does not have and the writer does not create: create "
                    f"{target} in Port, or remove relations.{name} from the mapping."
                )
    return problems


def _written(resources: Iterable[ResourceMapping]) -> dict[str, _Written]:
    written: dict[str, _Written] = {}
    for resource in resources:
        keys = written.setdefault(resource.blueprint, _Written())
        keys.kinds.add(resource.kind)
        keys.properties.update(resource.properties)
        keys.relations.update(resource.relations)
    return written


def _lacking_message(
    identifier: str,
    blueprint: Blueprint,
    lacking: _Written,
    in_port_now: Callable[[str], bool],
) -> str:
    what = " and ".join(
        f"{kind} {', '.join(sorted(names))}"
        for kind, names in (("properties", lacking.properties), ("relations", lacking.relations))
        if names
    )
    head = (
        f"Blueprint {identifier} in Port lacks the {what} that the mapping writes "
        f"(stream {', '.join(sorted(lacking.kinds))})."
    )
    definition = default_blueprints().get(identifier)
    if definition is None:
        return f"{head} Add them to {identifier} in Port, or remove them from the mapping."
    return " ".join([head, *_builtin_fix(identifier, definition, blueprint, lacking, in_port_now)])


def _builtin_fix(
    identifier: str,
    definition: Blueprint,
    blueprint: Blueprint,
    lacking: _Written,
    in_port_now: Callable[[str], bool],
) -> list[str]:
    """Say what to add to a built-in blueprint: its definitions from `defaults/blueprints.json`."""
    defined_properties = definition["schema"]["properties"]
    defined_relations = definition.get("relations", {})
    unknown = sorted(
        (lacking.properties - set(defined_properties))
        | (lacking.relations - set(defined_relations))
    )
    add = []
    if lacking.properties & set(defined_properties):
        add.append(f"schema.properties {_definitions(defined_properties, lacking.properties)}")
    if lacking.relations & set(defined_relations):
        add.append(f"relations {_definitions(defined_relations, lacking.relations)}")
    fix = []
    if add:
        fix.append(
            f"It was probably made by an earlier version of this writer. Add to {identifier} in "
            f"Port (data model editor, or PATCH /v1/blueprints/{identifier} keeping what it has) "
            f"the {' and the '.join(add)}."
        )
    if unknown:
        fix.append(
            f"{', '.join(unknown)} are not in the built-in {identifier}: add them to {identifier} "
            "in Port, or remove them from the mapping."
        )
    targets = sorted(
        {defined_relations[name]["target"] for name in lacking.relations & set(defined_relations)}
    )
    absent = [target for target in targets if not in_port_now(target)]
    if absent:
        fix.append(
            f"Port refuses a relation whose target blueprint does not exist: create "
            f"{', '.join(absent)} first (definition in source_jira_port/port/defaults/"
            "blueprints.json)."
        )
    clashing = sorted(lacking.relations & set(blueprint.get("schema", {}).get("properties", {})))
    if clashing:
        fix.append(
            f"Removing the old properties {', '.join(clashing)} is optional: the mapping no "
            "longer writes them, and an entity keeps properties and relations apart. Port's "
            "docs do not say whether a blueprint may hold a property and a relation of the same "
            "identifier: if Port refuses to add a relation for that reason, delete the property "
            "of that name first (its values are the Jira ids the relation now carries)."
        )
    return fix


def _definitions(defined: Mapping[str, object], names: set[str]) -> str:
    return json.dumps({name: defined[name] for name in sorted(names & set(defined))})
