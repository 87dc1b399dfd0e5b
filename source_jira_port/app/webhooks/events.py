"""Parse a Jira webhook delivery into an `Event`: which issue, project or user changed.

Deliveries carry the REST v2 representation, also on Cloud. Issue events become records of
the `issues` stream (the issue plus top-level `updated`, `created`, `projectKey`, `projectId`),
project events records of the `projects` stream, user events (`user_created`, `user_updated`,
`user_deleted`, with the account under `user`: Atlassian's "Webhooks" pages, Cloud and Data
Center, list them as "User related events") records of the `users` stream. The applier writes
what Jira has when it applies the event, not this record: the record only names the issue or
project (id and key) or the user (Cloud `accountId`, Server/Data Center `key`).

Nothing unbounded gets past the parser: the event name must be one this receiver handles (others
are None, named only through `capped`), ids must be Jira ids, keys Jira keys (`JIRA_KEY`) and
users' identities `ACCOUNT_ID` or `USER_KEY`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any, TypeGuard

from source_jira_port.stream_names import ISSUES, PROJECTS, USERS

_MAX_MS = 2**63  # SQLite's INTEGER range
# Jira ids are positive longs (entity ids in Jira's database): at most 19 digits.
_JIRA_ID = re.compile(r"[0-9]{1,19}")
# Project keys (Atlassian, "Changing the project key format": the first character a letter, then
# upper-case Modern Roman letters, digits or underscores; Cloud allows at most 10 characters,
# Server/Data Center's "maximum project key size" is an admin setting, bounded here by Jira's
# 255-character key column). The default pattern `[A-Z][A-Z]+` is a subset. An issue key is
# its project's key, a hyphen and the issue's number.
_PROJECT_KEY = r"[A-Z][A-Z0-9_]{0,254}"
PROJECT_KEY = re.compile(_PROJECT_KEY)
ISSUE_KEY = re.compile(rf"{_PROJECT_KEY}-[1-9][0-9]{{0,18}}")
# Cloud account ids: "max length 128" (REST v3 `User.accountId`); seen as 24 hex digits,
# `557058:<uuid>`, `712020:<uuid>` and customers' `qm:<uuid>:<hex>`. Strictest plausible: those
# characters (letters, digits, colon, hyphen, underscore).
ACCOUNT_ID = re.compile(r"[A-Za-z0-9:_-]{1,128}")
# Server/Data Center user keys: `JIRAUSER<n>` since Jira 8, before that the lower-cased username
# at creation (which may hold spaces and punctuation); Jira's key column holds 255 characters.
USER_KEY = re.compile(r"[^\x00-\x1f\x7f]{1,255}")


class Action(StrEnum):
    """What Jira says happened to the record (the applier asks Jira what is true now)."""

    UPSERT = "upsert"
    DELETE = "delete"


# webhookEvent -> (stream, action). Archived and trashed projects leave the projects stream too.
_EVENTS: dict[str, tuple[str, Action]] = {
    "jira:issue_created": (ISSUES, Action.UPSERT),
    "jira:issue_updated": (ISSUES, Action.UPSERT),
    "jira:issue_deleted": (ISSUES, Action.DELETE),
    "project_created": (PROJECTS, Action.UPSERT),
    "project_updated": (PROJECTS, Action.UPSERT),
    "project_restored_deleted": (PROJECTS, Action.UPSERT),
    "project_restored_archived": (PROJECTS, Action.UPSERT),
    "project_deleted": (PROJECTS, Action.DELETE),
    "project_soft_deleted": (PROJECTS, Action.DELETE),
    "project_archived": (PROJECTS, Action.DELETE),
    "user_created": (USERS, Action.UPSERT),
    "user_updated": (USERS, Action.UPSERT),
    "user_deleted": (USERS, Action.DELETE),
}
WEBHOOK_EVENTS = tuple(_EVENTS)


def webhook_events(kinds: Collection[str]) -> tuple[str, ...]:
    """Return the events of the streams `kinds` (those a mapping maps), in their order."""
    return tuple(name for name, (kind, _) in _EVENTS.items() if kind in kinds)


@dataclasses.dataclass(frozen=True)
class Ignored:
    """A delivery of an event type this receiver does not handle; `name` is unchecked text."""

    name: str


class DeliveryError(ValueError):
    """The delivery is not JSON, or not the shape of a Jira webhook event it claims to be."""


@dataclasses.dataclass(frozen=True)
class Event:
    """One change to apply in Port: the event name, the stream, the Jira key and the record."""

    name: str
    kind: str
    key: str
    action: Action
    record: dict[str, Any]

    @property
    def jira_id(self) -> str:
        """The issue's or project's Jira id (digits), the user's accountId or key."""
        return self.key if self.kind == USERS else str(self.record["id"])


