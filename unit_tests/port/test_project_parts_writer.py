"""The writer and the streams read per project: no deletion of what a complete read lacked."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import AirbyteStreamStatus

from integration_tests.support.messages import record, status
from integration_tests.support.port_stub import StubPort, port_writer


@pytest.mark.parametrize(
    ("stream", "blueprint"), [("releases", "jiraRelease"), ("components", "jiraComponent")]
)
def test_missing_releases_and_components_are_not_deleted_by_the_writer(
    stream: str, blueprint: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = StubPort()
    port.entities[blueprint] = {"1": {}, "2": {}}  # "2": of a project the read skipped, say
    project = {"__projectKey": "A", "project": "A", "__project": {"key": "A"}}
    writer = port_writer(port, streams=((stream, "overwrite"),), delete_missing_entities=True)

    list(
        writer.write(
            [
                record(
                    stream,
                    {"id": "1", "self": "https://j/rest/api/2/x/1", "name": "one", **project},
                ),
                status(stream, AirbyteStreamStatus.COMPLETE),
            ]
        )
    )

    assert port.deleted == []
    assert f"Not deleting missing {blueprint} entities: stream {stream} is read per project" in (
        caplog.text
    )
