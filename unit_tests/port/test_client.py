from __future__ import annotations

from typing import Any

import pytest
import requests_mock as rm

from source_jira_port.port.client import (
    EntityError,
    PortAuthError,
    PortClient,
    bulk_chunks,
)
from source_jira_port.port.limits import MAX_REQUEST_BYTES
from source_jira_port.port.transport import PortApiError, encode_json

_BASE = "https://port.test"
_TOKEN_URL = f"{_BASE}/v1/auth/access_token"
_BULK_URL = f"{_BASE}/v1/blueprints/jiraIssue/entities/bulk"
_SECRET = "s3cr3t-value"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _token(value: str, expires_in: int = 3600) -> dict[str, Any]:
    return {
        "json": {"ok": True, "accessToken": value, "expiresIn": expires_in, "tokenType": "Bearer"}
    }


def _client(clock: Clock | None = None) -> PortClient:
    return PortClient(_BASE, "id", _SECRET, sleep=lambda _: None, clock=clock or Clock())


def _upsert(client: PortClient, entities: list[dict[str, Any]]) -> list[EntityError]:
    return client.upsert_entities(
        "jiraIssue", entities, merge=True, create_missing_related_entities=True
    )


def _auth_headers(requests_mock: rm.Mocker, url: str) -> list[str]:
    return [
        r.headers["Authorization"] for r in requests_mock.request_history if r.url.startswith(url)
    ]


