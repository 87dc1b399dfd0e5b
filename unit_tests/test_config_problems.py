"""Every bad config value fails before any request, naming its key and a valid example."""

from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException

from integration_tests.support.configs import SECRET, cloud_config
from source_jira_port.config_problems import source_config_problems
from source_jira_port.source import SourceJiraPort


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        (
            {"start_date": "2024-13-45T00:00:00Z"},
            'start_date: "2024-13-45T00:00:00Z" is not a date and time that exists '
            '(month must be in 1..12), e.g. "2024-01-01T00:00:00Z"',
        ),
        (
            {"start_date": "2024-01-01"},
            'start_date: "2024-01-01" is not in the expected form, e.g. "2024-01-01T00:00:00Z"',
        ),
        ({"jira_url": "ftp://x"}, "jira_url: 'ftp://x' is not a Jira URL. Expected e.g."),
        ({"num_workers": "3"}, "num_workers: must be an integer, not a string, e.g. 3"),
        ({"page_size": 0}, "page_size: 0 is less than the minimum of 1, e.g. 50"),
        ({"projects": "PROJ"}, "projects: must be an array, not a string, e.g. ["),
        ({"deployment": "onprem"}, "deployment: must be one of auto, cloud, server"),
        (
            {"credentials": {"auth_type": "api_token", "email": "a@b.c"}},
            "credentials.api_token: required key is missing",
        ),
    ],
)
def test_each_bad_value_names_its_key_and_a_valid_example(
    overrides: dict[str, Any], problem: str
) -> None:
    problems = source_config_problems(cloud_config(**overrides))
    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_the_source_fails_before_any_request_with_a_config_error(requests_mock: Any) -> None:
    config = cloud_config(start_date="2024-13-45T00:00:00Z", num_workers=0)
    config["credentials"]["api_token"] = 12
    with pytest.raises(AirbyteTracedException) as raised:
        SourceJiraPort(config=config)
    assert raised.value.failure_type == FailureType.config_error
    message = raised.value.message or ""
    assert "credentials.api_token: must be a string, not an integer" in message
    assert "num_workers: 0 is less than the minimum of 1" in message
    assert "12" not in message.replace("1..12", "")
    assert SECRET not in message
    assert requests_mock.request_history == []
