"""What ships: metadata, image labels, wheel contents, and the README's generated reference."""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import airbyte_connector_models
import jsonschema
import pytest
import yaml
from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import (
    ConnectorMetadataDefinitionV0,
)

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_metadata_is_valid_and_matches_the_package_version() -> None:
    metadata = yaml.safe_load((ROOT / "metadata.yaml").read_text())
    ConnectorMetadataDefinitionV0.model_validate(metadata)
    schema_path = (
        Path(airbyte_connector_models.__file__).parent
        / "metadata/v0/ConnectorMetadataDefinitionV0.json"
    )
    jsonschema.Draft7Validator(json.loads(schema_path.read_text())).validate(metadata)
    assert metadata["data"]["dockerImageTag"] == VERSION


def test_dockerfile_labels_match_metadata() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    metadata = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]
    assert f"LABEL io.airbyte.version={VERSION}" in dockerfile
    assert f"LABEL io.airbyte.name={metadata['dockerRepository']}" in dockerfile
    base = re.search(r"ARG BASE_IMAGE=(\S+)", dockerfile)
    assert base is not None
    assert base[1] == metadata["connectorBuildOptions"]["baseImage"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The connector's wheel, built from a copy of this checkout without build leftovers.

    setuptools reuses an existing `build/` folder, which can hold modules that moved since.
    """
    folder = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("checkout") / "source-jira-port"
    leftovers = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, source, ignore=leftovers)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    [built] = folder.glob("*.whl")
    return built


def test_wheel_ships_manifest_schemas_and_default_mapping(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "source_jira_port/manifest.yaml",
        "source_jira_port/schemas/issues.json",
        "source_jira_port/schemas/projects.json",
        "source_jira_port/port/defaults/port-app-config.yaml",
        "source_jira_port/port/defaults/blueprints.json",
    } <= names
    shipped = zipfile.ZipFile(wheel).read("source_jira_port/manifest.yaml").decode()
    assert shipped == (ROOT / "manifest.yaml").read_text()


def test_wheel_holds_no_fake_and_no_test_and_needs_no_web_server(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    fakes = {path.name for path in (ROOT / "integration_tests/fakes").glob("*.py")} - {
        "__init__.py"
    }
    assert fakes  # what the wheel must not hold
    shipped_fakes = [name for name in names if name.rsplit("/", 1)[-1] in fakes]
    assert shipped_fakes == []
    assert [name for name in names if name.startswith(("integration_tests/", "unit_tests/"))] == []
    [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
    requires = re.findall(r"^Requires-Dist: (.+)$", archive.read(metadata).decode(), re.MULTILINE)
    web = [line for line in requires if line.startswith(("starlette", "uvicorn"))]
    assert len(web) == 2
    assert all('extra == "webhooks"' in line for line in web), web


_LOADED_MODULES = """
import json, sys
{load}
loaded = [name for name in sys.modules if name.split(".")[0] in {roots!r} or any(
    name == prefix or name.startswith(prefix + ".") for prefix in {prefixes!r})]
sys.stderr.write("LOADED " + json.dumps(sorted(loaded)) + "\\n")
"""
_CONNECTOR_COMMANDS = {
    "source-jira-port": "import source_jira_port.run",
    "destination-port": "import source_jira_port.port.run",
}


@pytest.mark.parametrize("command", sorted(_CONNECTOR_COMMANDS))
def test_the_connector_commands_load_no_cli_webhooks_web_server_or_tests(
    command: str, tmp_path: Path
) -> None:
    """What the image's entrypoints import: the source or destination, nothing of `jira-port`."""
    code = _LOADED_MODULES.format(
        load=_CONNECTOR_COMMANDS[command],
        roots=("starlette", "uvicorn", "integration_tests", "unit_tests"),
        prefixes=("source_jira_port.app", "source_jira_port.app.webhooks"),
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    [line] = [line for line in done.stderr.splitlines() if line.startswith("LOADED ")]
    assert json.loads(line.removeprefix("LOADED ")) == []


def test_sandbox_outside_a_checkout_exits_2_saying_how_to_run_it(tmp_path: Path) -> None:
    jira_port = Path(sys.executable).with_name("jira-port")
    done = subprocess.run(
        [str(jira_port), "sandbox", "--issues", "5", "--dir", str(tmp_path)],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "./scripts/sandbox.sh" in done.stderr
    assert "integration_tests" in done.stderr


def test_webhooks_serve_without_the_extra_exits_2_naming_it(tmp_path: Path) -> None:
    """A `pip install source-jira-port` without `[webhooks]`: no starlette, no uvicorn."""
    code = (
        "import sys\n"
        "sys.modules['starlette'] = sys.modules['uvicorn'] = None  # not installed\n"
        "from source_jira_port.app.main import main\n"
        "sys.exit(main(['webhooks', 'serve', '--config', 'sync.yaml']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'source-jira-port[webhooks]'" in done.stderr


def test_readme_config_reference_matches_the_specs() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts/config_reference.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert commands[:2] == ["./scripts/sandbox.sh", "./scripts/test.sh"]
    assert "bash scripts/test.sh" in (ROOT / ".ci/run").read_text()
