"""Port's string formats and identifier rule: for the pre-send check, the mapping, the fake.

Port documents the formats by example, not by grammar (docs `build-your-software-catalog/
customize-integrations/configure-data-model/setup-blueprint/properties`: `email`, `user` ("the
input is the same in both email and user formats"), `url`, `date-time` "ISO 8601"). Port
validates with JSON Schema formats; where the docs are silent these are the strictest plausible
readings (ajv-formats' `fast` email, RFC 3339 date-time with a zone, absolute http(s) URL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime

# ajv-formats' `fast` email (one @, a dotted domain of hostname labels; ajv matches it
# case-insensitively). jq reads it too, so the letters are spelled out: jq's `"i"` flag makes
# Oniguruma fold cases at every call, 20 times the cost of the whole match (~0.85 ms a record).
EMAIL_PATTERN = (
    r"^[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-zA-Z0-9]"
    r"(?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_EMAIL = re.compile(EMAIL_PATTERN)
_URL = re.compile(r"^https?://[^\s/?#@]+(?:[/?#]\S*)?$", re.IGNORECASE)
_DATE_TIME = re.compile(
    r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:?\d\d)$",
)

# Port's identifier pattern is ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$, at most 1000 characters
# (docs `create-an-entity`). str.isalpha() is exactly \p{L}.
_IDENTIFIER_MAX_LENGTH = 1000
_IDENTIFIER_PUNCTUATION = "@_.+:\\/=-"
_IDENTIFIER_SYMBOLS = frozenset("0123456789" + _IDENTIFIER_PUNCTUATION)

# What each format expects, in the words an error message uses.
FORMAT_NAMES = {
    "email": "an email address",
    "user": "an email address",
    "url": "an absolute http(s) URL",
    "date-time": "an ISO 8601 date-time with a time zone",
}


def _is_email(value: str) -> bool:
    return _EMAIL.match(value) is not None


def _is_url(value: str) -> bool:
    return _URL.match(value) is not None


def _is_date_time(value: str) -> bool:
    if _DATE_TIME.match(value) is None:
        return False
    try:
        # Also refuses impossible dates such as 2024-13-45 that the pattern lets through.
        datetime.fromisoformat(value[:19])
    except ValueError:
        return False
    return True


FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {
    "email": _is_email,
    "user": _is_email,
    "url": _is_url,
    "date-time": _is_date_time,
}


def matches_format(name: str, value: str) -> bool:
    """Whether the string `value` is valid in Port's format `name` (unknown formats pass)."""
    check = FORMAT_CHECKS.get(name)
    return check is None or check(value)


def identifier_problem(identifier: object) -> str | None:
    """Why `identifier` is not a valid Port entity identifier, or None if it is."""
    if not isinstance(identifier, str) or not identifier:
        return f"missing identifier (the mapping produced {json.dumps(identifier)})"
    if len(identifier) > _IDENTIFIER_MAX_LENGTH:
        return f"identifier is longer than {_IDENTIFIER_MAX_LENGTH} characters"
    if identifier in (".", ".."):
        return f"identifier {identifier!r} is not allowed"
    invalid = sorted({c for c in identifier if not _identifier_character(c)})
    if invalid:
        return (
            f"identifier {identifier!r} contains characters Port does not allow: "
            f"{''.join(invalid)!r} (allowed: letters, digits and {_IDENTIFIER_PUNCTUATION})"
        )
    return None


def is_identifier(value: object) -> bool:
    """Whether `value` passes Port's entity identifier pattern and length."""
    return identifier_problem(value) is None


def identifier_characters(*, without: str = "") -> str:
    r"""Return the characters an identifier may hold, less `without`, as a regex class's inside.

    For Oniguruma (jq's regexes), which has `\p{L}` for letters.
    """
    symbols = sorted(_IDENTIFIER_SYMBOLS - set(without))
    return "\\p{L}" + "".join("\\" + c if c in "[]^-\\" else c for c in symbols)


def _identifier_character(character: str) -> bool:
    return character.isalpha() or character in _IDENTIFIER_SYMBOLS
