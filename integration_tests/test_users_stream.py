"""The users stream through the real `source-jira-port read`, against the fake Jira of each kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integration_tests.fakes.jira_data import User, generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.catalogs import configured_catalog
from integration_tests.support.commands import SourceCli, jira_port
from integration_tests.support.configs import write_config
from integration_tests.support.messages import final_state, of_type, records
from integration_tests.support.port_stub import default_mapping_without

pytestmark = pytest.mark.integration


def _listed(jira: FakeJira) -> list[User]:
    return [u for u in jira.dataset.users if jira.deployment == "cloud" or u.on_server]


def _identity(jira: FakeJira, user: User) -> str:
    return user.account_id if jira.deployment == "cloud" else user.key


def _user_pages(jira: FakeJira) -> list[dict[str, list[str]]]:
    return [
        r.query for r in jira.requests_log if r.path.endswith(("/users/search", "/user/search"))
    ]


def test_every_account_is_read_over_pages_shorter_than_asked(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    fake_jira.max_results_cap = 5  # Jira serves fewer than maxResults=1000: more still follow

    code, messages, stderr = source_cli.run(
        "read", fake_jira.source_config(), configured_catalog("users")
    )

    assert code == 0, stderr
    users = records(messages, "users")
    expected = {_identity(fake_jira, u) for u in _listed(fake_jira)}
    field = "accountId" if fake_jira.deployment == "cloud" else "key"
    assert {u[field] for u in users} == expected and len(users) == len(expected)
    # the people on the issues, the inactive one and those on no issue are all there
    on_issues = {
        _identity(fake_jira, p)
        for i in fake_jira.dataset.issues.values()
        for p in (i.assignee, i.reporter, i.creator)
        if p
    }
    assert on_issues < expected
    assert any(u["active"] is False for u in users)
    pages = _user_pages(fake_jira)
    assert [p.get("startAt", ["0"])[0] for p in pages] == [
        str(n) for n in range(0, len(expected) + 1, 5)
    ] + ([str(len(expected))] if len(expected) % 5 else [])
    assert all(p["maxResults"] == ["1000"] for p in pages)


def test_cloud_lists_app_and_customer_accounts_and_hides_private_emails(
    source_cli: SourceCli,
) -> None:
    with FakeJira("cloud") as jira:
        code, messages, stderr = source_cli.run(
            "read", jira.source_config(), configured_catalog("users")
        )

    assert code == 0, stderr
    users = {u["accountId"]: u for u in records(messages, "users")}
    assert {u["accountType"] for u in users.values()} == {"atlassian", "app", "customer"}
    for user in jira.dataset.users:
        assert ("emailAddress" in users[user.account_id]) is user.email_visible_on_cloud
    assert all("key" not in u and "name" not in u for u in users.values())


def test_server_asks_for_inactive_users_and_has_no_app_accounts(source_cli: SourceCli) -> None:
    with FakeJira("server") as jira:
        code, messages, stderr = source_cli.run(
            "read", jira.source_config(), configured_catalog("users")
        )

    assert code == 0, stderr
    [first, *_] = _user_pages(jira)
    assert first["username"] == ["."] and first["includeInactive"] == ["true"]
    users = records(messages, "users")
    assert {u["key"] for u in users} == {u.key for u in jira.dataset.users if u.on_server}
    assert all(u["emailAddress"] and u["name"] for u in users)


def test_without_the_browse_users_permission_the_read_fails_naming_it(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    fake_jira.browse_users = False  # Jira then answers an empty list, not an error

    code, messages, _ = source_cli.run(
        "read", fake_jira.source_config(), configured_catalog("users")
    )

    assert code != 0
    assert records(messages, "users") == []
    errors = [
        m["trace"]["error"] for m in of_type(messages, "TRACE") if m["trace"]["type"] == "ERROR"
    ]
    assert errors and all(e["failure_type"] == "config_error" for e in errors)
    assert "'Browse users and groups' global permission" in errors[0]["message"]
    assert len(_user_pages(fake_jira)) == 1


def test_jira_port_sync_without_the_permission_exits_2_and_writes_no_user(tmp_path: Path) -> None:
    with (
        FakeJira("server", generate_dataset(issues=30)) as jira,
        FakePort(client_secret="port-secret") as port,
    ):
        jira.browse_users = False
        done = jira_port("sync", "--config", write_config(tmp_path, jira, port))
        users = port.entities("jiraUser")

    assert done.returncode == 2
    assert "needs the 'Browse users and groups' global permission" in done.stderr
    # at most the bare targets of issues' relations (issues may be read alongside users)
    assert all(not user["properties"] for user in users.values()), users


def test_jira_port_sync_reads_only_the_streams_its_mapping_maps(tmp_path: Path) -> None:
    with (
        FakeJira("server", generate_dataset(issues=30)) as jira,
        FakePort(client_secret="port-secret") as port,
    ):
        jira.browse_users = False  # no matter: a mapping without users never asks for them
        mapping = default_mapping_without("users")
        done = jira_port("sync", "--config", write_config(tmp_path, jira, port, mapping=mapping))
        user_requests = [r for r in jira.requests_log if "/user/search" in r.path]
        issues = port.entities("jiraIssue")

    assert done.returncode == 0, done.stderr
    assert user_requests == []
    assert set(issues) == set(jira.dataset.issues)


def _read(cli: SourceCli, jira: FakeJira, state: list[dict[str, Any]] | None) -> list[Any]:
    catalog = configured_catalog("users", "issues", incremental=True)
    code, messages, stderr = cli.run("read", jira.source_config(), catalog, state)
    assert code == 0, stderr
    return messages


def test_a_user_removed_from_jira_is_a_deletion_record_on_the_next_sync(
    source_cli: SourceCli, fake_jira: FakeJira
) -> None:
    first = _read(source_cli, fake_jira, None)
    gone = _listed(fake_jira)[-1]
    fake_jira.delete_user(gone.key)

    second = _read(source_cli, fake_jira, final_state(first))
    third = _read(source_cli, fake_jira, final_state(second))

    field = "accountId" if fake_jira.deployment == "cloud" else "key"
    deleted = [u for u in records(second, "users") if u.get("_ab_cdc_deleted_at")]
    assert [(u[field], u["displayName"]) for u in deleted] == [
        (_identity(fake_jira, gone), gone.display_name)
    ]
    assert len(records(second, "users")) == len(_listed(fake_jira)) + 1
    assert not [u for u in records(third, "users") if u.get("_ab_cdc_deleted_at")]
