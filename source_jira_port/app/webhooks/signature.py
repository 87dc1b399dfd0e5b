"""Jira's webhook signature: `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature"
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """Return the `X-Hub-Signature` value Jira sends for `body` with `secret`."""
    return _PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of the raw `body`, compared in constant time."""
    if not header:
        return False
    # Header values arrive as latin-1 text, so any value encodes; a wrong one simply differs.
    return hmac.compare_digest(
        sign(secret, body).encode(), header.strip().encode("latin-1", "replace")
    )
