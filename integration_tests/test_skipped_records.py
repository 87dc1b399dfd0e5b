"""Records Port refuses under `on_invalid_record: skip` are retried by id until Port takes them.

End to end: the real `jira-port sync` and `source-jira-port read` against the fake Jira (both
deployments) and the fake Port. Port refuses the issues in status Done while its `jiraIssue`
blueprint allows only the other statuses (an `enum`), as a blueprint a user tightened would.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import yaml

from integration_tests.fakes.jira_data import DONE, generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.blueprints import refuse_status
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli
from source_jira_port.port.blueprints import default_blueprints

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "source_jira_port.app.main"]
_PORT_SECRET = "port-secret"
_BY_ID = re.compile(r"\(id = \d+(?: OR id = \d+)*\)")


@pytest.fixture(params=["cloud", "server"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param, generate_dataset(projects=2, issues=120)) as fake:
        yield fake


@pytest.fixture
def port() -> Iterator[FakePort]:
    with FakePort(client_secret=_PORT_SECRET) as fake:
        for blueprint in default_blueprints().values():
            fake.add_blueprint(blueprint)
        yield fake


def _sync(
    folder: Path, jira: FakeJira, port: FakePort, *options: str
) -> subprocess.CompletedProcess[str]:
    document = {
        "jira": jira.source_config(start_date="2023-01-01T00:00:00Z"),
        "port": {
            "port_client_id": "port-client",
            "port_client_secret": _PORT_SECRET,
            "port_base_url": port.base_url,
            "on_invalid_record": "skip",
        },
        "state_file": "state.json",
    }
    config = folder / "sync.yaml"
    config.write_text(yaml.safe_dump(document))
    done = subprocess.run(
        [*CLI, "sync", "--config", str(config), *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode not in (1, 2), done.stderr  # 0, or the exit code of a skip
    return done


def _pending(folder: Path) -> list[str] | None:
    states = json.loads((folder / "state.json").read_text())
    [issues] = [s for s in states if s["stream"]["stream_descriptor"]["name"] == "issues"]
    pending: list[str] | None = issues["stream"]["stream_state"].get("pending_retry")
    return pending


def _ids_read_by_id(jira: FakeJira) -> list[list[str]]:
    queries = [r.query["jql"][0] for r in jira.requests_log if "jql" in r.query]
    return [re.findall(r"id = (\d+)", m[0]) for q in queries if (m := _BY_ID.search(q))]


def _statuses(port: FakePort, keys: Iterable[str]) -> set[str]:
    """The statuses Port holds for the issues `keys` (none for a missing or bare entity)."""
    entities = port.entities("jiraIssue")
    found = (entities.get(key, {}).get("properties", {}).get("status") for key in keys)
    return {status for status in found if status}


def _done_issues(jira: FakeJira) -> dict[str, str]:
    """Id -> key of the issues in status Done."""
    return {
        str(issue.id): key for key, issue in jira.dataset.issues.items() if issue.status == DONE
    }


def test_refused_issues_are_retried_by_id_until_port_takes_them(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    refuse_status(port, DONE.name)
    refused = _done_issues(jira)
    assert len(refused) > 5

    _sync(tmp_path, jira, port)

    assert _pending(tmp_path) == sorted(refused, key=int)
    # (Port may hold bare placeholders of them, made as relation targets of their neighbours.)
    assert _statuses(port, refused.values()) == set()

    # Port still refuses them; one of them is deleted in Jira meanwhile.
    deleted_id, deleted_key = next(iter(refused.items()))
    jira.delete_issue(deleted_key)
    jira.requests_log.clear()

    _sync(tmp_path, jira, port)

    queries = _ids_read_by_id(jira)
    assert queries[0] == sorted(refused, key=int)  # one query: at most 100 ids
    # Jira refuses the whole query for the deleted id: it is split until that id stands alone.
    assert [deleted_id] in queries
    assert all(set(query) <= set(refused) for query in queries)
    assert len(queries) <= 2 * math.ceil(math.log2(len(refused))) + 1
    still = sorted(set(refused) - {deleted_id}, key=int)
    assert _pending(tmp_path) == still

    # The blueprint is fixed: the next sync, with no change in Jira, writes exactly those.
    refuse_status(port, None)
    jira.requests_log.clear()

    _sync(tmp_path, jira, port)

    assert _ids_read_by_id(jira) == [still[i : i + 100] for i in range(0, len(still), 100)]
    assert math.ceil(len(still) / 100) == len(_ids_read_by_id(jira))
    assert _pending(tmp_path) is None
    assert _statuses(port, [refused[i] for i in still]) == {DONE.name}
    assert deleted_key not in port.entities("jiraIssue")  # the deletion sweep's work


def test_issues_refused_in_a_full_refresh_are_retried_by_the_next_sync(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    refuse_status(port, DONE.name)
    refused = _done_issues(jira)

    _sync(tmp_path, jira, port, "--full-refresh")

    assert _pending(tmp_path) == sorted(refused, key=int)
    refuse_status(port, None)
    jira.requests_log.clear()

    _sync(tmp_path, jira, port)

    assert _ids_read_by_id(jira) == [sorted(refused, key=int)]
    assert _pending(tmp_path) is None
    assert _statuses(port, refused.values()) == {DONE.name}


def test_read_with_pending_ids_emits_those_issues(source_cli: SourceCli, jira: FakeJira) -> None:
    wanted = [str(issue.id) for issue in list(jira.dataset.issues.values())[:3]]
    state = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "issues"},
                "stream_state": {
                    "updated": "2099-01-01T00:00:00.000+0000",
                    "pending_retry": wanted,
                },
            },
        }
    ]
    config = jira.source_config(start_date="2023-01-01T00:00:00Z")

    code, messages, stderr = source_cli.run(
        "read", config, configured_catalog("issues", incremental=True), state
    )

    assert code == 0, stderr
    records = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    assert [r["id"] for r in records if "_ab_cdc_deleted_at" not in r] == wanted
    assert all(r["projectKey"] and r["fields"] for r in records if r["id"] in wanted)
    for message in messages:
        if message["type"] == "STATE":
            assert "pending_retry" not in message["state"]["stream"]["stream_state"]
