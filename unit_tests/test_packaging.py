"""What ships: metadata, image labels, wheel contents, and the README's generated reference."""

import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import airbyte_connector_models
import jsonschema
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


def test_wheel_ships_manifest_schemas_and_default_mapping(tmp_path: Path) -> None:
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
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("*.whl")
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
