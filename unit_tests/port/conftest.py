from __future__ import annotations

from typing import Any

import pytest

from integration_tests.support.records import load_fixture


@pytest.fixture
def server_issue() -> dict[str, Any]:
    """The seed's BSD-6 webhook `issue` (Jira Server, API v2) plus the source's top-level fields."""
    return load_fixture("bsd6_issue_server.json")


@pytest.fixture
def cloud_issue() -> dict[str, Any]:
    """A Jira Cloud API v3 issue: accountId users, ADF description, components, a parent."""
    return load_fixture("cloud_issue_v3.json")
