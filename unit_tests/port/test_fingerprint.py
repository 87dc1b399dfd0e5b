from __future__ import annotations

import copy
import logging
from importlib import resources
from typing import Any

import pytest

from integration_tests.support.messages import state
from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.fingerprint import (
    FingerprintStamp,
    saved_fingerprint,
    stream_fingerprints,
)
from source_jira_port.port.mapping import load_app_config

_DEFAULT = (
    resources.files("source_jira_port.port") / "defaults" / "port-app-config.yaml"
).read_text()
_STREAMS = ("projects", "issues")


def _fingerprints(mapping: str, blueprints: dict[str, Any] | None = None) -> dict[str, str]:
    blueprints = blueprints if blueprints is not None else default_blueprints()
    return stream_fingerprints(load_app_config(mapping), blueprints, _STREAMS)


def test_comments_whitespace_and_key_order_do_not_change_the_fingerprints() -> None:
    edited = (
        "# a comment\n"
        + _DEFAULT.replace(
            "          title: .fields.summary\n", "          title:    .fields.summary   # why\n"
        ).replace("enableMergeEntity: true\n", "")
        + "enableMergeEntity: true\n"
    )
    assert edited != _DEFAULT

    assert _fingerprints(edited) == _fingerprints(_DEFAULT)


def test_an_issue_resource_edit_changes_only_the_issues_fingerprint() -> None:
    edited = _DEFAULT.replace("title: .fields.summary", 'title: .key + " " + .fields.summary')

    before, after = _fingerprints(_DEFAULT), _fingerprints(edited)

    assert set(after) == set(_STREAMS)
    assert after["issues"] != before["issues"]
    assert after["projects"] == before["projects"]


def test_a_blueprint_schema_change_changes_the_streams_that_write_it() -> None:
    blueprints = copy.deepcopy(default_blueprints())
    blueprints["jiraIssue"]["schema"]["properties"]["extra"] = {"type": "string"}
    blueprints["jiraProject"]["title"] = "A new title"  # not what decides an entity

    before, after = _fingerprints(_DEFAULT), _fingerprints(_DEFAULT, blueprints)

    assert after["issues"] != before["issues"]
    assert after["projects"] == before["projects"]


def test_a_stream_without_resources_has_no_fingerprint() -> None:
    mapping = _DEFAULT.split("  - kind: issues")[0]

    assert set(_fingerprints(mapping)) == {"projects"}


def test_the_stamp_adds_the_fingerprint_only_to_states_without_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stamp = FingerprintStamp({"issues": "new"}, logging.getLogger("test"), warn=True)
    fresh, saved, other = (
        state("issues", {"updated": "1"}).state,
        state("issues", {"updated": "1", "mapping_fingerprint": "new"}).state,
        state("projects", {}).state,
    )
    assert fresh is not None and saved is not None and other is not None

    assert saved_fingerprint(stamp.stamp(fresh)) == "new"
    assert saved_fingerprint(stamp.stamp(saved)) == "new"
    assert saved_fingerprint(stamp.stamp(other)) is None
    assert caplog.records == []


@pytest.mark.parametrize("warn", [True, False])
def test_a_differing_fingerprint_is_kept_and_warned_about_once_naming_the_refresh(
    caplog: pytest.LogCaptureFixture, warn: bool
) -> None:
    stamp = FingerprintStamp({"issues": "new"}, logging.getLogger("test"), warn=warn)
    old = state("issues", {"updated": "1", "mapping_fingerprint": "old"}).state
    assert old is not None

    stamped = [stamp.stamp(old) for _ in range(3)]

    assert [saved_fingerprint(s) for s in stamped] == ["old"] * 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if warn:
        [warning] = warnings
        assert 'run "Refresh your data" for stream issues' in warning
    else:
        assert warnings == []
