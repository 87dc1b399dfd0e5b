"""Port's kinds and selector keys: each resolved or honoured, or refused by name with the reason."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
import yaml

from source_jira_port.config_problems import source_spec
from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config
from source_jira_port.port.selectors import (
    ISSUE_EXPAND,
    PROJECT_EXPAND,
    REFUSED_EXPAND,
    SelectorError,
    parse_selector,
)


def _config(kind: str, selector: dict[str, Any], *more: dict[str, Any]) -> str:
    def resource(kind: str, selector: dict[str, Any]) -> dict[str, Any]:
        mappings = {"identifier": ".key", "blueprint": '"jiraIssue"'}
        return {"kind": kind, "selector": selector, "port": {"entity": {"mappings": mappings}}}

    resources = [resource(kind, selector), *(resource(m["kind"], m["selector"]) for m in more)]
    return yaml.safe_dump({"resources": resources})


def _refusal(kind: str, selector: dict[str, Any]) -> str:
    with pytest.raises(MappingError) as raised:
        load_app_config(_config(kind, selector))
    return str(raised.value)


@pytest.mark.parametrize(
    ("kind", "stream"),
    [
        ("project", "projects"),
        ("issue", "issues"),
        ("user", "users"),
        ("team", "teams"),
        ("board", "boards"),
        ("sprint", "sprints"),
        ("epic", "epics"),
    ],
)
def test_ports_kind_names_and_the_stream_names_map_the_same_records(kind: str, stream: str) -> None:
    for name in (kind, stream):
        mapper = EntityMapper(load_app_config(_config(name, {"query": "true"})))
        assert mapper.kinds() == {stream}
        record = {"key": "A-1", "state": "active"}  # Port's sprints selector: active ones
        assert mapper.map_record(stream, record)[0]["identifier"] == "A-1"


def test_an_unknown_kind_is_refused_with_the_kinds_that_work() -> None:
    message = _refusal("issuez", {"query": "true"})

    assert (
        "kind issuez is neither a stream of this connector nor one of Port's Jira kinds" in message
    )
    assert (
        "use one of backlog (backlog), board (boards), component (components), epic (epics), "
        "issue (issues), project (projects), release (releases), sprint (sprints), team (teams), "
        "user (users), worklog (worklogs)" in message
    )


def test_ports_lakehouse_key_is_refused_with_the_reason() -> None:
    message = _refusal("issue", {"query": "true", "exportEnvVariables": ["A"]})

    assert "selector.exportEnvVariables is not supported" in message
    assert "lakehouse" in message


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [
        ("project", "fields", "summary"),
        ("project", "jql", "project = A"),
        ("project", "includeMembers", True),
        ("issue", "includeMembers", True),
        ("issue", "sprintState", ["active"]),
        ("issue", "boardType", "scrum"),
    ],
)
def test_a_selector_key_of_another_kind_is_refused_by_name(kind: str, key: str, value: Any) -> None:
    message = _refusal(kind, {"query": "true", key: value})

    assert f"selector.{key} does not apply to kind {kind}" in message


def test_expand_values_jira_does_not_offer_or_that_break_the_cursor_are_refused() -> None:
    assert "selector.expand permissions is not something Jira expands on a project" in _refusal(
        "project", {"query": "true", "expand": "insight,permissions"}
    )
    message = _refusal("issue", {"query": "true", "expand": "changelog,versionedRepresentations"})
    assert "selector.expand versionedRepresentations is not supported" in message
    assert "fields.updated" in message


def test_every_selector_key_of_ports_default_issue_project_and_team_loads() -> None:
    config = load_app_config(
        _config(
            "issue",
            {"query": "true", "jql": "x = 1", "fields": "summary, status", "expand": "changelog"},
            {"kind": "project", "selector": {"query": "true", "expand": "insight,lead"}},
            {
                "kind": "issues",
                "selector": {"fields": ["status"], "expand": ["names", "changelog"]},
            },
        )
    )

    assert config.issue_fields() == "status,summary"
    assert config.expand("issues") == "changelog,names"
    assert config.expand("projects") == "insight,lead"


@pytest.mark.parametrize(
    ("selectors", "jira", "expected"),
    [
        # Port's default: every field, nothing expanded.
        ([{}], {}, {"issue_fields": "*all", "issue_expand": ""}),
        ([{"fields": "summary"}], {}, {"issue_fields": "summary", "issue_expand": ""}),
        # A resource without `fields` wants them all, whatever another one asks.
        ([{"fields": "summary"}, {}], {}, {"issue_fields": "*all", "issue_expand": ""}),
        # The source config's own choice is kept and joined with the mapping's.
        (
            [{"fields": "summary", "expand": "changelog"}],
            {"issue_fields": "status", "issue_expand": "renderedFields"},
            {"issue_fields": "status,summary", "issue_expand": "changelog,renderedFields"},
        ),
        # An exclusion stays unless a resource asks for the field.
        ([{"fields": "*all,-comment"}], {}, {"issue_fields": "*all,-comment", "issue_expand": ""}),
        ([{"fields": "*all,-comment"}, {"fields": "comment"}], {}, {"issue_fields": "*all"}),
    ],
)
def test_the_source_reads_what_every_issue_selector_asks_for(
    selectors: list[dict[str, Any]], jira: dict[str, Any], expected: dict[str, str]
) -> None:
    first, *more = ({"query": "true", **s} for s in selectors)
    config = load_app_config(
        _config("issue", first, *({"kind": "issue", "selector": s} for s in more))
    )

    reads = config.source_reads(jira)

    assert reads | expected == reads


def test_a_record_without_the_expand_the_mapping_asks_for_is_reported() -> None:
    mapper = EntityMapper(load_app_config(_config("issue", {"expand": "changelog,names"})))

    assert mapper.missing_expansions("issues", {"key": "A-1", "names": {}}) == ["changelog"]
    assert mapper.missing_expansions("issues", {"key": "A-1", "names": {}, "changelog": {}}) == []
    assert mapper.missing_expansions("projects", {"key": "A"}) == []


def test_the_source_spec_takes_every_issue_expand_the_mapping_takes() -> None:
    pattern = re.compile(source_spec()["properties"]["issue_expand"]["pattern"])

    assert pattern.match(",".join(ISSUE_EXPAND))
    assert pattern.match("")
    for refused in REFUSED_EXPAND:
        assert not pattern.match(refused)


def test_team_selector_takes_include_members_and_nothing_of_the_issue_selector() -> None:
    # Kind `team` resolves to a stream once the teams stream exists; its keys are known already.
    assert parse_selector("team", {"query": "true", "includeMembers": False}).query == "true"
    with pytest.raises(SelectorError, match=r"selector.fields does not apply to kind team"):
        parse_selector("team", {"includeMembers": True, "fields": "summary"})


def test_the_jira_server_integrations_selectors_load_as_written() -> None:
    # Port's Jira Server integration: issue `jql` and `fields`, project `expand` (default "").
    config = load_app_config(
        _config(
            "issue",
            {"query": "true", "jql": "project = A", "fields": "*all"},
            {"kind": "project", "selector": {"query": "true", "expand": ""}},
        )
    )

    assert config.issue_fields() == "*all"
    assert config.expand("projects") == ""


def test_ports_items_to_parse_is_refused_by_name_with_the_reason() -> None:
    document = yaml.safe_load(_config("issue", {"query": "true"}))
    document["resources"][0]["port"]["itemsToParse"] = ".fields.subtasks"

    with pytest.raises(MappingError) as raised:
        load_app_config(yaml.safe_dump(document))

    assert "resources[0].port.itemsToParse is not supported: one record maps" in str(raised.value)


def test_the_project_expand_the_mapping_accepts_is_what_the_source_asks_jira_for() -> None:
    manifest = yaml.safe_load((resources.files("source_jira_port") / "manifest.yaml").read_text())

    assert manifest["definitions"]["project_expand"].split(",") == list(PROJECT_EXPAND)
