from __future__ import annotations

import contextlib
import io
import logging

import orjson
import pytest
from airbyte_cdk.models import (
    AirbyteMessageSerializer,
    AirbyteStreamStatus,
    AirbyteStreamStatusReason,
    AirbyteStreamStatusReasonType,
    StreamDescriptor,
)
from airbyte_cdk.utils import AirbyteTracedException
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message as stream_status

from source_jira_port.app.stray_output import StrayOutput


def _rate_limited() -> str:
    reasons = [AirbyteStreamStatusReason(type=AirbyteStreamStatusReasonType.RATE_LIMITED)]
    message = stream_status(StreamDescriptor(name="issues"), AirbyteStreamStatus.RUNNING, reasons)
    return orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()


def test_what_the_cdk_prints_is_logged_and_not_written(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="airbyte")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(StrayOutput()):
        print(f"{_rate_limited()}\n", end="", flush=True)  # as HttpClient._send does
        AirbyteTracedException(message="Jira said no").emit_message()
        print('{"type": "LOG", "log": {"level": "WARN", "message": "careful"}}')
        print("plain text")
        stdout.write("the command's own output\n")

    assert stdout.getvalue() == "the command's own output\n"
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "Stream issues: rate_limited, retrying as Jira asks"),
        (logging.DEBUG, "Airbyte error trace: Jira said no"),
        (logging.WARNING, "careful"),
        (logging.WARNING, "printed: plain text"),
    ]


def test_lines_written_in_pieces_are_logged_once_whole(caplog: pytest.LogCaptureFixture) -> None:
    stray = StrayOutput()
    stray.write("half a ")
    assert caplog.records == []
    stray.write("line\nand an unfinished one")
    stray.close()

    assert [r.getMessage() for r in caplog.records] == [
        "printed: half a line",
        "printed: and an unfinished one",
    ]
