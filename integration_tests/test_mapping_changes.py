"""A changed mapping takes effect: `jira-port sync` re-maps every record of the streams it
changes; the Airbyte destination alone warns and names the refresh to run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.commands import destination, jira_port
from integration_tests.support.configs import port_config, write_config
from integration_tests.support.messages import record, state
from integration_tests.support.records import make_issue

pytestmark = pytest.mark.integration

_DEFAULT = (
    resources.files("source_jira_port.port") / "defaults" / "port-app-config.yaml"
).read_text()
_EDITED = _DEFAULT.replace("title: .fields.summary", "title: '.key + \" \" + .fields.summary'")
# The same mapping, YAML written differently.
_RESPACED = "# a comment\n" + _EDITED.replace("identifier: .key", "identifier:    .key  # why")
_CHANGED = "The mapping of stream issues changed"


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud", generate_dataset(projects=2, issues=60)) as fake:
        yield fake


@pytest.fixture
def port() -> Iterator[FakePort]:
    with FakePort(client_secret="port-secret") as fake:
        yield fake


def _set_mapping(config: Path, mapping: str) -> None:
    document = yaml.safe_load(config.read_text())
    document["port"]["mapping"] = mapping
    config.write_text(yaml.safe_dump(document))


def _issue_upserts(port: FakePort, since: int) -> int:
    """The jiraIssue entities sent in bulk upserts after the first `since` requests."""
    calls = port.calls("POST", "/jiraIssue/entities/bulk$")[since:]
    return sum(len(call.body["entities"]) for call in calls)


def _issues_state(folder: Path) -> dict[str, Any]:
    states = json.loads((folder / "state.json").read_text())
    [issues] = [s for s in states if s["stream"]["stream_descriptor"]["name"] == "issues"]
    return dict(issues["stream"]["stream_state"])


def test_a_mapping_edit_re_maps_every_issue_and_a_comment_edit_does_not(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port)
    assert jira_port("sync", "--config", config).returncode == 0
    first = _issues_state(tmp_path)
    _set_mapping(config, _EDITED)
    before = len(port.calls("POST", "/jiraIssue/entities/bulk$"))

    edited = jira_port("sync", "--config", config)

    assert edited.returncode == 0, edited.stderr
    [line] = [line for line in edited.stderr.splitlines() if _CHANGED in line]
    assert "re-reading it in full" in line
    assert _issue_upserts(port, before) == len(jira.dataset.issues)
    titles = {key: e["title"] for key, e in port.entities("jiraIssue").items()}
    assert titles == {key: f"{key} {i.summary}" for key, i in jira.dataset.issues.items()}
    second = _issues_state(tmp_path)
    assert second["mapping_fingerprint"] != first["mapping_fingerprint"]
    assert second["updated"] == first["updated"]
    assert "deletion_detection" in second

    _set_mapping(config, _RESPACED)
    before = len(port.calls("POST", "/jiraIssue/entities/bulk$"))

    commented = jira_port("sync", "--config", config)

    assert commented.returncode == 0, commented.stderr
    assert _CHANGED not in commented.stderr
    assert _issue_upserts(port, before) < len(jira.dataset.issues) / 4  # the boundary only
    assert _issues_state(tmp_path)["mapping_fingerprint"] == second["mapping_fingerprint"]


def test_a_re_read_that_dies_half_way_re_maps_again_on_the_next_run(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    config = write_config(tmp_path, jira, port, page_size=10, num_workers=1)
    assert jira_port("sync", "--config", config).returncode == 0
    old = _issues_state(tmp_path)["mapping_fingerprint"]
    _set_mapping(config, _EDITED)
    before = len(port.calls("POST", "/jiraIssue/entities/bulk$"))
    port.fail(
        500, times=None, path="/jiraIssue/entities/bulk$", after=2, headers={"Retry-After": "0"}
    )

    failed = jira_port("sync", "--config", config)

    assert failed.returncode == 1
    assert _issues_state(tmp_path)["mapping_fingerprint"] == old
    assert 0 < _issue_upserts(port, before) < len(jira.dataset.issues)
    port.clear_faults()
    before = len(port.calls("POST", "/jiraIssue/entities/bulk$"))

    resumed = jira_port("sync", "--config", config)

    assert resumed.returncode == 0, resumed.stderr
    assert _CHANGED in resumed.stderr
    assert _issue_upserts(port, before) == len(jira.dataset.issues)
    assert _issues_state(tmp_path)["mapping_fingerprint"] != old


def test_the_destination_alone_warns_and_names_the_refresh_to_run(
    tmp_path: Path, port: FakePort
) -> None:
    messages = [
        record("issues", make_issue("ACME-1")),
        state("issues", {"updated": "2024-01-01T00:00:00.000+0000"}),
    ]
    config = port_config(port, mapping=_DEFAULT)
    first = destination(tmp_path, "write", config, messages)
    [fingerprint] = first.fingerprints()
    assert fingerprint is not None
    carried = state("issues", {"updated": "2", "mapping_fingerprint": fingerprint})

    same = destination(tmp_path, "write", config, [carried])
    edited = destination(tmp_path, "write", port_config(port, mapping=_EDITED), [carried])

    assert not [w for w in first.logs("WARN") + same.logs("WARN") if "Refresh your data" in w]
    [warning] = [w for w in edited.logs("WARN") if "Refresh your data" in w]
    assert '"Refresh your data" for stream issues' in warning
    assert edited.fingerprints() == [fingerprint]  # kept until the refresh re-maps the stream
