"""`--version` of the three commands: the installed package's version."""

from __future__ import annotations

import sys
from importlib.metadata import version

DISTRIBUTION = "source-jira-port"


def version_line(program: str) -> str:
    """Return `<program> <version>`, the version being the installed distribution's."""
    return f"{program} {version(DISTRIBUTION)}"


def exit_if_version_asked(program: str, args: list[str]) -> None:
    """Print the version and exit 0 when `args` is just `--version`.

    For the Airbyte entrypoints, whose own parser knows only `spec|check|discover|read|write`.
    """
    if args == ["--version"]:
        print(version_line(program))
        sys.exit(0)
