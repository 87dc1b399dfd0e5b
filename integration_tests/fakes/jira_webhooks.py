"""Webhooks of the fake Jira: the admin registration APIs and real-shaped, signed deliveries.

Registration: `/rest/webhooks/1.0/webhook` on Cloud and on Server up to 9, and
`/rest/jira-webhook/1.0/webhooks` on Data Center 10+ (`FakeJira.server_version`), where the
old path is 404 and only `configuration.SECRET` sets the secret (a top-level one is ignored).

Deliveries: build one with :meth:`JiraWebhooks.issue_event`, :meth:`project_event` or
:meth:`user_event` (the v2 representation as it is at that moment, as Jira snapshots it),
then :meth:`deliver` it as often and in whatever order a test needs, with a valid, bad or
missing signature;
:meth:`Delivery.raw` sends any bytes (malformed JSON, a huge body).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import requests

from integration_tests.fakes.jira_data import Dataset, Deployment, Issue, Renderer
from integration_tests.fakes.jql import JqlError, parse_jql

ADMIN_API = "/rest/webhooks/1.0/webhook"
DATA_CENTER_10_API = "/rest/jira-webhook/1.0/webhooks"
_JQL_FILTER = "issue-related-events-section"
_TIMEOUT_SECONDS = 30
Signature = Literal["valid", "bad", "missing"]


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One delivery as Jira sends it: the raw body and the identifier kept across retries."""

    body: bytes
    identifier: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    issue: Issue | None = None  # the issue at event time, for webhooks' JQL filters
    event: str | None = None

    @classmethod
    def raw(cls, body: bytes) -> Delivery:
        """A delivery of arbitrary bytes, sent to every registered webhook."""
        return cls(body)


@dataclasses.dataclass(frozen=True)
class Webhook:
    """A registered webhook."""

    id: int
    name: str
    url: str
    events: tuple[str, ...]
    jql: str | None
    secret: str | None = dataclasses.field(repr=False)
    created: int


class Site(Protocol):
    """What the webhooks read of the fake Jira that serves them (`FakeJira`)."""

    base_url: str
    dataset: Dataset
    deployment: Deployment
    server_version: tuple[int, int, int]
    zone: ZoneInfo