def parse_delivery(body: bytes) -> Event | Ignored:
    """Parse a raw delivery; `Ignored` for events this receiver does not handle.

    Raises `DeliveryError` for malformed JSON or a known event with an unexpected shape.
    """
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise DeliveryError(f"body is not JSON: {type(error).__name__}") from error
    if not isinstance(payload, dict):
        raise DeliveryError("body is not a JSON object")
    name = payload.get("webhookEvent")
    if not isinstance(name, str):
        raise DeliveryError("webhookEvent is missing")
    if name not in _EVENTS:
        return Ignored(name)
    kind, action = _EVENTS[name]
    timestamp = payload.get("timestamp")
    if not _epoch_number(timestamp):
        raise DeliveryError(f"{name}: timestamp is not epoch milliseconds")
    if kind == USERS:
        user = dict(_object(payload, "user", name))
        return Event(name, kind, user_identity(user, name), action, user)
    if kind == ISSUES:
        record = issue_record(_object(payload, "issue", name))
    else:
        record = project_record(_object(payload, "project", name))
    if not _JIRA_ID.fullmatch(str(record.get("id") or "")):
        raise DeliveryError(f"{name}: the {kind[:-1]} id is not a Jira id (digits)")
    key_format = ISSUE_KEY if kind == ISSUES else PROJECT_KEY
    if not key_format.fullmatch(record["key"]):
        raise DeliveryError(f"{name}: the {kind[:-1]} key is not a Jira key ({key_format.pattern})")
    return Event(name, kind, record["key"], action, record)


def issue_record(issue: Mapping[str, Any]) -> dict[str, Any]:
    """Return the `issues` stream record for a v2 issue (the manifest's AddFields)."""
    fields = issue.get("fields")
    if not isinstance(fields, dict) or not _text(issue.get("key")):
        raise DeliveryError("issue has no key or no fields")
    project = fields.get("project")
    if not isinstance(project, dict):
        project = {}
    return {
        **issue,
        "updated": fields.get("updated"),
        "created": fields.get("created"),
        "projectKey": project.get("key"),
        "projectId": _id(project.get("id")),
    }


def project_record(project: Mapping[str, Any]) -> dict[str, Any]:
    """Return the `projects` stream record for a webhook project (whose `id` is a number)."""
    if not _text(project.get("key")):
        raise DeliveryError("project has no key")
    return {**project, "id": _id(project.get("id"))}


def user_identity(user: Mapping[str, Any], event: str) -> str:
    """Return the user's identity in Port: the Cloud `accountId`, else the Server `key`."""
    account_id, key = user.get("accountId"), user.get("key")
    if account_id is not None:
        if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
            raise DeliveryError(f"{event}: the user's accountId is not one ({ACCOUNT_ID.pattern})")
        return account_id
    if not isinstance(key, str) or not USER_KEY.fullmatch(key):
        raise DeliveryError(f"{event}: the user has no accountId and no key (1-255 characters)")
    return key


def record_key(kind: str, record: Mapping[str, Any]) -> Any:
    """Return what names a record of `kind` in events: the user's identity, else its `key`."""
    if kind == USERS:
        return record.get("accountId") or record.get("key")
    return record.get("key")


def _object(payload: Mapping[str, Any], name: str, event: str) -> Mapping[str, Any]:
    value = payload.get(name)
    if not isinstance(value, dict):
        raise DeliveryError(f"{event}: {name} is missing")
    return value


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _epoch_number(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_MS


def _id(value: Any) -> str | None:
    return None if value is None else str(value)