def test_token_is_fetched_once_and_reused(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t1"))
    requests_mock.post(_BULK_URL, json={"ok": True, "entities": [], "errors": []})
    client = _client()

    _upsert(client, [{"identifier": "A-1"}])
    _upsert(client, [{"identifier": "A-2"}])

    token_calls = [r for r in requests_mock.request_history if r.url == _TOKEN_URL]
    assert len(token_calls) == 1
    assert token_calls[0].json() == {"clientId": "id", "clientSecret": _SECRET}
    assert _auth_headers(requests_mock, _BULK_URL) == ["Bearer t1", "Bearer t1"]


def test_token_is_refreshed_when_it_expires(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, [_token("t1", expires_in=100), _token("t2")])
    requests_mock.post(_BULK_URL, json={"ok": True, "entities": [], "errors": []})
    clock = Clock()
    client = _client(clock)

    _upsert(client, [{"identifier": "A-1"}])
    clock.now += 95  # within expiresIn, but past the refresh margin
    _upsert(client, [{"identifier": "A-2"}])

    assert _auth_headers(requests_mock, _BULK_URL) == ["Bearer t1", "Bearer t2"]


def test_401_refreshes_the_token_and_retries(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, [_token("old"), _token("new")])
    requests_mock.post(
        _BULK_URL,
        [{"status_code": 401, "json": {"ok": False}}, {"json": {"ok": True, "errors": []}}],
    )

    assert _upsert(_client(), [{"identifier": "A-1"}]) == []
    assert _auth_headers(requests_mock, _BULK_URL) == ["Bearer old", "Bearer new"]


def test_401_after_a_fresh_token_is_an_auth_error(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, [_token("old"), _token("new")])
    requests_mock.post(_BULK_URL, status_code=401, json={"ok": False})

    with pytest.raises(PortAuthError, match="fresh access token"):
        _upsert(_client(), [{"identifier": "A-1"}])


def test_bulk_upsert_sends_port_flags(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    requests_mock.post(_BULK_URL, json={"ok": True, "errors": []})
    client = _client()

    client.upsert_entities(
        "jiraIssue", [{"identifier": "A-1"}], merge=True, create_missing_related_entities=True
    )
    with_create = requests_mock.last_request.qs
    client.upsert_entities(
        "jiraIssue", [{"identifier": "A-1"}], merge=False, create_missing_related_entities=False
    )

    assert with_create == {
        "upsert": ["true"],
        "merge": ["true"],
        "create_missing_related_entities": ["true"],
    }
    assert requests_mock.last_request.qs == {"upsert": ["true"], "merge": ["false"]}
    assert requests_mock.last_request.json() == {"entities": [{"identifier": "A-1"}]}


def test_207_reports_each_rejected_entity_by_index(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    requests_mock.post(
        _BULK_URL,
        status_code=207,
        json={
            "ok": True,
            "entities": [{"created": True, "identifier": "A-1", "index": 0, "additionalData": {}}],
            "errors": [
                {
                    "identifier": "unknown",
                    "index": 1,
                    "statusCode": 422,
                    "error": "invalid_request",
                    "message": "Property foo is not defined",
                }
            ],
        },
    )

    errors = _upsert(_client(), [{"identifier": "A-1"}, {"identifier": "A-2"}])

    assert errors == [
        EntityError(1, "unknown", 422, "invalid_request", "Property foo is not defined")
    ]


def test_bulk_result_tells_created_entities_from_updated_ones(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    accepted = [
        {"created": False, "identifier": "A-1", "index": 0, "additionalData": {}},
        {"created": True, "identifier": "A-2", "index": 1, "additionalData": {}},
    ]
    requests_mock.post(_BULK_URL, json={"ok": True, "entities": accepted, "errors": []})

    result = _upsert(_client(), [{"identifier": "A-1"}, {"identifier": "A-2"}])

    assert result == []
    assert result.created == {1}


def test_whole_request_failure_raises_with_port_message(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    requests_mock.post(
        _BULK_URL, status_code=404, json={"ok": False, "error": "not_found", "message": "no bp"}
    )

    with pytest.raises(PortApiError, match=r"HTTP 404 on POST .*: not_found no bp") as raised:
        _upsert(_client(), [{"identifier": "A-1"}])
    assert raised.value.status_code == 404


@pytest.mark.parametrize("status", [401, 404])
def test_rejected_credentials_explain_region_without_the_secret(
    requests_mock: rm.Mocker, status: int
) -> None:
    requests_mock.post(
        _TOKEN_URL,
        status_code=status,
        json={"ok": False, "error": "invalid_credentials", "message": "bad"},
    )

    with pytest.raises(PortAuthError) as raised:
        _client().authenticate()
    message = str(raised.value)
    assert f"HTTP {status}: invalid_credentials bad" in message
    assert "https://api.getport.io" in message and "https://api.us.getport.io" in message
    assert _SECRET not in message


def test_non_port_url_is_explained(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, status_code=404, text="<html>Not Found</html>")

    with pytest.raises(PortAuthError, match="does not look like Port's API"):
        _client().authenticate()


def test_blueprint_lookup_returns_none_when_missing(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    requests_mock.get(f"{_BASE}/v1/blueprints/jiraIssue", status_code=404, json={"ok": False})
    requests_mock.get(
        f"{_BASE}/v1/blueprints/jiraProject",
        json={"ok": True, "blueprint": {"identifier": "jiraProject"}},
    )
    client = _client()

    assert client.get_blueprint("jiraIssue") is None
    assert client.get_blueprint("jiraProject") == {"identifier": "jiraProject"}


def test_list_identifiers_follows_pagination(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    search = requests_mock.post(
        f"{_BASE}/v1/blueprints/jiraIssue/entities/search",
        [
            {"json": {"ok": True, "entities": [{"identifier": "A-1"}], "next": "page2"}},
            {"json": {"ok": True, "entities": [{"identifier": "A-2"}]}},
        ],
    )

    assert _client().list_identifiers("jiraIssue") == ["A-1", "A-2"]
    assert search.request_history[0].json() == {"include": ["$identifier"], "limit": 1000}
    assert search.request_history[1].json()["from"] == "page2"


def test_delete_entities_sends_at_most_100_ids_per_request(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    delete = requests_mock.post(
        f"{_BASE}/v1/blueprints/jiraIssue/bulk/entities/delete", json={"ok": True}
    )

    _client().delete_entities("jiraIssue", [f"A-{n}" for n in range(250)], delete_dependents=True)

    assert [len(r.json()["entities"]) for r in delete.request_history] == [100, 100, 50]
    assert delete.request_history[0].qs == {"delete_dependents": ["true"]}


def test_a_bulk_delete_port_answers_404_is_retried_one_by_one_missing_ones_skipped(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    not_found = {"status_code": 404, "json": {"ok": False, "error": "not_found"}}
    requests_mock.post(f"{_BASE}/v1/blueprints/jiraIssue/bulk/entities/delete", **not_found)
    gone = requests_mock.delete(f"{_BASE}/v1/blueprints/jiraIssue/entities/A-1", **not_found)
    there = requests_mock.delete(f"{_BASE}/v1/blueprints/jiraIssue/entities/A-2", json={"ok": True})

    _client().delete_entities("jiraIssue", ["A-1", "A-2"], delete_dependents=False)

    assert gone.called and there.called
    assert there.last_request.qs == {"delete_dependents": ["false"]}


def test_a_failing_single_delete_is_raised(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    requests_mock.post(f"{_BASE}/v1/blueprints/jiraIssue/bulk/entities/delete", status_code=404)
    requests_mock.delete(f"{_BASE}/v1/blueprints/jiraIssue/entities/A-1", status_code=422)

    with pytest.raises(PortApiError, match="422"):
        _client().delete_entities("jiraIssue", ["A-1"], delete_dependents=True)


def test_identifiers_are_url_encoded_in_paths(requests_mock: rm.Mocker) -> None:
    requests_mock.post(_TOKEN_URL, **_token("t"))
    lookup = requests_mock.get(f"{_BASE}/v1/blueprints/a%2Fb", status_code=404, json={})

    _client().get_blueprint("a/b")

    assert lookup.called


def test_bulk_chunks_split_at_the_entity_count() -> None:
    entities = [{"identifier": f"A-{n}"} for n in range(45)]

    assert [len(chunk) for chunk in bulk_chunks(entities, 20)] == [20, 20, 5]


def test_bulk_chunks_split_at_one_mebibyte() -> None:
    entities = [{"identifier": f"A-{n}", "title": "x" * 300_000} for n in range(7)]

    chunks = bulk_chunks(entities, 20)

    assert [len(chunk) for chunk in chunks] == [3, 3, 1]
    for chunk in chunks:
        body = encode_json({"entities": [entities[i] for i in chunk]})
        assert len(body) <= MAX_REQUEST_BYTES
    assert len(encode_json({"entities": entities[:4]})) > MAX_REQUEST_BYTES


def test_bulk_chunks_of_nothing_is_empty() -> None:
    assert bulk_chunks([], 20) == []


def test_token_endpoint_outage_is_an_api_error_without_the_secret(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.post(_TOKEN_URL, status_code=500, json={"ok": False, "error": "boom"})

    with pytest.raises(PortApiError) as raised:
        _client().authenticate()
    assert not isinstance(raised.value, PortAuthError)
    assert raised.value.status_code == 500 and _SECRET not in str(raised.value)
