"""The stream names the Python code uses are streams the manifest declares, on each deployment."""

import pytest

from source_jira_port import stream_names
from source_jira_port.jira_client import shipped_manifest

NAMES = {value for key, value in vars(stream_names).items() if key.isupper()}


def _streams(deployment: str) -> set[str]:
    manifest = shipped_manifest()
    block = next(
        entry for entry in manifest["streams"] if f"== '{deployment}'" in entry["condition"]
    )
    return {stream["name"] for stream in block["streams"]}


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_every_stream_name_is_a_manifest_stream(deployment: str) -> None:
    assert NAMES, "stream_names declares no name"
    assert _streams(deployment) >= NAMES
