"""The `worklogs` stream: change-list paging, bodies by 1000 ids, issue keys, scope, deletions."""

from typing import Any

from airbyte_cdk.models import SyncMode

from integration_tests.support.configs import cloud_config, server_config
from integration_tests.support.reads import query, read_stream

_API = "https://acme.atlassian.net/rest/api/3"
_SERVER_API = "https://jira.example.com/jira/rest/api/2"
_T = 1_710_000_000_000  # epoch ms after the configs' start_date


def _changes(pairs: list[tuple[int, int]], since: int, last: bool) -> dict[str, Any]:
    values = [{"worklogId": i, "updatedTime": at, "properties": []} for i, at in pairs]
    until = pairs[-1][1] if pairs else since
    return {"values": values, "since": since, "until": until, "lastPage": last}


def _worklog(worklog_id: int, issue_id: int) -> dict[str, Any]:
    return {
        "id": str(worklog_id),
        "issueId": str(issue_id),
        "author": {"accountId": "u-1", "displayName": "Ada"},
        "started": "2024-05-01T10:00:00.000+0000",
        "timeSpentSeconds": 3600,
    }


def _bodies(issue_of: dict[int, int]) -> Any:
    def answer(request: Any, context: Any) -> list[dict[str, Any]]:
        return [_worklog(i, issue_of[i]) for i in request.json()["ids"] if i in issue_of]

    return answer


def _keys(keys: dict[int, str]) -> Any:
    def answer(request: Any, context: Any) -> dict[str, Any]:
        jql = query(request)["jql"][0]
        found = [{"id": str(i), "key": k} for i, k in keys.items() if f"id = {i}" in jql]
        return {"issues": found, "isLast": True}

    return answer


def _no_deletions(requests_mock: Any, api: str = _API) -> Any:
    return requests_mock.get(f"{api}/worklog/deleted", json=_changes([], 0, True))


def test_pages_go_by_until_and_bodies_are_asked_for_1000_ids_at_most(requests_mock: Any) -> None:
    first = [(n, _T + n) for n in range(1, 1001)]
    second = [(n, _T + n) for n in range(1000, 1501)]  # `since` is inclusive: 1000 again
    updated = requests_mock.get(
        f"{_API}/worklog/updated",
        [
            {"json": _changes(first, _T - 500, False)},
            {"json": _changes(second, _T + 1000, True)},
        ],
    )
    bodies = requests_mock.post(
        f"{_API}/worklog/list", json=_bodies(dict.fromkeys(range(1, 1501), 7))
    )
    requests_mock.get(f"{_API}/search/jql", json=_keys({7: "A-7"}))
    _no_deletions(requests_mock)

    output = read_stream(
        cloud_config(), "worklogs", SyncMode.incremental, {"updatedTime": _T - 500}
    )

    since = [query(r)["since"] for r in updated.request_history]
    assert since == [[str(_T - 500)], [str(_T + 1000)]]
    assert [len(r.json()["ids"]) for r in bodies.request_history] == [1000, 501]
    assert {r.record.data["id"] for r in output.records} == {str(n) for n in range(1, 1501)}
    assert {r.record.data["__issueKey"] for r in output.records} == {"A-7"}
    assert output.state_messages[-1].state.stream.stream_state.updatedTime == _T + 1500


def test_worklogs_of_issues_outside_the_projects_are_left_out(requests_mock: Any) -> None:
    requests_mock.get(
        f"{_SERVER_API}/worklog/updated", json=_changes([(1, _T + 10), (2, _T + 20)], _T, True)
    )
    requests_mock.post(f"{_SERVER_API}/worklog/list", json=_bodies({1: 100, 2: 200}))
    search = requests_mock.get(f"{_SERVER_API}/search", json=_keys({100: "IN-1"}))
    _no_deletions(requests_mock, _SERVER_API)

    output = read_stream(server_config(projects=["IN"]), "worklogs", SyncMode.incremental)

    assert [(r.record.data["id"], r.record.data["__issueKey"]) for r in output.records] == [
        ("1", "IN-1")
    ]
    jql = query(search.request_history[0])["jql"][0]
    assert jql.startswith('project in ("IN") AND (')
    assert "id = 100" in jql and "id = 200" in jql
    # The newest change was outside the scope: the cursor stays at the newest one emitted.
    assert output.state_messages[-1].state.stream.stream_state.updatedTime == _T + 10


