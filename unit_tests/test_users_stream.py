from typing import Any

from airbyte_cdk.models import FailureType

from integration_tests.support.configs import CLOUD_URL, SERVER_URL, cloud_config, server_config
from integration_tests.support.reads import query, read_stream


def _user(n: int) -> dict[str, Any]:
    return {"accountId": f"5b10a{n:04d}", "displayName": f"User {n}", "active": True}


def test_cloud_pages_by_what_came_back_until_an_empty_page(requests_mock: Any) -> None:
    pages = [[_user(1), _user(2)], [_user(3)], []]  # a short page is not the end
    search = requests_mock.get(f"{CLOUD_URL}/rest/api/3/users/search", [{"json": p} for p in pages])

    output = read_stream(cloud_config(), "users")

    assert [r.record.data["accountId"] for r in output.records] == [
        "5b10a0001",
        "5b10a0002",
        "5b10a0003",
    ]
    assert [query(r).get("startAt") for r in search.request_history] == [None, ["2"], ["3"]]
    assert all(query(r)["maxResults"] == ["1000"] for r in search.request_history)


def test_server_asks_every_user_active_or_not(requests_mock: Any) -> None:
    user = {"key": "JIRAUSER10100", "name": "fred", "displayName": "Fred", "active": False}
    search = requests_mock.get(
        f"{SERVER_URL}/rest/api/2/user/search", [{"json": [user]}, {"json": []}]
    )

    output = read_stream(server_config(), "users")

    assert [r.record.data["key"] for r in output.records] == ["JIRAUSER10100"]
    first = query(search.request_history[0])
    assert first["username"] == ["."]
    assert (first["includeActive"], first["includeInactive"]) == (["true"], ["true"])


def test_an_empty_first_page_is_the_missing_browse_users_permission(requests_mock: Any) -> None:
    search = requests_mock.get(f"{CLOUD_URL}/rest/api/3/users/search", json=[])

    output = read_stream(cloud_config(), "users")

    assert output.records == []
    [error, *_] = output.errors
    assert error.trace is not None and error.trace.error is not None
    assert error.trace.error.failure_type == FailureType.config_error
    assert "'Browse users and groups' global permission" in error.trace.error.message
    assert search.call_count == 1
