"""The package's import graph: no circles, and arrows that only point down.

Layers, lowest first: shared leaves (facts both sides agree on, and `cdk_compat`, the one module
that touches airbyte-cdk internals), then the source and the Port destination side by side
(neither imports the other), then `app` (the command lines and the webhook receiver), which may
import everything. The package loads no test code; only the sandbox command imports the fakes,
when it runs, from a source checkout.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "source_jira_port"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
SHARED = {PACKAGE} | {
    f"{PACKAGE}.{name}"
    for name in ("cdc", "cdk_compat", "gc_tuning", "state_keys", "stream_names", "version")
}
SANDBOX = f"{PACKAGE}.app.sandbox"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Yield every module `path` imports, at any depth (function-level imports count)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def _graph() -> dict[str, dict[str, int]]:
    """Return module -> {imported package module: line}, package modules only."""
    paths = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, dict[str, int]] = {}
    for name, path in paths.items():
        graph[name] = {
            target: line for target, line in _imports(path) if target in paths and target != name
        }
    return graph


def _layer(module: str) -> str:
    if module in SHARED:
        return "shared"
    for layer in ("port", "app"):
        if module == f"{PACKAGE}.{layer}" or module.startswith(f"{PACKAGE}.{layer}."):
            return layer
    return "source"


# What each layer may import besides itself.
ALLOWED = {
    "shared": set(),
    "source": {"shared"},
    "port": {"shared"},
    "app": {"shared", "source", "port"},
}


def test_no_import_points_up_or_sideways() -> None:
    wrong = [
        f"{module} ({_layer(module)}) imports {target} ({_layer(target)}), line {line}"
        for module, targets in sorted(_graph().items())
        for target, line in sorted(targets.items())
        if _layer(target) != _layer(module) and _layer(target) not in ALLOWED[_layer(module)]
    ]
    assert not wrong, "\n".join(wrong)


def _cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """Return one import cycle of `graph` (a path that ends where it starts), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        path.append(module)
        for target in sorted(graph.get(module, {})):
            found = visit(target)
            if found:
                return found
        path.pop()
        done.add(module)
        return None

    for start in sorted(graph):
        found = visit(start)
        if found:
            return found
    return None


def test_no_import_cycles() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b": 1}, "b": {}}) is None


def _loaded_imports(path: Path) -> Iterator[tuple[str, int]]:
    """Yield the modules `path` imports when it is loaded: module level, not `TYPE_CHECKING`."""
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            continue
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def _is_test_code(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] in ("integration_tests", "unit_tests")


def test_the_package_loads_no_test_code() -> None:
    wrong = [
        f"{_module_name(path)} imports {target}, line {line}"
        for path in sorted(ROOT.rglob("*.py"))
        for target, line in _loaded_imports(path)
        if _is_test_code(target)
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_sandbox_command_imports_the_fakes_and_nothing_else_of_the_tests() -> None:
    wrong = [
        f"{_module_name(path)} imports {target}, line {line}"
        for path in sorted(ROOT.rglob("*.py"))
        for target, line in _imports(path)
        if _is_test_code(target)
        and not (_module_name(path) == SANDBOX and target.startswith("integration_tests.fakes"))
    ]
    assert not wrong, "\n".join(wrong)


_SENDS = {"get", "post", "put", "patch", "delete", "head", "request", "Session"}
JIRA_CLIENT = f"{PACKAGE}.jira_client"
PORT_TRANSPORT = f"{PACKAGE}.port.transport"


def _http_calls(path: Path) -> Iterator[tuple[str, int]]:
    """Yield what in `path` can send HTTP: `requests.<verb>`, sessions, `send_request`, urllib3."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "requests":
                if node.attr in _SENDS:
                    yield f"requests.{node.attr}", node.lineno
            elif node.attr == "send_request":
                yield "send_request", node.lineno
    for target, line in _imports(path):
        if target.startswith(("urllib3", "httpx", "aiohttp", "urllib.request", "http.client")):
            yield target, line


def test_jira_is_called_from_the_jira_client_and_port_from_its_transport_only() -> None:
    wrong = [
        f"{_module_name(path)}: {call}, line {line}"
        for path in sorted(ROOT.rglob("*.py"))
        if _module_name(path) not in (JIRA_CLIENT, PORT_TRANSPORT)
        for call, line in _http_calls(path)
    ]
    assert not wrong, "\n".join(wrong)
