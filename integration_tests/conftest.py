"""Fixtures: a fake Jira of each deployment on 127.0.0.1, the source's command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.commands import SourceCli


@pytest.fixture(params=["cloud", "server"])
def fake_jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    """A fresh fake Jira of each deployment with the default generated dataset."""
    with FakeJira(request.param, generate_dataset()) as fake:
        yield fake


@pytest.fixture
def source_cli(tmp_path: Path) -> SourceCli:
    return SourceCli(tmp_path)
