import base64
from typing import Any

import pytest

from integration_tests.support.configs import (
    CLOUD_URL,
    SECRET,
    SERVER_URL,
    cloud_config,
    server_config,
)
from integration_tests.support.reads import read_stream


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("config", "url", "expected_header"),
    [
        (
            cloud_config(),
            f"{CLOUD_URL}/rest/api/3/project/search",
            _basic("bot@example.com", SECRET),
        ),
        (server_config(), f"{SERVER_URL}/rest/api/2/project", _basic("bot", SECRET)),
        (
            server_config(
                credentials={"auth_type": "personal_access_token", "personal_access_token": SECRET}
            ),
            f"{SERVER_URL}/rest/api/2/project",
            f"Bearer {SECRET}",
        ),
        (
            cloud_config(
                credentials={"auth_type": "oauth2", "access_token": SECRET, "cloud_id": "cid"}
            ),
            "https://api.atlassian.com/ex/jira/cid/rest/api/3/project/search",
            f"Bearer {SECRET}",
        ),
    ],
    ids=["cloud-api-token", "server-basic", "dc-pat", "cloud-oauth"],
)
def test_each_credential_type_sends_its_authorization(
    requests_mock: Any, config: dict[str, Any], url: str, expected_header: str
) -> None:
    body: Any = (
        [] if url.endswith("/project") else {"startAt": 0, "total": 0, "isLast": True, "values": []}
    )
    endpoint = requests_mock.get(url, json=body)
    read_stream(config, "projects")
    assert endpoint.last_request.headers["Authorization"] == expected_header
