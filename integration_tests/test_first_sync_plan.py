"""A first sync plans its windows even when Jira rate-limits the planning probes."""

from __future__ import annotations

import json

import pytest

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira, RecordedRequest
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli
from integration_tests.support.messages import records

_ISSUES = 1000
_SINCE_2000 = "updated >= 946684800000"  # the default start, where unplanned windows begin


def _searches(fake: FakeJira) -> list[RecordedRequest]:
    return [r for r in fake.requests_log if r.path.endswith(("/search", "/search/jql"))]


def _is_probe(request: RecordedRequest) -> bool:
    """A planning probe asks for the oldest or newest issue, or (Server) for none: the count."""
    return request.query.get("maxResults") in (["0"], ["1"])


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_a_rate_limited_planning_probe_is_waited_out_and_the_windows_planned(
    source_cli: SourceCli, deployment: str
) -> None:
    catalog = configured_catalog("issues")
    with FakeJira(deployment, generate_dataset(issues=_ISSUES)) as calm:  # type: ignore[arg-type]
        source_cli.run("read", calm.source_config(), catalog)
        calm_searches = len(_searches(calm))
    with FakeJira(deployment, generate_dataset(issues=_ISSUES)) as limited:  # type: ignore[arg-type]
        search = "/rest/api/3/search/jql" if deployment == "cloud" else "/rest/api/2/search"
        limited.inject_failure(429, path_prefix=search, retry_after="1")

        code, messages, _ = source_cli.run("read", limited.source_config(), catalog)

        searches = _searches(limited)
    assert code == 0
    assert len(records(messages, "issues")) == _ISSUES
    assert "not planned" not in json.dumps(messages)
    # The windows start at the oldest issue, not at the default start.
    windows = [r for r in searches if not _is_probe(r)]
    assert not [r for r in windows if _SINCE_2000 in r.query["jql"][0]]
    # The refused probe, then what an unthrottled first sync sends.
    assert len(searches) == calm_searches + 1
