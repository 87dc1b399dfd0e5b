from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets

from source_jira_port.app.main import main


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root, airbyte = logging.getLogger(), logging.getLogger("airbyte")
    handlers, levels = list(root.handlers), (root.level, airbyte.level)
    yield
    update_secrets([])
    root.handlers = handlers
    root.setLevel(levels[0])
    airbyte.setLevel(levels[1])


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["sync"],
        ["frobnicate"],
        ["sync", "--config", "x", "--format", "csv"],
        ["sandbox", "--projects", "9"],
        ["sandbox", "--issues", "0"],
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: jira-port" in capsys.readouterr().err


def test_help_exits_0_and_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert (
        "Exit codes: 0 ok, 1 sync failed, 2 bad usage or config, 3 records skipped, 130 "
        "interrupted." in help_text
    )


@pytest.mark.parametrize("mode", [[], ["--log-format", "json"], ["--quiet"]])
def test_a_bad_config_file_is_one_error_line_and_exit_2(
    tmp_path: Path, mode: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sync.yaml"
    config.write_text("jira: {}\nport: {}\n")

    assert main(["sync", "--config", str(config), *mode]) == 2

    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert "jira.credentials: required key is missing" in line
    assert captured.out == ""


def test_a_broken_state_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "sync.yaml"
    config.write_text(
        "jira: {jira_url: 'http://127.0.0.1:1', credentials: {auth_type: basic, username: u, "
        "password: pass-word}}\n"
        "port: {port_client_id: i, port_client_secret: port-secret}\nstate_file: s.json\n"
    )
    (tmp_path / "s.json").write_text("{oops")

    assert main(["sync", "--config", str(config)]) == 2
    assert "s.json is not a state file" in capsys.readouterr().err


def test_version_prints_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"jira-port {version('source-jira-port')}\n"
