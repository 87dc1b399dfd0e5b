"""Releases and components through the real command lines against the fake Jira and Port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from integration_tests.fakes.jira_data import Version, generate_dataset
from integration_tests.fakes.jira_project_parts import MAX_PAGE
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli, jira_port
from integration_tests.support.configs import PORT_SECRET, write_config
from integration_tests.support.messages import of_type, records

pytestmark = pytest.mark.integration

DEPLOYMENTS = ["cloud", "server"]


@pytest.fixture(params=DEPLOYMENTS)
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param, generate_dataset(projects=3, issues=60)) as fake:
        yield fake


@pytest.fixture
def port() -> Iterator[FakePort]:
    with FakePort(client_secret=PORT_SECRET) as fake:
        yield fake


@pytest.fixture
def request_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the CDK's request cache on disk across syncs, where a cached parent would show."""
    (tmp_path / "cache").mkdir()
    monkeypatch.setenv("REQUEST_CACHE_PATH", str(tmp_path / "cache"))


def _part_requests(fake: FakeJira) -> list[str]:
    return [
        r.path
        for r in fake.requests_log
        if r.path.endswith(("/version", "/versions", "/component", "/components"))
    ]


def _skip_lines(text: str, stream: str) -> list[str]:
    return [line for line in text.splitlines() if f"Skipped the {stream} of one project" in line]


def _add_versions(fake: FakeJira, project_index: int, count: int) -> None:
    project = fake.dataset.projects[project_index]
    fake.dataset.project_versions.extend(
        Version(str(30000 + n), f"3.{n}", project.id, "", False, False, None, None)
        for n in range(count)
    )


def test_both_streams_are_read_to_their_end(source_cli: SourceCli, jira: FakeJira) -> None:
    _add_versions(jira, 0, 2 * MAX_PAGE + 7)  # three pages on Cloud
    config = jira.source_config(num_workers=3)

    code, messages, _ = source_cli.run("read", config, configured_catalog("releases", "components"))

    assert code == 0
    project_keys = {p.id: p.key for p in jira.dataset.projects}
    releases = {r["id"]: r for r in records(messages, "releases")}
    assert set(releases) == {v.id for v in jira.dataset.project_versions}
    for version in jira.dataset.project_versions:
        assert releases[version.id]["__projectKey"] == project_keys[version.project_id]
        assert releases[version.id]["released"] == version.released
    components = {c["id"]: c for c in records(messages, "components")}
    assert set(components) == {c.id for p in jira.dataset.projects for c in p.components}
    assert {c["__project"]["key"] for c in components.values()} == set(project_keys.values())
    first = jira.dataset.projects[0].key
    version_pages = [p for p in _part_requests(jira) if f"/project/{first}/version" in p]
    assert len(version_pages) == (3 if jira.deployment == "cloud" else 1)


def test_the_projects_option_limits_the_partitions(source_cli: SourceCli, jira: FakeJira) -> None:
    key = jira.dataset.projects[2].key
    config = jira.source_config(projects=[key])

    code, messages, _ = source_cli.run("read", config, configured_catalog("releases"))

    assert code == 0
    assert {r["__projectKey"] for r in records(messages, "releases")} == {key}
    assert all(f"/project/{key}/" in path for path in _part_requests(jira))


def test_a_project_jira_will_not_show_is_skipped_with_one_line(
    source_cli: SourceCli, jira: FakeJira
) -> None:
    hidden = jira.dataset.projects[1].key
    jira.project_parts.unreadable.add(hidden)

    code, messages, _ = source_cli.run(
        "read", jira.source_config(), configured_catalog("releases", "components")
    )

    assert code == 0
    logs = "\n".join(str(m["log"]["message"]) for m in of_type(messages, "LOG"))
    for stream in ("releases", "components"):
        [line] = _skip_lines(logs, stream)
        assert f"/project/{hidden}/" in line and "No project could be found" in line
    assert len(records(messages, "releases")) == 6  # the other two projects' versions
    assert not [m for m in of_type(messages, "TRACE") if "error" in m["trace"]]


def test_jira_port_sync_writes_releases_and_components_with_their_relations(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    done = jira_port("sync", "--config", write_config(tmp_path, jira, port))

    assert done.returncode == 0, done.stderr
    projects = set(port.entities("jiraProject"))
    releases = port.entities("jiraRelease")
    keys = {p.id: p.key for p in jira.dataset.projects}
    assert set(releases) == {v.id for v in jira.dataset.project_versions}
    for version in jira.dataset.project_versions:
        entity = releases[version.id]
        assert entity["title"] == version.name
        assert entity["properties"]["released"] == version.released
        assert entity["relations"]["project"] == keys[version.project_id]
    assert {r["relations"]["project"] for r in releases.values()} <= projects
    components = port.entities("jiraComponent")
    assert set(components) == {c.id for p in jira.dataset.projects for c in p.components}
    assert {c["relations"]["project"] for c in components.values()} == projects
    issues = port.entities("jiraIssue")
    for issue in jira.dataset.issues.values():
        wanted = [v.id for v in issue.fix_versions]
        assert issues[issue.key]["relations"]["fixVersions"] == wanted
    assert any(issue.fix_versions for issue in jira.dataset.issues.values())


def test_deleted_versions_and_projects_leave_port_but_not_a_skipped_projects(
    tmp_path: Path, jira: FakeJira, port: FakePort, request_cache: None
) -> None:
    path = write_config(tmp_path, jira, port)
    assert jira_port("sync", "--config", path).returncode == 0
    first, skipped, deleted = jira.dataset.projects
    [gone, *kept] = [v for v in jira.dataset.project_versions if v.project_id == first.id]
    jira.delete_version(gone.id)
    jira.project_parts.unreadable.add(skipped.key)
    deleted_parts = {v.id for v in jira.dataset.project_versions if v.project_id == deleted.id}
    jira.delete_project(deleted.key)

    again = jira_port("sync", "--config", path, "--verbose")

    assert again.returncode == 0, again.stderr
    releases = set(port.entities("jiraRelease"))
    assert gone.id not in releases
    assert {v.id for v in kept} <= releases
    assert {v.id for v in jira.dataset.project_versions if v.project_id == skipped.id} <= releases
    assert not deleted_parts & releases
    components = {c["relations"]["project"] for c in port.entities("jiraComponent").values()}
    assert components == {first.key, skipped.key}
    assert len(_skip_lines(again.stderr, "releases")) == 1
    assert len(_skip_lines(again.stderr, "components")) == 1


def test_a_sync_that_maps_projects_and_issues_only_asks_for_no_version_or_component(
    tmp_path: Path, jira: FakeJira, port: FakePort
) -> None:
    built_in = yaml.safe_load(
        (
            Path(__file__).parents[1] / "source_jira_port/port/defaults/port-app-config.yaml"
        ).read_text()
    )
    built_in["resources"] = [
        r for r in built_in["resources"] if r["kind"] in ("projects", "issues")
    ]
    mapping = yaml.safe_dump(built_in)

    done = jira_port("sync", "--config", write_config(tmp_path, jira, port, mapping=mapping))

    assert done.returncode == 0, done.stderr
    assert port.entities("jiraIssue")
    assert _part_requests(jira) == []
