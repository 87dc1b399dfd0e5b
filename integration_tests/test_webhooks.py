"""Jira webhooks into Port: the fake Jira delivers to a uvicorn-served receiver and FakePort."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from integration_tests.fakes.jira_data import generate_dataset
from integration_tests.fakes.jira_server import FakeJira
from integration_tests.fakes.jira_webhooks import ADMIN_API, DATA_CENTER_10_API, Delivery
from integration_tests.fakes.port_server import FakePort
from integration_tests.support.blueprints import refuse_status
from integration_tests.support.commands import jira_port as jira_port_command
from integration_tests.support.configs import write_config
from source_jira_port.app.main import main as jira_port
from source_jira_port.app.webhooks.config import WebhookSettings
from source_jira_port.app.webhooks.register import register_webhook
from source_jira_port.app.webhooks.server import Receiver
from source_jira_port.port.blueprints import default_blueprints
from source_jira_port.port.client import PortClient
from source_jira_port.port.config import PortSettings

pytestmark = pytest.mark.integration

_SECRET = "webhook-secret"
_PORT_ID, _PORT_SECRET = "port-client", "port-secret"
# Changes happen "a minute ago", so deliveries stamped now come after them, as in Jira.
_BASE_TIME = datetime.now(UTC) - timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _root_logging() -> Iterator[None]:
    """Put back the root logger's handlers after each test.

    An in-process `jira-port` replaces them (main.py) with one writing to the test's captured
    stderr, closed once that test ends; a later receiver's log line would then kill its worker.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level


def _at(seconds: int) -> datetime:
    return _BASE_TIME + timedelta(seconds=seconds)


