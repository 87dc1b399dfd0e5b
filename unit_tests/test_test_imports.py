"""The test tree's imports: shared code comes from the support and fakes packages only.

A test imports no `conftest` module (pytest loads those; they hold fixtures only), no test
module (`test_*`), and nothing of the other suite, except `integration_tests.support` and
`integration_tests.fakes`, which both suites share.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("unit_tests", "integration_tests")
SHARED = ("integration_tests.support", "integration_tests.fakes")


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in `path`; `from a import b` gives `a.b`."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def problem(suite: str, module: str) -> str | None:
    """Why a file of `suite` may not import `module`, or None."""
    parts = module.split(".")
    if parts[0] not in SUITES:
        return None
    if "conftest" in parts:
        return "a conftest module (fixtures only; shared helpers go to integration_tests.support)"
    if any(part.startswith("test_") for part in parts):
        return "a test module (shared helpers go to integration_tests.support)"
    shared = any(module == name or module.startswith(name + ".") for name in SHARED)
    if parts[0] != suite and not shared:
        return f"the other suite, {parts[0]} (only {' and '.join(SHARED)} are shared)"
    return None


def import_problems(paths: list[Path], root: Path = ROOT) -> list[str]:
    """One line per forbidden import: `file:line imports module: why`."""
    problems = []
    for path in paths:
        suite = path.relative_to(root).parts[0]
        for line, module in imported_modules(path, root):
            why = problem(suite, module)
            if why:
                problems.append(f"{path.relative_to(root)}:{line} imports {module}: {why}")
    return problems


def test_tests_import_shared_code_from_the_support_and_fakes_packages_only() -> None:
    paths = sorted(path for suite in SUITES for path in (ROOT / suite).rglob("*.py"))
    assert len(paths) > 50
    assert import_problems(paths) == []


@pytest.mark.parametrize(
    ("file", "source", "reported"),
    [
        ("unit_tests/test_a.py", "from unit_tests.conftest import x", "unit_tests.conftest"),
        ("unit_tests/port/test_a.py", "from . import conftest", "unit_tests.port.conftest"),
        ("unit_tests/port/test_a.py", "from .test_b import x", "unit_tests.port.test_b"),
        ("integration_tests/x.py", "import unit_tests.port.messages", "unit_tests.port.messages"),
        ("unit_tests/test_a.py", "from integration_tests import consistency", "integration_tests"),
        ("integration_tests/support/a.py", "from integration_tests.test_b import x", "test_b"),
    ],
)
def test_a_forbidden_import_is_named_with_its_file_and_line(
    tmp_path: Path, file: str, source: str, reported: str
) -> None:
    path = tmp_path / file
    path.parent.mkdir(parents=True)
    path.write_text(f"import os\n{source}\n")

    [found] = import_problems([path], tmp_path)

    assert found.startswith(f"{file}:2 imports ")
    assert reported in found


@pytest.mark.parametrize(
    ("file", "source"),
    [
        ("unit_tests/test_a.py", "from integration_tests.support.configs import cloud_config"),
        ("unit_tests/test_a.py", "from integration_tests.fakes.jira_server import FakeJira"),
        ("integration_tests/test_a.py", "from integration_tests.consistency import PAGE"),
        ("unit_tests/port/test_a.py", "from source_jira_port.port import writer"),
    ],
)
def test_shared_packages_and_own_helpers_are_allowed(
    tmp_path: Path, file: str, source: str
) -> None:
    path = tmp_path / file
    path.parent.mkdir(parents=True)
    path.write_text(source + "\n")

    assert import_problems([path], tmp_path) == []
