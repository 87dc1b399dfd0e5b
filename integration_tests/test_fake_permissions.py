"""Tests of the fake Jira's "Get my permissions" over HTTP: keys, the caller, its errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import (
    CLOUD_API_TOKEN,
    CLOUD_EMAIL,
    SERVER_PASSWORD,
    SERVER_USERNAME,
    FakeJira,
)

pytestmark = pytest.mark.integration

_AUTH = {"cloud": (CLOUD_EMAIL, CLOUD_API_TOKEN), "server": (SERVER_USERNAME, SERVER_PASSWORD)}
_VERSION = {"cloud": "3", "server": "2"}


@pytest.fixture(params=["cloud", "server"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param, generate_dataset(projects=1, issues=3)) as fake:
        yield fake


def _ask(jira: FakeJira, params: dict[str, str], *, signed_in: bool = True) -> Any:
    url = f"{jira.base_url}/rest/api/{_VERSION[jira.deployment]}/mypermissions"
    auth = _AUTH[jira.deployment] if signed_in else None
    return requests.get(url, params=params, auth=auth, timeout=10)


def test_each_key_asked_is_answered_with_whether_the_caller_holds_it(jira: FakeJira) -> None:
    answer = _ask(jira, {"permissions": "USER_PICKER,ADMINISTER"})
    assert answer.status_code == 200
    permissions = answer.json()["permissions"]
    assert set(permissions) == {"USER_PICKER", "ADMINISTER"}
    assert permissions["USER_PICKER"]["name"] == "Browse users and groups"
    assert permissions["USER_PICKER"]["type"] == "GLOBAL"
    assert [permissions[k]["havePermission"] for k in ("USER_PICKER", "ADMINISTER")] == [
        True,
        False,
    ]


def test_without_browse_users_or_anonymously_user_picker_is_not_held(jira: FakeJira) -> None:
    anonymous = _ask(jira, {"permissions": "USER_PICKER"}, signed_in=False)
    jira.browse_users = False
    refused = _ask(jira, {"permissions": "USER_PICKER"})
    for answer in (anonymous, refused):
        assert answer.status_code == 200
        assert answer.json()["permissions"]["USER_PICKER"]["havePermission"] is False


@pytest.mark.parametrize("params", [{}, {"permissions": ""}, {"permissions": "USER_PICKR"}])
def test_a_missing_empty_or_unknown_permission_key_is_400(
    jira: FakeJira, params: dict[str, str]
) -> None:
    answer = _ask(jira, params)
    assert answer.status_code == 400
    assert answer.json()["errorMessages"]
