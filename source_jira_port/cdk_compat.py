"""Every use of an airbyte-cdk internal, in one place, so a CDK upgrade breaks it here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import (
    ModelToComponentFactory,
)
from pydantic.v1 import BaseModel


def build_component(
    model: type[BaseModel], definition: Mapping[str, Any], config: Mapping[str, Any], **kwargs: Any
) -> Any:
    """Build the manifest component `definition` (of pydantic `model` type) with `config`."""
    return ModelToComponentFactory().create_component(model, dict(definition), config, **kwargs)
