"""Port's formats and identifier rule, as the pre-send check and the mapping's jq read them."""

from __future__ import annotations

import json

import jq
import pytest

from source_jira_port.port.formats import identifier_problem, matches_format
from source_jira_port.port.mapping import JQ_PRELUDE

_PORT_EMAIL = jq.compile(JQ_PRELUDE + "port_email")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("jane.doe@example.com", True),
        ("Jane.Doe@Example.COM", True),  # ajv matches emails case-insensitively
        ("o'brien+jira@sub.example.co.uk", True),
        ("557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", False),
        ("admin@localhost", False),
        ("jane doe@example.com", False),
        ("jane@" + "a" * 64 + ".com", False),  # a domain label is at most 63 characters
        ("", False),
    ],
)
def test_the_check_and_the_mapping_agree_on_emails(value: str, valid: bool) -> None:
    assert matches_format("email", value) is valid
    assert matches_format("user", value) is valid
    assert _PORT_EMAIL.input_text(json.dumps(value)).first() == (value if valid else None)


_PORT_IDENTIFIER = jq.compile(JQ_PRELUDE + "port_identifier")
# ASCII, Latin-1 and some letters and non-letters beyond (digits of other scripts are not 0-9).
_CHARACTERS = [chr(c) for c in range(32, 256)] + list("ßĳ日本語Ωщ٣²₂・—")


@pytest.mark.parametrize("character", _CHARACTERS)
def test_port_identifier_keeps_exactly_the_characters_port_allows(character: str) -> None:
    value = f"a{character}b"
    escaped = _PORT_IDENTIFIER.input_text(json.dumps(value)).first()

    allowed = identifier_problem(value) is None
    assert (escaped == value) is (allowed and character != "=")  # `=` escapes, so is escaped
    assert identifier_problem(escaped) is None
