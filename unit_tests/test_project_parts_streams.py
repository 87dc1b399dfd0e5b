"""The `releases` and `components` streams: one partition per project, paging, skipped projects."""

from typing import Any

import pytest

from integration_tests.support.configs import cloud_config, server_config
from integration_tests.support.reads import query, read_stream

_CLOUD = "https://acme.atlassian.net/rest/api/3"
_SERVER = "https://jira.example.com/jira/rest/api/2"


def _project(project_id: str, key: str) -> dict[str, Any]:
    return {"id": project_id, "key": key, "name": f"Project {key}"}


def _projects_page(*projects: dict[str, Any]) -> dict[str, Any]:
    return {"startAt": 0, "total": len(projects), "isLast": True, "values": list(projects)}


def _version(version_id: str, project_id: str) -> dict[str, Any]:
    return {"id": version_id, "name": f"v{version_id}", "released": False, "projectId": project_id}


def test_cloud_releases_page_by_what_came_back_and_carry_their_project_key(
    requests_mock: Any,
) -> None:
    listing = requests_mock.get(
        f"{_CLOUD}/project/search", json=_projects_page(_project("1", "A"), _project("2", "B"))
    )
    pages = [
        {"startAt": 0, "total": 3, "isLast": False, "values": [_version("10", "1")]},
        {"startAt": 1, "total": 3, "isLast": True, "values": [_version("11", "1")]},
    ]
    versions_a = requests_mock.get(f"{_CLOUD}/project/A/version", [{"json": p} for p in pages])
    requests_mock.get(
        f"{_CLOUD}/project/B/version",
        json={"startAt": 0, "total": 1, "isLast": True, "values": [_version("20", "2")]},
    )

    output = read_stream(cloud_config(), "releases")

    by_id = {r.record.data["id"]: r.record.data for r in output.records}
    assert sorted(by_id) == ["10", "11", "20"]
    assert by_id["11"]["__projectKey"] == "A" and by_id["20"]["__projectKey"] == "B"
    assert [query(r).get("startAt") for r in versions_a.request_history] == [None, ["1"]]
    assert "expand" not in query(listing.request_history[0])  # the parent asks for keys only


def test_only_the_configured_projects_are_partitions(requests_mock: Any) -> None:
    requests_mock.get(
        f"{_CLOUD}/project/search", json=_projects_page(_project("1", "A"), _project("2", "B"))
    )
    component = {"id": "30", "name": "API", "project": "B", "projectId": 2}
    requests_mock.get(
        f"{_CLOUD}/project/B/component",
        json={"startAt": 0, "total": 1, "isLast": True, "values": [component]},
    )
    other = requests_mock.get(f"{_CLOUD}/project/A/component", json=_projects_page())

    output = read_stream(cloud_config(projects=["B"]), "components")

    [only] = [r.record.data for r in output.records]
    assert only["__project"] == {"id": "2", "key": "B", "name": "Project B"}
    assert query(requests_mock.request_history[-1])["componentSource"] == ["jira"]
    assert not other.called


def test_server_components_are_one_array_per_project(requests_mock: Any) -> None:
    requests_mock.get(f"{_SERVER}/project", json=[_project("1", "A")])
    components = [{"id": str(n), "name": f"c{n}", "project": "A"} for n in range(3)]
    requests_mock.get(f"{_SERVER}/project/A/components", json=components)

    output = read_stream(server_config(), "components")

    assert sorted(r.record.data["id"] for r in output.records) == ["0", "1", "2"]


@pytest.mark.parametrize("status", [403, 404])
def test_a_project_jira_will_not_show_is_skipped_with_one_line(
    requests_mock: Any, status: int
) -> None:
    requests_mock.get(f"{_SERVER}/project", json=[_project("1", "A"), _project("2", "B")])
    hidden = requests_mock.get(
        f"{_SERVER}/project/A/versions",
        status_code=status,
        json={"errorMessages": ["No project could be found with key 'A'."], "errors": {}},
    )
    requests_mock.get(f"{_SERVER}/project/B/versions", json=[_version("20", "2")])

    output = read_stream(server_config(), "releases")

    assert [r.record.data["id"] for r in output.records] == ["20"]
    assert not output.errors
    assert hidden.call_count == 1  # not retried
    lines = [m for m in output.logs if "Skipped the releases" in m.log.message]
    assert len(lines) == 1
    assert "/project/A/versions" in lines[0].log.message
    assert "No project could be found with key 'A'." in lines[0].log.message
