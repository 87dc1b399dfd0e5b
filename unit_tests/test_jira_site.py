from typing import Any

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException

from integration_tests.support.configs import CLOUD_URL, SERVER_URL, cloud_config, server_config
from source_jira_port.jira_client import resolve_deployment
from source_jira_port.jira_site import api_base, normalize_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.atlassian.net", "https://acme.atlassian.net"),
        ("https://acme.atlassian.net/", "https://acme.atlassian.net"),
        ("https://jira.example.com/jira", "https://jira.example.com/jira"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://jira.example.com/jira/rest/api/2/search", "https://jira.example.com/jira"),
        ("  jira.example.com:8443/jira/  ", "https://jira.example.com:8443/jira"),
    ],
)
def test_normalize_url_when_given_common_forms(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    "raw", ["ftp://jira.example.com", "https://", "https://bot:pw@jira.example.com"]
)
def test_normalize_url_rejects_non_jira_urls_as_config_error(raw: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        normalize_url(raw)
    assert error.value.failure_type == FailureType.config_error
    assert "pw" not in (error.value.message or "")


def test_api_base_goes_through_atlassian_gateway_for_oauth() -> None:
    config = cloud_config(
        credentials={"auth_type": "oauth2", "access_token": "t", "cloud_id": "c-1"}
    )
    assert api_base(config) == "https://api.atlassian.com/ex/jira/c-1"


def test_api_base_keeps_server_context_path() -> None:
    assert api_base(server_config()) == SERVER_URL


def test_resolve_deployment_trusts_explicit_choice_without_a_request(requests_mock: Any) -> None:
    assert resolve_deployment(server_config(), SERVER_URL) == "server"
    assert resolve_deployment(cloud_config(), CLOUD_URL) == "cloud"
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    ("deployment_type", "expected"), [("Cloud", "cloud"), ("Server", "server")]
)
def test_resolve_deployment_asks_server_info_when_auto(
    requests_mock: Any, deployment_type: str, expected: str
) -> None:
    requests_mock.get(
        f"{CLOUD_URL}/rest/api/2/serverInfo", json={"deploymentType": deployment_type}
    )
    assert resolve_deployment(cloud_config(deployment="auto"), CLOUD_URL) == expected


def test_resolve_deployment_rejects_oauth_on_server() -> None:
    config = server_config(
        credentials={"auth_type": "oauth2", "access_token": "t", "cloud_id": "c"}
    )
    with pytest.raises(AirbyteTracedException, match="Jira Cloud only"):
        resolve_deployment(config, "https://api.atlassian.com/ex/jira/c")


def test_unreachable_host_is_a_config_error_naming_the_url(requests_mock: Any) -> None:
    requests_mock.get(f"{CLOUD_URL}/rest/api/2/serverInfo", exc=requests.ConnectionError("refused"))
    with pytest.raises(AirbyteTracedException) as error:
        resolve_deployment(cloud_config(deployment="auto"), CLOUD_URL)
    assert error.value.failure_type == FailureType.config_error
    assert "Cannot reach Jira at https://acme.atlassian.net" in (error.value.message or "")


def test_a_site_that_is_not_jira_is_a_config_error(requests_mock: Any) -> None:
    requests_mock.get(f"{SERVER_URL}/rest/api/2/serverInfo", status_code=404, text="<html>")
    with pytest.raises(AirbyteTracedException, match=r"does not look like Jira.*context path"):
        resolve_deployment(server_config(deployment="auto"), SERVER_URL)
