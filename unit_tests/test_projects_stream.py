from typing import Any

from integration_tests.support.configs import CLOUD_URL, SERVER_URL, cloud_config, server_config
from integration_tests.support.reads import query, read_stream


def _project(key: str) -> dict[str, Any]:
    return {"id": str(abs(hash(key)) % 10000), "key": key, "name": key.title()}


def test_cloud_pages_project_search_by_what_came_back_until_is_last(requests_mock: Any) -> None:
    pages = [
        {
            "startAt": 0,
            "maxResults": 100,
            "total": 3,
            "isLast": False,
            "values": [_project("A"), _project("B")],
        },
        {"startAt": 2, "maxResults": 100, "total": 3, "isLast": True, "values": [_project("C")]},
    ]
    search = requests_mock.get(
        f"{CLOUD_URL}/rest/api/3/project/search", [{"json": p} for p in pages]
    )

    output = read_stream(cloud_config(), "projects")

    assert [r.record.data["key"] for r in output.records] == ["A", "B", "C"]
    assert [query(r).get("startAt") for r in search.request_history] == [None, ["2"]]
    assert query(search.request_history[0])["maxResults"] == ["100"]


def test_server_reads_the_plain_project_array(requests_mock: Any) -> None:
    requests_mock.get(f"{SERVER_URL}/rest/api/2/project", json=[_project("A"), _project("B")])
    output = read_stream(server_config(), "projects")
    assert [r.record.data["key"] for r in output.records] == ["A", "B"]


def test_configured_projects_limit_the_stream(requests_mock: Any) -> None:
    requests_mock.get(f"{SERVER_URL}/rest/api/2/project", json=[_project("A"), _project("B")])
    output = read_stream(server_config(projects=["B"]), "projects")
    assert [r.record.data["key"] for r in output.records] == ["B"]
