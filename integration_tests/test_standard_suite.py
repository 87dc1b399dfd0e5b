"""Airbyte's standard source tests, in-process, against local fake Jira servers."""

from __future__ import annotations

import atexit
import functools
from typing import Any

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from integration_tests.fakes.jira_server import FakeJira
from source_jira_port.source import SourceJiraPort

pytestmark = pytest.mark.integration

_PLACEHOLDER_HOSTS = {
    "http://fake-jira-cloud.invalid": "cloud",
    "http://fake-jira-server.invalid": "server",
}


@functools.cache
def _fake_jira_url(deployment: str) -> str:
    """One fake per deployment for the session: scenarios are built while tests are collected."""
    fake = FakeJira(deployment).start()  # type: ignore[arg-type]
    atexit.register(fake.stop)
    return fake.base_url


def _with_live_fake(scenario: ConnectorTestScenario) -> ConnectorTestScenario:
    config: dict[str, Any] = scenario.get_config_dict(
        connector_root=TestStandardSuite.get_connector_root_dir(), empty_if_missing=True
    )
    deployment = _PLACEHOLDER_HOSTS.get(config.get("jira_url", ""))
    if deployment is None:
        return scenario
    return scenario.model_copy(
        update={"config_dict": config | {"jira_url": _fake_jira_url(deployment)}}
    )


class TestStandardSuite(SourceTestSuiteBase):
    """spec, check, discover and full-refresh reads as the Airbyte platform runs them."""

    connector = SourceJiraPort

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        return [_with_live_fake(scenario) for scenario in super().get_scenarios()]

    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> SourceJiraPort:
        config = (
            scenario.get_config_dict(
                connector_root=cls.get_connector_root_dir(), empty_if_missing=True
            )
            if scenario
            else {}
        )
        return SourceJiraPort(config=config)
