"""Jira records for the tests: the fixtures and small builders."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def make_issue(key: str, **fields: Any) -> dict[str, Any]:
    """A small Cloud issue record of project ACME (the Cloud fixture without its parent)."""
    issue = copy.deepcopy(load_fixture("cloud_issue_v3.json"))
    issue["key"] = key
    issue["self"] = f"https://acme.atlassian.net/rest/api/3/issue/{key}"
    issue["fields"].pop("parent")
    issue["fields"].update(fields)
    return issue


def make_project(key: str) -> dict[str, Any]:
    return {
        "id": "10000",
        "key": key,
        "name": f"Project {key}",
        "self": "https://acme.atlassian.net/rest/api/3/project/10000",
        "projectTypeKey": "software",
    }
