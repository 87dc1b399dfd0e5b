"""Blueprint changes on the fake Port that make Port refuse some records (invalid entities)."""

from __future__ import annotations

import copy

from integration_tests.fakes.jira_data import STATUSES
from integration_tests.fakes.port_server import FakePort


def refuse_status(port: FakePort, refused: str | None) -> None:
    """Let the `jiraIssue` blueprint's `status` take every status but `refused` (None: all)."""
    blueprint = copy.deepcopy(port.blueprint("jiraIssue"))
    assert blueprint is not None
    status = blueprint["schema"]["properties"]["status"]
    status.pop("enum", None)
    if refused is not None:
        status["enum"] = [s.name for s in STATUSES if s.name != refused]
    port.add_blueprint(blueprint)
