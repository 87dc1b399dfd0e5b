"""Jira records for the tests: the fixtures, small builders, and the seed's expected entity."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from integration_tests.support.configs import CLOUD_URL
from source_jira_port.port.blueprints import default_blueprints

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    """The JSON fixture `name` of `FIXTURES`."""
    fixture: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return fixture


def make_issue(key: str, **fields: Any) -> dict[str, Any]:
    """A small Cloud issue record of project ACME (the Cloud fixture without its parent)."""
    issue = copy.deepcopy(load_fixture("cloud_issue_v3.json"))
    issue["key"] = key
    issue["self"] = f"https://acme.atlassian.net/rest/api/3/issue/{key}"
    issue["fields"].pop("parent")
    issue["fields"].update(fields)
    return issue


def make_project(key: str) -> dict[str, Any]:
    """A small Cloud project record."""
    return {
        "id": "10000",
        "key": key,
        "name": f"Project {key}",
        "self": "https://acme.atlassian.net/rest/api/3/project/10000",
        "projectTypeKey": "software",
    }


def search_issue(number: int, updated: str, project: str = "PROJ") -> dict[str, Any]:
    """A minimal issue of `CLOUD_URL` as Jira's search returns it: id 10000 + `number`."""
    return {
        "id": str(10000 + number),
        "key": f"{project}-{number}",
        "self": f"{CLOUD_URL}/rest/api/3/issue/{10000 + number}",
        "fields": {
            "summary": f"Issue {number}",
            "updated": updated,
            "created": updated,
            "project": {"id": "100", "key": project, "name": project},
        },
    }


def bsd6_expected_entity() -> dict[str, Any]:
    """The entity the seed's webhook mapping gives for its sample issue BSD-6.

    Plus the URL, and the `sprints` relation (empty: its sprint field is).
    """
    return load_fixture("bsd6_expected_entity.json")


def mock_port_api(requests_mock: Any, base: str) -> Any:
    """Answer Port's token call and the default blueprints at `base` (requests-mock)."""
    requests_mock.post(
        f"{base}/v1/auth/access_token",
        json={"ok": True, "accessToken": "t", "expiresIn": 10800, "tokenType": "Bearer"},
    )
    for identifier, blueprint in default_blueprints().items():
        requests_mock.get(f"{base}/v1/blueprints/{identifier}", json={"blueprint": blueprint})
    return requests_mock