class JiraWebhooks:
    """The webhooks of one fake Jira site: `registered`, the API routes, and deliveries."""

    def __init__(self, fake: Site) -> None:
        self._fake = fake
        self._lock = threading.Lock()
        self._hooks: list[Webhook] = []
        self._ids = itertools.count(1)
        self._changelog_ids = itertools.count(10400)

    @property
    def registered(self) -> list[Webhook]:
        """The registered webhooks, oldest first."""
        with self._lock:
            return list(self._hooks)

    # registration API ----------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        """Whether `path` belongs to a webhook registration API (either style)."""
        return path.rstrip("/") in (ADMIN_API, DATA_CENTER_10_API)

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """Answer an authenticated registration request: (status, JSON body)."""
        data_center_10 = self._fake.deployment == "server" and self._fake.server_version[0] >= 10
        if path.rstrip("/") != (DATA_CENTER_10_API if data_center_10 else ADMIN_API):
            return 404, {"errorMessages": [f"null for uri: {self._fake.base_url}{path}"]}
        view = self._dc_view if data_center_10 else self._admin_view
        if method == "GET":
            return 200, [view(hook) for hook in self.registered]
        if method != "POST":
            return 405, {"errorMessages": ["Method Not Allowed"]}
        if not isinstance(body, dict) or not body.get("url") or not body.get("name"):
            return 400, {"errorMessages": ["A webhook needs a name and a url."]}
        jql = (body.get("filters") or {}).get(_JQL_FILTER) or None
        if jql:
            try:
                parse_jql(jql, projects=self._fake.dataset.projects, zone=self._fake.zone)
            except JqlError as error:
                return 400, {"errorMessages": [str(error)]}
        secret = (body.get("configuration") or {}).get("SECRET") if data_center_10 else None
        hook = Webhook(
            id=next(self._ids),
            name=str(body["name"]),
            url=str(body["url"]),
            events=tuple(body.get("events") or ()),
            jql=jql,
            secret=secret if data_center_10 else body.get("secret"),
            created=_now_ms(),
        )
        with self._lock:
            self._hooks.append(hook)
        return 201, view(hook)

    def _admin_view(self, hook: Webhook) -> dict[str, Any]:
        return {
            "self": f"{self._fake.base_url}{ADMIN_API}/{hook.id}",
            "name": hook.name,
            "url": hook.url,
            "excludeBody": False,
            "filters": {_JQL_FILTER: hook.jql or ""},
            "events": list(hook.events),
            "enabled": True,
            "lastUpdatedUser": self._fake.dataset.bot.key,
            "lastUpdated": hook.created,
        }

    def _dc_view(self, hook: Webhook) -> dict[str, Any]:
        return {
            "id": hook.id,
            "name": hook.name,
            "url": hook.url,
            "events": list(hook.events),
            "filters": {_JQL_FILTER: hook.jql or ""},
            "configuration": {"EXCLUDE_BODY": "false"},
            "active": True,
            "scopeType": "global",
            "sslVerificationRequired": True,
            "createdDate": hook.created,
            "updatedDate": hook.created,
        }

    # deliveries ------------------------------------------------------------------------------

    def issue_event(
        self,
        event: str,
        key: str,
        *,
        at_ms: int | None = None,
        changes: Mapping[str, tuple[str | None, str | None]] | None = None,
    ) -> Delivery:
        """A `jira:issue_*` delivery of the issue as it is now (take a deletion's before it).

        `changes` (field -> (from, to)) fills an update's changelog.
        """
        issue = self._fake.dataset.issue(key)
        if issue is None:
            raise KeyError(key)
        renderer = self._renderer()
        payload: dict[str, Any] = {
            "timestamp": _now_ms() if at_ms is None else at_ms,
            "webhookEvent": event,
            "issue_event_type_name": event.removeprefix("jira:"),
            "user": renderer.user(self._fake.dataset.bot),
            "issue": renderer.issue(issue, self._fake.dataset.field_ids()),
        }
        if event == "jira:issue_updated":
            payload["changelog"] = {
                "id": str(next(self._changelog_ids)),
                "items": [
                    {
                        "field": field,
                        "fieldtype": "jira",
                        "fieldId": field,
                        "from": None,
                        "fromString": before,
                        "to": None,
                        "toString": after,
                    }
                    for field, (before, after) in (changes or {}).items()
                ],
            }
        return Delivery(_encode(payload), issue=copy.copy(issue), event=event)

    def project_event(self, event: str, key: str, *, at_ms: int | None = None) -> Delivery:
        """A `project_*` delivery; the project's `id` is a number, as in real deliveries."""
        project = self._fake.dataset.project(key)
        if project is None:
            raise KeyError(key)
        renderer = self._renderer()
        listed = renderer.project(project)
        payload = {
            "timestamp": _now_ms() if at_ms is None else at_ms,
            "webhookEvent": event,
            "project": {
                "self": listed["self"],
                "id": int(project.id),
                "key": project.key,
                "name": project.name,
                "avatarUrls": listed["avatarUrls"],
                "projectLead": renderer.user(project.lead),
                "assigneeType": "admin.assignee.type.unassigned",
            },
        }
        return Delivery(_encode(payload), event=event)

    def user_event(self, event: str, ident: str, *, at_ms: int | None = None) -> Delivery:
        """A `user_*` delivery of the user (accountId, name or key) as it is now.

        Atlassian's webhook pages (Cloud and Data Center, "User related events") name the
        events, not their body; it is the user under `user`, as Jira renders one (Cloud:
        `accountId`, no `name`/`key`; Server: `name`, `key`), as jira.js types it
        (`UserWebhookPayload`: "user is named after the entity"). JQL filters do not apply to
        user events.
        """
        user = self._fake.dataset.user(ident)
        payload = {
            "timestamp": _now_ms() if at_ms is None else at_ms,
            "webhookEvent": event,
            "user": self._renderer().user(user),
        }
        return Delivery(_encode(payload), event=event)

    def deliver(
        self, delivery: Delivery, *, retry: int = 0, signature: Signature = "valid"
    ) -> list[int]:
        """POST `delivery` to every webhook it is for; return the HTTP statuses.

        `retry` > 0 marks a redelivery (same identifier); `signature` "bad" sends a wrong
        HMAC, "missing" none, even when the webhook has a secret.
        """
        statuses = []
        for hook in self.registered:
            if not self._wants(hook, delivery):
                continue
            headers = {
                "Content-Type": "application/json; charset=UTF-8",
                "User-Agent": "Atlassian Webhook HTTP Client",
                # One delivery per webhook, its identifier kept across retries.
                "X-Atlassian-Webhook-Identifier": f"{hook.id}-{delivery.identifier}",
                "X-Atlassian-Webhook-Flow": "Primary",
            }
            if retry:
                headers["X-Atlassian-Webhook-Retry"] = str(retry)
            if hook.secret and signature != "missing":
                digest = hmac.new(hook.secret.encode(), delivery.body, hashlib.sha256).hexdigest()
                if signature == "bad":
                    digest = digest[::-1]
                headers["X-Hub-Signature"] = f"sha256={digest}"
            response = requests.post(
                hook.url, data=delivery.body, headers=headers, timeout=_TIMEOUT_SECONDS
            )
            statuses.append(response.status_code)
        return statuses

    def _wants(self, hook: Webhook, delivery: Delivery) -> bool:
        if delivery.event is None:
            return True
        if delivery.event not in hook.events:
            return False
        if hook.jql is None or delivery.issue is None:
            return True
        query = parse_jql(hook.jql, projects=self._fake.dataset.projects, zone=self._fake.zone)
        return bool(query.run([delivery.issue]))

    def _renderer(self) -> Renderer:
        fake = self._fake
        return Renderer(fake.dataset, fake.deployment, "2", fake.base_url, fake.zone)


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _now_ms() -> int:
    return int(time.time() * 1000)
