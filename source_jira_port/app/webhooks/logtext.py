"""Text from a request, bounded before it reaches a log line or an error answer."""

from __future__ import annotations

# Long enough for any key, id or event name Jira sends; a delivery cannot flood the log.
LOG_TEXT_LIMIT = 120


def capped(text: object) -> str:
    """Return `text` as printable text of at most `LOG_TEXT_LIMIT` characters (repr-escaped)."""
    shown = text if isinstance(text, str) and text.isprintable() else repr(text)
    if len(shown) <= LOG_TEXT_LIMIT:
        return shown
    return f"{shown[:LOG_TEXT_LIMIT]}... ({len(shown)} characters)"
