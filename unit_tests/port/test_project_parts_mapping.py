"""Releases and components in Port: kinds, the component selector keys, the default mapping."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from source_jira_port.port.blueprints import creation_order, default_blueprints
from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config


def _component_config(selector: dict[str, Any]) -> str:
    mappings = {"identifier": ".id", "title": ".name", "blueprint": '"jiraComponent"'}
    resource = {
        "kind": "component",
        "selector": selector,
        "port": {"entity": {"mappings": mappings}},
    }
    return yaml.safe_dump({"resources": [resource]})


def _component(component_id: str, name: str, description: str | None) -> dict[str, Any]:
    return {"id": component_id, "name": name, "description": description, "project": "A"}


@pytest.mark.parametrize(("kind", "stream"), [("release", "releases"), ("component", "components")])
def test_ports_release_and_component_kinds_map_their_streams(kind: str, stream: str) -> None:
    mappings = {"identifier": ".id", "blueprint": '"x"'}
    text = yaml.safe_dump(
        {"resources": [{"kind": kind, "port": {"entity": {"mappings": mappings}}}]}
    )

    mapper = EntityMapper(load_app_config(text))

    assert mapper.kinds() == {stream}
    assert mapper.map_record(stream, {"id": "7"})[0]["identifier"] == "7"


def test_component_source_jira_is_honoured() -> None:
    mapper = EntityMapper(load_app_config(_component_config({"componentSource": "jira"})))

    assert len(mapper.map_record("components", _component("1", "API", None))) == 1


@pytest.mark.parametrize("source", ["compass", "auto"])
def test_compass_component_sources_are_refused_by_name(source: str) -> None:
    with pytest.raises(MappingError) as raised:
        load_app_config(_component_config({"componentSource": source}))

    assert f"selector.componentSource {source} is not supported" in str(raised.value)
    assert "Atlassian Compass, another product" in str(raised.value)


def test_an_unknown_component_source_is_refused() -> None:
    with pytest.raises(MappingError, match="componentSource 'github' is not one of"):
        load_app_config(_component_config({"componentSource": "github"}))


def test_name_filter_keeps_components_whose_name_or_description_contain_it() -> None:
    selector = {"query": '.project == "A"', "nameFilter": "Back"}
    mapper = EntityMapper(load_app_config(_component_config(selector)))

    kept = [
        c["id"]
        for c in (
            _component("1", "backend", None),
            _component("2", "UI", "Talks to the BACKEND"),
            _component("3", "UI", None),
            {**_component("4", "backend", None), "project": "B"},  # the query still applies
        )
        if mapper.map_record("components", c)
    ]

    assert kept == ["1", "2"]


@pytest.mark.parametrize("value", ["", 3])
def test_a_name_filter_that_is_not_text_is_refused(value: Any) -> None:
    with pytest.raises(MappingError, match=r"selector\.nameFilter must be a non-empty string"):
        load_app_config(_component_config({"nameFilter": value}))


def test_name_filter_applies_to_components_only() -> None:
    mappings = {"identifier": ".id", "blueprint": '"jiraRelease"'}
    resource = {
        "kind": "release",
        "selector": {"nameFilter": "x"},
        "port": {"entity": {"mappings": mappings}},
    }

    with pytest.raises(MappingError, match=r"selector\.nameFilter does not apply to kind release"):
        load_app_config(yaml.safe_dump({"resources": [resource]}))


def test_default_mapping_relates_releases_components_and_fix_versions() -> None:
    mapper = EntityMapper(load_app_config())
    site = "https://jira.example.com/jira/rest/api/2"
    release = {
        "self": f"{site}/version/20001",
        "id": "20001",
        "name": "1.1",
        "released": True,
        "archived": False,
        "releaseDate": "2024-06-15",
        "projectId": 10000,
        "__projectKey": "PLAT",
    }
    component = {
        "self": f"{site}/component/10000",
        "id": "10000",
        "name": "API",
        "assigneeType": "PROJECT_LEAD",
        "project": "PLAT",
        "__project": {"id": "10000", "key": "PLAT", "name": "Platform"},
    }
    issue = {
        "id": "1",
        "key": "PLAT-1",
        "self": f"{site}/issue/1",
        "fields": {"fixVersions": [{"id": "20001", "name": "1.1"}], "project": {"key": "PLAT"}},
    }

    [release_entity] = mapper.map_record("releases", release)
    [component_entity] = mapper.map_record("components", component)
    [issue_entity] = mapper.map_record("issues", issue)

    assert release_entity["blueprint"] == "jiraRelease"
    assert release_entity["relations"] == {"project": "PLAT"}
    assert release_entity["properties"]["url"] == (
        "https://jira.example.com/jira/projects/PLAT/versions/20001"
    )
    assert component_entity["identifier"] == "10000"
    assert component_entity["relations"] == {"project": "PLAT"}
    assert issue_entity["relations"]["fixVersions"] == ["20001"]


def test_the_built_in_blueprints_relate_releases_and_components_to_their_project() -> None:
    blueprints = default_blueprints()

    for identifier in ("jiraRelease", "jiraComponent"):
        assert blueprints[identifier]["relations"]["project"]["target"] == "jiraProject"
        # not required: issues' fixVersions create bare releases where releases are not synced
        assert blueprints[identifier]["relations"]["project"]["required"] is False
    assert blueprints["jiraIssue"]["relations"]["fixVersions"]["target"] == "jiraRelease"
    order = creation_order(["jiraIssue"])
    assert order.index("jiraProject") < order.index("jiraRelease") < order.index("jiraIssue")
