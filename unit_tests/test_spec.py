import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from source_jira_port.source import SourceJiraPort

_SPEC = SourceJiraPort().spec(logging.getLogger()).connectionSpecification


def _fields(
    properties: Mapping[str, Any], prefix: str = ""
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, field in properties.items():
        yield f"{prefix}{name}", field
        for option in field.get("oneOf", []):
            yield from _fields(option["properties"], f"{prefix}{name}.")


@pytest.mark.parametrize(("path", "field"), list(_fields(_SPEC["properties"])))
def test_every_field_has_title_description_and_examples(
    path: str, field: Mapping[str, Any]
) -> None:
    assert {"title", "description", "examples"} <= set(field), path


def test_every_credential_secret_is_marked() -> None:
    secrets = {path for path, field in _fields(_SPEC["properties"]) if field.get("airbyte_secret")}
    assert secrets == {
        "credentials.api_token",
        "credentials.password",
        "credentials.personal_access_token",
        "credentials.access_token",
    }