def _eventually(check: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


class Setup:
    """A fake Jira, a fake Port and receivers on one queue file."""

    def __init__(
        self,
        jira: FakeJira,
        port: FakePort,
        folder: Path,
        mapping: str | None = None,
        **jira_options: Any,
    ) -> None:
        self.jira, self.port, self.folder = jira, port, folder
        self.mapping = mapping  # the sync's and the receiver's port-app-config (None: default)
        self.jira_options = jira_options  # the sync's and the receiver's Jira options (jql)
        self.receiver = self.start_receiver()

    def start_receiver(self) -> Receiver:
        client = PortClient(self.port.base_url, _PORT_ID, _PORT_SECRET, max_attempts=1)
        settings = PortSettings.from_config(
            {
                "port_client_id": _PORT_ID,
                "port_client_secret": _PORT_SECRET,
                "port_base_url": self.port.base_url,
                **({"mapping": self.mapping} if self.mapping else {}),
            }
        )
        hooks = WebhookSettings(queue_path=self.folder / "queue.sqlite", secret=_SECRET, port=0)
        receiver = Receiver(
            hooks,
            settings,
            jira=self.jira.source_config(start_date="2023-01-01T00:00:00Z", **self.jira_options),
            logger=logging.getLogger("test.webhooks"),
            client=client,
            backoff_base=0.02,
            backoff_cap=0.1,
        )
        self.receiver = receiver.start()
        return receiver

    def register(self, jql: str | None = None) -> None:
        register_webhook(
            self.jira.source_config(), self.receiver.webhook_url, secret=_SECRET, jql=jql
        )

    def deliver(self, delivery: Delivery, **options: Any) -> list[int]:
        return self.jira.webhooks.deliver(delivery, **options)

    def updated(self, key: str, seconds: int, **fields: Any) -> Delivery:
        """Change the issue in Jira and return the delivery Jira makes of it."""
        self.jira.update_issue(key, at=_at(seconds), **fields)
        changes = {name: (None, str(value)) for name, value in fields.items()}
        return self.jira.webhooks.issue_event("jira:issue_updated", key, changes=changes)

    def sync(self) -> None:
        """Run `jira-port sync` against the same fakes, the other writer into Port."""
        config = write_config(
            self.folder, self.jira, self.port, mapping=self.mapping, **self.jira_options
        )
        done = jira_port_command("sync", "--config", config)
        assert done.returncode == 0, done.stderr

    def searches(self) -> int:
        """How many searches the fake Jira answered so far."""
        return sum(1 for r in self.jira.requests_log if "/search" in r.path)

    def issue(self, key: str) -> dict[str, Any] | None:
        return self.port.entities("jiraIssue").get(key)

    def counters(self) -> dict[str, int]:
        return dict(requests.get(f"{self.receiver.url}/metrics", timeout=5).json())

    def settled(self, handled: int) -> Callable[[], bool]:
        """True once `handled` events left the queue (applied, deleted or parked)."""

        def check() -> bool:
            counts = self.counters()
            return counts["queued"] == 0 and (
                counts["applied"] + counts["deleted"] + counts["parked"] >= handled
            )

        return check

    def webhooks_command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `jira-port webhooks <args> --config sync.yaml` on the receiver's queue file."""
        config = write_config(self.folder, self.jira, self.port, **self.jira_options)
        document = yaml.safe_load(config.read_text())
        config.write_text(yaml.safe_dump({**document, "webhooks": {"queue_path": "queue.sqlite"}}))
        return jira_port_command("webhooks", *args, "--config", config)


@contextlib.contextmanager
def _running(
    deployment: str, folder: Path, mapping: str | None = None, **jira_options: Any
) -> Iterator[Setup]:
    dataset = generate_dataset(projects=2, issues=12)
    with FakeJira(deployment, dataset) as jira, FakePort(_PORT_ID, _PORT_SECRET) as port:
        setup = Setup(jira, port, folder, mapping, **jira_options)
        try:
            yield setup
        finally:
            setup.receiver.stop()


@pytest.fixture(params=["server", "cloud"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    with _running(request.param, tmp_path) as running:
        running.register()
        yield running


@pytest.fixture
def server_setup(tmp_path: Path) -> Iterator[Setup]:
    with _running("server", tmp_path) as running:
        running.register()
        yield running


def test_created_updated_and_deleted_issues_reach_port(setup: Setup) -> None:
    project = setup.jira.dataset.projects[0].key
    key = setup.jira.add_issue(project, at=_at(1), summary="Login page")["key"]
    created = setup.jira.webhooks.issue_event("jira:issue_created", key)

    assert setup.deliver(created) == [202]
    _eventually(lambda: setup.issue(key) is not None)
    entity = setup.issue(key)
    assert entity is not None
    assert (entity["title"], entity["properties"]["status"]) == ("Login page", "To Do")
    assert entity["relations"]["project"] == project

    assert setup.deliver(setup.updated(key, 2, status="Done", assignee="alant")) == [202]
    _eventually(lambda: (setup.issue(key) or {}).get("properties", {}).get("status") == "Done")
    user = setup.jira.dataset.user("alant")
    assignee = setup.issue(key)["relations"]["assignee"]  # type: ignore[index]
    assert assignee == (user.key if setup.jira.deployment == "server" else user.account_id)

    deleted = setup.jira.webhooks.issue_event("jira:issue_deleted", key)
    setup.jira.delete_issue(key)
    assert setup.deliver(deleted) == [202]
    _eventually(lambda: setup.issue(key) is None)
    _eventually(setup.settled(3))
    assert (setup.counters()["applied"], setup.counters()["deleted"]) == (2, 1)


def test_duplicates_and_out_of_order_deliveries_end_in_the_newest_state(
    server_setup: Setup,
) -> None:
    setup = server_setup
    key = next(iter(setup.jira.dataset.issues))
    older = setup.updated(key, 1, status="In Progress", summary="first")
    newer = setup.updated(key, 2, status="Done", summary="second")

    assert setup.deliver(newer) == [202]
    assert setup.deliver(newer, retry=1) == [200]
    assert setup.deliver(older) == [202]
    assert setup.deliver(older, retry=1) == [200]
    _eventually(setup.settled(2))

    entity = setup.issue(key)
    assert entity is not None
    assert (entity["title"], entity["properties"]["status"]) == ("second", "Done")
    counts = setup.counters()
    assert (counts["duplicates"], counts["applied"]) == (2, 2)
    upserts = setup.port.calls("POST", "/entities/bulk")
    assert {e["title"] for call in upserts for e in call.body["entities"]} == {"second"}


def test_a_late_older_update_does_not_resurrect_a_deleted_issue(server_setup: Setup) -> None:
    setup = server_setup
    key = next(iter(setup.jira.dataset.issues))
    assert setup.deliver(setup.updated(key, 1, summary="exists")) == [202]
    _eventually(lambda: setup.issue(key) is not None)
    late = setup.updated(key, 2, summary="late update")
    deleted = setup.jira.webhooks.issue_event("jira:issue_deleted", key)
    setup.jira.delete_issue(key)

    assert setup.deliver(deleted) == [202]
    assert setup.deliver(late) == [202]
    _eventually(setup.settled(3))

    assert setup.issue(key) is None
    assert setup.counters()["deleted"] == 2


@pytest.mark.parametrize("signature", ["bad", "missing"])
def test_a_bad_signature_is_refused_and_nothing_is_applied(
    server_setup: Setup, signature: str
) -> None:
    setup = server_setup
    key = next(iter(setup.jira.dataset.issues))

    assert setup.deliver(setup.updated(key, 1, summary="forged"), signature=signature) == [401]

    counts = setup.counters()
    assert (counts["rejected"], counts["queued"], counts["applied"]) == (1, 0, 0)
    assert setup.port.entities("jiraIssue") == {}


def test_malformed_and_huge_bodies_get_4xx_and_the_receiver_keeps_serving(
    server_setup: Setup,
) -> None:
    setup = server_setup
    key = next(iter(setup.jira.dataset.issues))
    half_issue = json.dumps({"webhookEvent": "jira:issue_updated", "timestamp": 1, "issue": {}})

    assert setup.deliver(Delivery.raw(b'{"webhookEvent": "jira:issue_upd')) == [400]
    assert setup.deliver(Delivery.raw(half_issue.encode())) == [400]
    assert setup.deliver(Delivery.raw(b"[" * 50_000)) == [400]
    assert setup.deliver(Delivery.raw(b" " * (2 * 1024 * 1024))) == [413]
    assert setup.deliver(Delivery.raw(b"x" * (20 * 1024 * 1024))) == [413]

    health = requests.get(f"{setup.receiver.url}/healthz", timeout=5)
    assert health.status_code == 200
    assert setup.deliver(setup.updated(key, 1, summary="still works")) == [202]
    _eventually(lambda: setup.issue(key) is not None)
    assert setup.counters()["rejected"] == 5


def test_a_port_outage_loses_nothing(server_setup: Setup) -> None:
    setup = server_setup
    keys = list(setup.jira.dataset.issues)[:3]
    setup.port.fail(503, times=None, path="/entities/bulk")

    started = time.perf_counter()
    statuses = [setup.deliver(setup.updated(k, 1, summary=f"{k} during outage")) for k in keys]
    elapsed = time.perf_counter() - started

    assert statuses == [[202]] * 3
    assert elapsed < 2.0  # answered without waiting for Port
    _eventually(lambda: setup.counters()["retried"] >= 6)
    assert setup.port.entities("jiraIssue") == {}
    assert requests.get(f"{setup.receiver.url}/healthz", timeout=5).json()["queued"] == 3

    setup.port.clear_faults()

    _eventually(setup.settled(3))
    assert {k: setup.issue(k)["title"] for k in keys} == {  # type: ignore[index]
        k: f"{k} during outage" for k in keys
    }


def test_events_queued_during_an_outage_are_applied_after_a_restart(server_setup: Setup) -> None:
    setup = server_setup
    keys = list(setup.jira.dataset.issues)[:2]
    setup.port.fail(503, times=None, path="/entities/bulk")
    for k in keys:
        assert setup.deliver(setup.updated(k, 1, summary=f"{k} before restart")) == [202]
    _eventually(lambda: setup.counters()["retried"] >= 2)
    setup.receiver.stop()
    setup.port.clear_faults()

    setup.start_receiver()

    _eventually(setup.settled(2))
    assert sorted(setup.port.entities("jiraIssue")) == sorted(keys)


def test_project_events_update_and_delete_projects(server_setup: Setup) -> None:
    setup = server_setup
    project = setup.jira.dataset.projects[0]
    stored = {"identifier": project.key, "title": "Old", "properties": {"projectType": "software"}}
    setup.port.add_entity("jiraProject", stored)

    assert setup.deliver(setup.jira.webhooks.project_event("project_updated", project.key)) == [202]
    _eventually(lambda: setup.port.entities("jiraProject")[project.key]["title"] == project.name)
    properties = setup.port.entities("jiraProject")[project.key]["properties"]
    assert properties["projectType"] == project.type_key  # read from Jira, not the delivery
    assert properties["url"] == f"{setup.jira.base_url}/projects/{project.key}"

    deleted = setup.jira.webhooks.project_event("project_deleted", project.key)
    setup.jira.delete_project(project.key)
    assert setup.deliver(deleted) == [202]
    _eventually(lambda: project.key not in setup.port.entities("jiraProject"))
    other = next(k for k, i in setup.jira.dataset.issues.items() if i.project_key != project.key)
    assert setup.deliver(setup.updated(other, 1, summary="after a 404")) == [202]
    _eventually(lambda: (setup.issue(other) or {}).get("title") == "after a 404")
    assert setup.counters()["retried"] == 0  # the 404 did not stop the reads that follow


@pytest.mark.parametrize(
    ("deployment", "version", "api"),
    [
        ("server", (9, 12, 2), ADMIN_API),
        ("server", (10, 3, 1), DATA_CENTER_10_API),
        ("cloud", None, ADMIN_API),
    ],
)
def test_registration_is_idempotent_and_signs_deliveries(
    tmp_path: Path, deployment: str, version: tuple[int, int, int] | None, api: str
) -> None:
    with _running(deployment, tmp_path) as setup:
        jira, url = setup.jira, setup.receiver.webhook_url
        if version:
            jira.server_version = version

        first = register_webhook(jira.source_config(), url, secret=_SECRET)
        again = register_webhook(jira.source_config(), url, secret=_SECRET)

        assert (first.created, again.created, first.api_path) == (True, False, api)
        [webhook] = jira.webhooks.registered
        assert webhook.secret == _SECRET
        key = next(iter(jira.dataset.issues))
        assert setup.deliver(setup.updated(key, 1, summary="signed")) == [202]


def test_register_command_passes_the_jql_filter(server_setup: Setup, capsys: Any) -> None:
    setup = server_setup
    jira, url = setup.jira, setup.receiver.webhook_url + "?filtered"
    [first, second] = jira.dataset.projects[:2]
    credentials = jira.source_config()["credentials"]
    config = setup.folder / "sync.yaml"
    config.write_text(
        json.dumps(
            {
                "jira": {"jira_url": jira.base_url, "credentials": credentials},
                "port": {"port_client_id": _PORT_ID, "port_client_secret": _PORT_SECRET},
                "webhooks": {"secret": _SECRET, "url": url, "jql": f"project = {first.key}"},
            }
        )
    )

    assert jira_port(["webhooks", "register", "--config", str(config)]) == 0
    assert jira_port(["webhooks", "register", "--config", str(config)]) == 0

    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [w["url"] for w in printed] == [url, url]
    assert "secret" not in json.dumps(printed)
    hook = next(w for w in jira.webhooks.registered if w.url == url)
    assert hook.jql == f"project = {first.key}"
    in_scope = next(i for i in jira.dataset.issues.values() if i.project_key == first.key)
    out_of_scope = next(i for i in jira.dataset.issues.values() if i.project_key == second.key)
    assert setup.deliver(setup.updated(in_scope.key, 1, summary="x")) == [202, 202]
    assert setup.deliver(setup.updated(out_of_scope.key, 1, summary="y")) == [202]


# Fetch on apply: what Jira has now decides, never the payload or the order of deliveries.


def _status(setup: Setup, key: str) -> str | None:
    return (setup.issue(key) or {}).get("properties", {}).get("status")


def test_a_stale_redelivery_after_a_sync_leaves_port_current(setup: Setup) -> None:
    key = next(iter(setup.jira.dataset.issues))
    kept = setup.updated(key, 1, status="In Progress")  # a delivery Jira delays or retries
    setup.jira.update_issue(key, at=_at(2), status="Done")
    setup.sync()
    assert _status(setup, key) == "Done"

    assert setup.deliver(kept) == [202]
    _eventually(setup.settled(1))

    assert _status(setup, key) == "Done"


def test_a_late_update_after_a_delete_does_not_recreate_the_entity(setup: Setup) -> None:
    key = next(iter(setup.jira.dataset.issues))
    late = setup.updated(key, 1, summary="late update")
    setup.sync()
    setup.jira.delete_issue(key)
    setup.sync()  # the deletion sweep removes it from Port
    assert setup.issue(key) is None

    assert setup.deliver(late) == [202]
    _eventually(setup.settled(1))

    assert setup.issue(key) is None
    assert setup.counters()["deleted"] == 1


def _forged(delivery: Delivery, **fields: Any) -> Delivery:
    """The same delivery (signed by Jira's secret when sent) with other issue fields."""
    payload = json.loads(delivery.body)
    payload["issue"]["fields"] = {**payload["issue"]["fields"], **fields} if fields else {}
    return Delivery(json.dumps(payload).encode(), issue=delivery.issue, event=delivery.event)


def test_empty_fields_and_a_far_future_updated_change_nothing_in_port(server_setup: Setup) -> None:
    setup = server_setup
    key = next(iter(setup.jira.dataset.issues))
    genuine = setup.jira.webhooks.issue_event("jira:issue_updated", key)
    setup.sync()
    synced = setup.issue(key)

    assert setup.deliver(_forged(genuine)) == [202]
    assert setup.deliver(_forged(genuine, updated="9999-12-31T23:59:59.999+0000")) == [202]
    _eventually(setup.settled(2))
    assert setup.issue(key) == synced

    assert setup.deliver(setup.updated(key, 1, status="Done")) == [202]  # not "older than 9999"
    _eventually(lambda: _status(setup, key) == "Done")


def test_a_burst_for_one_key_costs_a_few_jira_searches(setup: Setup) -> None:
    key = next(iter(setup.jira.dataset.issues))
    burst = [setup.updated(key, 1, summary=f"edit {n}") for n in range(100)]
    setup.jira.update_issue(key, at=_at(2), summary="current")
    before = setup.searches()

    for delivery in burst:
        assert setup.deliver(delivery) == [202]
    _eventually(setup.settled(100), timeout=30)

    assert (setup.issue(key) or {}).get("title") == "current"
    assert setup.searches() - before <= 5
    assert setup.counters()["coalesced"] >= 95


def test_events_wait_while_jira_is_down_then_apply(server_setup: Setup) -> None:
    setup = server_setup
    key = next(iter(setup.jira.dataset.issues))
    search = "/rest/api/2/search"
    setup.jira.inject_failure(503, times=10_000, path_prefix=search, retry_after="0.01")
    assert setup.deliver(setup.updated(key, 1, status="Done")) == [202]

    _eventually(lambda: setup.counters()["retried"] >= 1, timeout=60)
    assert setup.issue(key) is None
    assert setup.counters()["queued"] == 1

    setup.jira.clear_failures()
    _eventually(setup.settled(1), timeout=30)
    assert _status(setup, key) == "Done"


@pytest.mark.parametrize("deployment", ["server", "cloud"])
def test_an_issue_moved_out_of_the_jql_is_removed_on_its_next_event(
    tmp_path: Path, deployment: str
) -> None:
    with _running(deployment, tmp_path, jql="status != Done") as setup:
        setup.register()
        key = next(k for k, i in setup.jira.dataset.issues.items() if i.status.name != "Done")
        setup.sync()
        assert setup.issue(key) is not None

        assert setup.deliver(setup.updated(key, 1, status="Done")) == [202]
        _eventually(setup.settled(1))

        assert setup.issue(key) is None
        assert setup.counters()["deleted"] == 1


# Parked events: what cannot be applied is kept, listed and replayable, never dropped.


def test_an_invalid_entity_is_parked_listed_and_replayed(server_setup: Setup) -> None:
    setup = server_setup
    for blueprint in default_blueprints().values():
        setup.port.add_blueprint(blueprint)
    refuse_status(setup.port, "Done")
    key, other = list(setup.jira.dataset.issues)[:2]

    assert setup.deliver(setup.updated(key, 1, status="Done")) == [202]
    assert setup.deliver(setup.updated(other, 1, status="In Progress")) == [202]
    _eventually(setup.settled(2))

    assert setup.issue(key) is None
    assert _status(setup, other) == "In Progress"
    assert (setup.counters()["parked"], setup.counters()["queued"]) == (1, 0)
    listed = setup.webhooks_command("failed", "--json")
    assert listed.returncode == 0, listed.stderr
    [parked] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (parked["event"], parked["key"]) == ("jira:issue_updated", key)
    assert "'Done' is not one of" in parked["reason"] and parked["parked_at"]
    table = setup.webhooks_command("failed")
    assert table.stdout.split("\t")[0] == str(parked["id"])
    unknown = setup.webhooks_command("replay", str(parked["id"] + 1000))
    assert unknown.returncode == 2 and "not parked" in unknown.stderr

    refuse_status(setup.port, None)  # the blueprint is fixed
    replayed = setup.webhooks_command("replay", str(parked["id"]))
    assert replayed.returncode == 0, replayed.stderr

    _eventually(lambda: _status(setup, key) == "Done", timeout=15)  # the worker polls every 5 s
    assert setup.counters()["parked"] == 0


# Project events follow what the projects stream lists.


def test_a_project_outside_the_projects_option_is_not_written_and_is_deleted(
    tmp_path: Path,
) -> None:
    inside, outside = (p.key for p in generate_dataset(projects=2, issues=12).projects)
    with _running("server", tmp_path, projects=[inside]) as setup:
        setup.register()
        stale = {"identifier": outside, "title": "Stale", "properties": {}}
        setup.port.add_entity("jiraProject", stale)

        for key in (inside, outside):
            assert setup.deliver(setup.jira.webhooks.project_event("project_updated", key)) == [202]
        _eventually(setup.settled(2))

        assert sorted(setup.port.entities("jiraProject")) == [inside]
        assert (setup.counters()["applied"], setup.counters()["deleted"]) == (1, 1)


@pytest.mark.parametrize("deployment", ["server", "cloud"])
def test_an_archived_project_leaves_port_as_it_leaves_the_sync(
    tmp_path: Path, deployment: str
) -> None:
    with _running(deployment, tmp_path) as setup:
        setup.register()
        project = setup.jira.dataset.projects[0].key
        setup.sync()
        assert project in setup.port.entities("jiraProject")

        archived = setup.jira.webhooks.project_event("project_archived", project)
        setup.jira.archive_project(project)
        assert setup.deliver(archived) == [202]
        _eventually(setup.settled(1))
        assert project not in setup.port.entities("jiraProject")

        updated = setup.jira.webhooks.project_event("project_updated", project)
        assert setup.deliver(updated) == [202]  # a late update of the archived project
        _eventually(setup.settled(2))
        assert project not in setup.port.entities("jiraProject")


# User events: the user as Jira has it when the event is applied, mapped by the users resources.


def _user_identity(setup: Setup, index: int = 1) -> str:
    """A person's identity in Jira and Port: the Cloud accountId, the Server key."""
    user = setup.jira.dataset.users[index]
    return user.account_id if setup.jira.deployment == "cloud" else user.key


def _port_user(setup: Setup, identity: str) -> dict[str, Any] | None:
    return setup.port.entities("jiraUser").get(identity)


def test_a_user_event_writes_the_user_jira_has_now_and_user_deleted_removes_it(
    setup: Setup,
) -> None:
    identity = _user_identity(setup)
    stale = setup.jira.webhooks.user_event("user_updated", identity)
    setup.jira.rename_user(identity, "Renamed After The Event")

    assert setup.deliver(stale) == [202]
    _eventually(lambda: (_port_user(setup, identity) or {}).get("title") is not None)
    entity = _port_user(setup, identity)
    assert entity is not None
    assert entity["title"] == "Renamed After The Event"  # Jira's current name, not the payload's

    deleted = setup.jira.webhooks.user_event("user_deleted", identity)
    setup.jira.delete_user(identity)
    assert setup.deliver(deleted) == [202]
    _eventually(lambda: _port_user(setup, identity) is None)
    _eventually(setup.settled(2))
    assert (setup.counters()["applied"], setup.counters()["deleted"]) == (1, 1)


def test_a_user_event_for_a_user_jira_no_longer_has_removes_it(setup: Setup) -> None:
    identity = _user_identity(setup, 2)
    setup.port.add_entity("jiraUser", {"identifier": identity, "title": "Gone", "properties": {}})
    created = setup.jira.webhooks.user_event("user_created", identity)
    setup.jira.delete_user(identity)  # Jira answers 404 when the event is applied

    assert setup.deliver(created) == [202]
    _eventually(lambda: _port_user(setup, identity) is None)
    _eventually(setup.settled(1))
    assert (setup.counters()["deleted"], setup.counters()["parked"]) == (1, 0)
    asked = [r for r in setup.jira.requests_log if r.path.endswith("/mypermissions")]
    assert len(asked) == (1 if setup.jira.deployment == "cloud" else 0)  # may it browse users?


def test_a_user_cloud_hides_from_an_account_without_browse_users_is_parked_not_deleted(
    tmp_path: Path,
) -> None:
    with _running("cloud", tmp_path) as setup:
        setup.register()
        identity = _user_identity(setup, 2)
        setup.port.add_entity(
            "jiraUser", {"identifier": identity, "title": "Kept", "properties": {}}
        )
        setup.jira.browse_users = (
            False  # Cloud then answers 404 for every user, as for a deleted one
        )
        deleted = setup.jira.webhooks.user_event("user_deleted", identity)

        assert setup.deliver(deleted) == [202]
        _eventually(setup.settled(1))

        assert _port_user(setup, identity) is not None
        assert (setup.counters()["deleted"], setup.counters()["parked"]) == (0, 1)
        listed = setup.webhooks_command("failed", "--json")
        [parked] = [json.loads(line) for line in listed.stdout.splitlines()]
        assert "'Browse users and groups' global permission (USER_PICKER)" in parked["reason"]

        setup.jira.browse_users = True  # granted: the replay finds the user, which Jira still has
        replayed = setup.webhooks_command("replay", str(parked["id"]))
        assert replayed.returncode == 0, replayed.stderr
        name = setup.jira.dataset.users[2].display_name
        _eventually(lambda: (_port_user(setup, identity) or {}).get("title") == name, timeout=15)
        assert setup.counters()["parked"] == 0


def test_user_events_are_registered_only_when_the_mapping_maps_users(
    server_setup: Setup, capsys: Any
) -> None:
    setup = server_setup
    jira = setup.jira
    credentials = jira.source_config()["credentials"]
    only_issues = (
        "resources:\n- kind: issues\n  selector: {query: 'true'}\n  port:\n    entity:\n"
        "      mappings: {identifier: .key, title: .fields.summary, blueprint: '\"jiraIssue\"',"
        " properties: {}}\n"
    )
    urls = {"default": "http://127.0.0.1:9/default", "issues": "http://127.0.0.1:9/issues"}
    for name, mapping in (("default", None), ("issues", only_issues)):
        port = {"port_client_id": _PORT_ID, "port_client_secret": _PORT_SECRET}
        config = setup.folder / f"{name}.yaml"
        document = {
            "jira": {"jira_url": jira.base_url, "credentials": credentials},
            "port": port | ({"mapping": mapping} if mapping else {}),
            "webhooks": {"url": urls[name]},
        }
        config.write_text(json.dumps(document))
        assert jira_port(["webhooks", "register", "--config", str(config)]) == 0
    capsys.readouterr()

    events = {hook.url: set(hook.events) for hook in jira.webhooks.registered}
    user_events = {"user_created", "user_updated", "user_deleted"}
    assert user_events <= events[urls["default"]]
    assert events[urls["issues"]] == {
        "jira:issue_created",
        "jira:issue_updated",
        "jira:issue_deleted",
    }


# Issue resources with a `selector.jql`: each maps the issues its JQL matches when applied.


def _split_by_jql() -> str:
    """The default mapping with its issues resource split: issues not Done as `KEY`, Done ones
    as `KEY-done` (no relations to other issues, which Port would create bare)."""
    document = yaml.safe_load(
        (resources.files("source_jira_port.port") / "defaults" / "port-app-config.yaml").read_text()
    )
    [issues] = [r for r in document["resources"] if r["kind"] == "issues"]
    for relation in ("parentIssue", "subtasks"):
        del issues["port"]["entity"]["mappings"]["relations"][relation]
    done = copy.deepcopy(issues)
    issues["selector"]["jql"] = "status != Done"
    done["selector"]["jql"] = "status = Done"
    done["port"]["entity"]["mappings"]["identifier"] = '.key + "-done"'
    document["resources"].append(done)
    return str(yaml.safe_dump(document))


@pytest.mark.parametrize("deployment", ["server", "cloud"])
def test_an_issue_updated_out_of_a_resource_jql_loses_that_resources_entity(
    tmp_path: Path, deployment: str
) -> None:
    with _running(deployment, tmp_path, mapping=_split_by_jql()) as setup:
        setup.register()
        key = next(k for k, i in setup.jira.dataset.issues.items() if i.status.name != "Done")
        setup.sync()
        assert (setup.issue(key) is not None, setup.issue(f"{key}-done")) == (True, None)

        assert setup.deliver(setup.updated(key, 1, status="Done")) == [202]
        _eventually(setup.settled(1))

        assert setup.issue(key) is None  # out of its resource's JQL: that entity is gone
        moved = setup.issue(f"{key}-done")
        assert moved is not None
        assert moved["properties"]["status"] == "Done"
        assert setup.counters()["parked"] == 0
