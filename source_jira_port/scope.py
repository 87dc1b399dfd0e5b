"""The issues a sync covers, as a JQL condition built from the config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def issue_scope_jql(config: Mapping[str, Any]) -> str:
    """Return the `projects` and `jql` options ANDed as JQL, or "" when neither is set."""
    clauses = []
    if config.get("projects"):
        clauses.append("project in (" + ", ".join(f'"{key}"' for key in config["projects"]) + ")")
    if config.get("jql"):
        clauses.append(f"({config['jql']})")
    return " AND ".join(clauses)
