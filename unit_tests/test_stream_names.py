"""The stream names the Python code uses are the streams the source offers, on each deployment."""

from typing import Any

from integration_tests.support.configs import cloud_config, server_config
from source_jira_port import stream_names
from source_jira_port.source import SourceJiraPort

NAMES = {value for key, value in vars(stream_names).items() if key.isupper()}
# Offered on Jira Cloud only (with the options they need); never on Server / Data Center.
CLOUD_ONLY = {stream_names.TEAMS}


def _offered(config: dict[str, Any]) -> set[str]:
    source = SourceJiraPort(config=config)
    return {stream.name for stream in source.streams(source.resolved_config)}


def test_every_stream_name_is_a_cloud_stream() -> None:
    assert NAMES, "stream_names declares no name"
    assert _offered(cloud_config(atlassian_organization_id="org-1")) >= NAMES


def test_every_stream_name_but_the_cloud_only_ones_is_a_server_stream() -> None:
    offered = _offered(server_config(atlassian_organization_id="org-1"))
    assert offered >= NAMES - CLOUD_ONLY
    assert not CLOUD_ONLY & offered