def test_deleted_worklogs_become_deletion_records_that_never_move_the_cursor_past_the_updates(
    requests_mock: Any,
) -> None:
    requests_mock.get(f"{_API}/worklog/updated", json=_changes([(1, _T + 100)], _T + 50, True))
    requests_mock.post(f"{_API}/worklog/list", json=_bodies({1: 7}))
    requests_mock.get(f"{_API}/search/jql", json=_keys({7: "A-7"}))
    deleted = requests_mock.get(
        f"{_API}/worklog/deleted", json=_changes([(8, _T + 60), (9, _T + 5_000)], _T + 50, True)
    )

    output = read_stream(cloud_config(), "worklogs", SyncMode.incremental, {"updatedTime": _T + 50})

    deletions = [r.record.data for r in output.records if "_ab_cdc_deleted_at" in r.record.data]
    assert [(d["id"], d["updatedTime"]) for d in deletions] == [("8", _T + 60), ("9", _T + 100)]
    assert deletions[1]["_ab_cdc_deleted_at"].startswith("2024-03-09T16:00:05")
    assert query(deleted.request_history[0])["since"] == [str(_T + 50)]
    assert output.state_messages[-1].state.stream.stream_state.updatedTime == _T + 100


def test_an_id_query_jira_refuses_is_split_and_the_gone_issue_left_out(requests_mock: Any) -> None:
    requests_mock.get(
        f"{_API}/worklog/updated", json=_changes([(1, _T + 10), (2, _T + 20)], _T, True)
    )
    requests_mock.post(f"{_API}/worklog/list", json=_bodies({1: 7, 2: 8}))
    gone = {"errorMessages": ["A value with ID '8' does not exist for the field 'id'."]}

    def answer(request: Any, context: Any) -> dict[str, Any]:
        if "id = 8" in query(request)["jql"][0]:
            context.status_code = 400
            return gone
        return _keys({7: "A-7"})(request, context)

    search = requests_mock.get(f"{_API}/search/jql", json=answer)
    _no_deletions(requests_mock)

    output = read_stream(cloud_config(), "worklogs", SyncMode.incremental)

    assert [r.record.data["id"] for r in output.records] == ["1"]
    assert search.call_count == 3
    assert not output.errors


def test_a_worklog_record_is_jiras_with_the_issue_key_and_the_cursor(requests_mock: Any) -> None:
    requests_mock.get(f"{_API}/worklog/updated", json=_changes([(1, _T + 10)], _T, True))
    requests_mock.post(f"{_API}/worklog/list", json=_bodies({1: 7}))
    requests_mock.get(f"{_API}/search/jql", json=_keys({7: "A-7"}))
    _no_deletions(requests_mock)

    output = read_stream(cloud_config(), "worklogs", SyncMode.incremental)

    assert [r.record.data for r in output.records] == [
        {**_worklog(1, 7), "__issueKey": "A-7", "updatedTime": _T + 10}
    ]


def test_a_full_page_of_one_millisecond_ends_the_list_instead_of_looping(
    requests_mock: Any,
) -> None:
    same = [(n, _T) for n in range(1, 1001)]
    updated = requests_mock.get(f"{_API}/worklog/updated", json=_changes(same, _T, False))
    requests_mock.post(f"{_API}/worklog/list", json=_bodies(dict.fromkeys(range(1, 1001), 7)))
    requests_mock.get(f"{_API}/search/jql", json=_keys({7: "A-7"}))
    _no_deletions(requests_mock)

    output = read_stream(cloud_config(), "worklogs", SyncMode.incremental, {"updatedTime": _T})

    assert updated.call_count == 1
    assert len(output.records) == 1000
