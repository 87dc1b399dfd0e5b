"""The `teams` stream through the real command lines against the fake Jira (and Port)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.jira_teams import ORGANIZATION_ID, Team, make_teams
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli, jira_port
from integration_tests.support.configs import PORT_SECRET, write_config
from integration_tests.support.messages import of_type, records

pytestmark = pytest.mark.integration


@pytest.fixture
def cloud() -> Iterator[FakeJira]:
    with FakeJira("cloud", generate_dataset(projects=2, issues=40)) as fake:
        yield fake


def _team_requests(fake: FakeJira) -> list[str]:
    return [r.method for r in fake.requests_log if r.path.startswith("/gateway/")]


def _logs(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m["log"]["message"]) for m in of_type(messages, "LOG")]


def _errors(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["trace"]["error"] for m in of_type(messages, "TRACE") if "error" in m["trace"]]


def test_cloud_reads_every_team_with_every_page_of_its_members(
    source_cli: SourceCli, cloud: FakeJira
) -> None:
    teams = make_teams(cloud.dataset.users, count=302, size=2)  # two pages of teams (300 a page)
    big = [f"account-{n}" for n in range(120)]  # three pages of members (50 a page)
    teams[7] = Team(teams[7].team_id, "Big", "", "OPEN", "ACTIVE", tuple(big))
    cloud.teams.teams = teams
    config = cloud.source_config(atlassian_organization_id=ORGANIZATION_ID)

    code, messages, _ = source_cli.run("read", config, configured_catalog("teams"))

    assert code == 0
    got = {r["teamId"]: r for r in records(messages, "teams")}
    assert {team_id: r["__members"] for team_id, r in got.items()} == {
        team.team_id: [{"accountId": account} for account in team.member_ids] for team in teams
    }
    first = got[teams[0].team_id]
    assert (first["displayName"], first["organizationId"]) == ("Team 1", ORGANIZATION_ID)
    users = {user.account_id for user in cloud.dataset.users}
    assert {member["accountId"] for member in first["__members"]} <= users  # the issues' users
    # 3 team pages (the last one empty), one member page per team, two more for the big one
    assert _team_requests(cloud).count("GET") == 3
    assert _team_requests(cloud).count("POST") == 302 + 2


@pytest.mark.parametrize(
    ("deployment", "options", "reason"),
    [
        ("server", {"atlassian_organization_id": ORGANIZATION_ID}, "Jira Cloud only"),
        ("cloud", {}, "set 'atlassian_organization_id'"),
    ],
)
def test_teams_not_offered_with_one_log_line_and_the_read_goes_on(
    source_cli: SourceCli, deployment: str, options: dict[str, str], reason: str
) -> None:
    with FakeJira(deployment, generate_dataset(projects=2, issues=10)) as fake:  # type: ignore[arg-type]
        config = fake.source_config(**options)
        code, messages, _ = source_cli.run("discover", config)
        assert code == 0
        streams = of_type(messages, "CATALOG")[0]["catalog"]["streams"]
        assert "teams" not in {stream["name"] for stream in streams}
        assert [line for line in _logs(messages) if "teams" in line] == [
            next(line for line in _logs(messages) if reason in line)
        ]

        code, messages, _ = source_cli.run("read", config, configured_catalog("projects"))
        assert code == 0
        assert len(records(messages, "projects")) == 2
        assert _team_requests(fake) == []


def test_an_organization_that_does_not_exist_is_one_config_error(
    source_cli: SourceCli, cloud: FakeJira
) -> None:
    config = cloud.source_config(atlassian_organization_id="not-our-org")

    _, messages, _ = source_cli.run("read", config, configured_catalog("teams", "issues"))

    error = _errors(messages)[0]
    assert error["failure_type"] == "config_error"
    assert "atlassian_organization_id" in error["message"]
    assert "Organization not found" in error["message"]
    assert _team_requests(cloud) == ["GET"]  # no retry storm
    assert records(messages, "teams") == []


def test_members_the_user_may_not_read_are_one_config_error(
    source_cli: SourceCli, cloud: FakeJira
) -> None:
    cloud.teams.members_readable = False
    config = cloud.source_config(atlassian_organization_id=ORGANIZATION_ID)

    _, messages, _ = source_cli.run("read", config, configured_catalog("teams"))

    errors = _errors(messages)
    assert errors[0]["failure_type"] == "config_error"
    assert "may not read the teams" in errors[0]["message"]
    assert "'atlassian_organization_id'" in errors[0]["message"]
    assert records(messages, "teams") == []
    assert _team_requests(cloud).count("POST") <= 3  # one per worker at most, never retried


def test_jira_port_sync_writes_teams_whose_members_are_jira_users(
    tmp_path: Path, cloud: FakeJira
) -> None:
    with FakePort(client_secret=PORT_SECRET) as port:
        path = write_config(tmp_path, cloud, port, atlassian_organization_id=ORGANIZATION_ID)

        done = jira_port("sync", "--config", path)

        assert done.returncode == 0, done.stderr
        teams = port.entities("jiraTeam")
        users = set(port.entities("jiraUser"))
        assert set(teams) == {team.team_id for team in cloud.teams.teams}
        for team in cloud.teams.teams:
            entity = teams[team.team_id]
            assert entity["title"] == team.display_name
            assert entity["properties"]["teamType"] == team.team_type
            assert entity["relations"]["members"] == list(team.member_ids)
            assert set(team.member_ids) <= users  # the relation resolves to jiraUser entities


def test_a_team_gone_from_the_organization_leaves_port_on_the_next_sync(
    tmp_path: Path, cloud: FakeJira, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the CDK keeps its request cache across syncs (its on-disk cache of parent streams
    # must not serve the second sync the first one's team list).
    (tmp_path / "cache").mkdir()
    monkeypatch.setenv("REQUEST_CACHE_PATH", str(tmp_path / "cache"))
    with FakePort(client_secret=PORT_SECRET) as port:
        path = write_config(tmp_path, cloud, port, atlassian_organization_id=ORGANIZATION_ID)
        assert jira_port("sync", "--config", path).returncode == 0
        gone, *kept = cloud.teams.teams
        assert gone.team_id in port.entities("jiraTeam")
        cloud.teams.teams = kept

        again = jira_port("sync", "--config", path)

        assert again.returncode == 0, again.stderr
        state = (tmp_path / "state.json").read_text()
        assert set(port.entities("jiraTeam")) == {team.team_id for team in kept}, (
            again.stderr,
            state,
        )
