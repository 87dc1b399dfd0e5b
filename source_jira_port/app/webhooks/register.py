"""Register the receiver as a Jira admin webhook, once: an existing one for the URL is kept.

Jira Cloud and Server/Data Center up to 9: `/rest/webhooks/1.0/webhook` (secret at the top
level). Data Center 10+: `/rest/jira-webhook/1.0/webhooks` (the old path answers 404; the
secret goes in `configuration.SECRET`, a top-level one is silently ignored). The version comes
from `/rest/api/2/serverInfo` `versionNumbers`. Registering needs a Jira administrator.
Requests go through the Jira client, so a rate-limited or busy Jira is waited for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

from source_jira_port.app.webhooks.events import WEBHOOK_EVENTS
from source_jira_port.jira_client import JiraClient, JiraError, probe_server_info
from source_jira_port.jira_site import normalize_url

ADMIN_API = "/rest/webhooks/1.0/webhook"
DATA_CENTER_10_API = "/rest/jira-webhook/1.0/webhooks"
WEBHOOK_NAME = "Port (jira-port webhooks)"
_JQL_FILTER = "issue-related-events-section"


class RegistrationError(Exception):
    """Jira did not list or create the webhook; the message says why."""


@dataclasses.dataclass(frozen=True)
class Registration:
    """The outcome: Jira's webhook for the URL (secrets removed) and whether it is new.

    `differs`: an existing webhook has other events or another JQL filter than asked; it is
    left unchanged.
    """

    webhook: dict[str, Any]
    created: bool
    api_path: str
    differs: bool = False


def webhook_api(server_info: Mapping[str, Any]) -> str:
    """Return the registration path for the Jira that sent this `serverInfo`."""
    if str(server_info.get("deploymentType", "")).lower() == "cloud":
        return ADMIN_API
    numbers = server_info.get("versionNumbers") or [0]
    return DATA_CENTER_10_API if int(numbers[0]) >= 10 else ADMIN_API


def webhook_body(
    api_path: str,
    url: str,
    *,
    secret: str | None,
    jql: str | None,
    name: str = WEBHOOK_NAME,
    events: Sequence[str] = WEBHOOK_EVENTS,
) -> dict[str, Any]:
    """Return the JSON that creates the webhook with this API, subscribed to `events`."""
    body: dict[str, Any] = {
        "name": name,
        "url": url,
        "events": list(events),
        "excludeBody": False,
    }
    if jql:
        body["filters"] = {_JQL_FILTER: jql}
    if api_path == DATA_CENTER_10_API:
        configuration = {"EXCLUDE_BODY": "false"}
        if secret:
            configuration["SECRET"] = secret
        body |= {"active": True, "configuration": configuration}
    elif secret:
        body["secret"] = secret
    return body


def register_webhook(
    jira: Mapping[str, Any],
    url: str,
    *,
    secret: str | None = None,
    jql: str | None = None,
    events: Sequence[str] = WEBHOOK_EVENTS,
) -> Registration:
    """Create the webhook for `url` unless Jira has one for it; `jira` is the source config.

    `events`: what it subscribes to (`webhook_events` of the mapping's streams).
    """
    credentials = jira["credentials"]
    if credentials["auth_type"] == "oauth2":
        raise RegistrationError(
            "Registering an admin webhook needs a Jira administrator's API token, password or "
            "personal access token; OAuth 2.0 apps cannot."
        )
    if secret:
        add_to_secrets(secret)  # the CDK logs a refused request with its body
    site = normalize_url(jira["jira_url"])
    api_path = webhook_api(probe_server_info(site))
    client = JiraClient({**jira, "api_base": site}, name="webhooks")
    listed = _call("GET", site + api_path, lambda: client.get(api_path))
    if not isinstance(listed, list):
        raise RegistrationError(f"{site}{api_path} did not answer a list of webhooks")
    for webhook in listed:
        if str(webhook.get("url", "")).rstrip("/") == url.rstrip("/"):
            differs = _differs(webhook, jql, events)
            return Registration(_public(webhook), False, api_path, differs)
    body = webhook_body(api_path, url, secret=secret, jql=jql, events=events)
    created = _call("POST", site + api_path, lambda: client.post(api_path, body))
    return Registration(_public(created), True, api_path)


def _public(webhook: Mapping[str, Any]) -> dict[str, Any]:
    """Return the webhook without any secret Jira may echo."""
    public = {name: value for name, value in webhook.items() if name != "secret"}
    if isinstance(public.get("configuration"), dict):
        public["configuration"] = {
            name: value for name, value in public["configuration"].items() if name != "SECRET"
        }
    return public


def _differs(webhook: Mapping[str, Any], jql: str | None, events: Sequence[str]) -> bool:
    filters = webhook.get("filters") or {}
    return set(webhook.get("events") or ()) != set(events) or (
        (filters.get(_JQL_FILTER) or None) != (jql or None)
    )


def _call(method: str, url: str, send: Callable[[], Any]) -> Any:
    """Return what `send` got from Jira, or raise a `RegistrationError` saying what to fix."""
    try:
        return send()
    except JiraError as error:
        if error.status is None:
            raise RegistrationError(error.message or f"Cannot reach {url}") from error
        hint = ""
        if error.status in (401, 403):
            hint = " Registering webhooks needs a Jira administrator's credentials."
        elif error.status == 404:
            hint = " This Jira has no such webhook API (check the Jira URL)."
        details = "; ".join(error.jira_messages) or error.message or "no details"
        raise RegistrationError(
            f"Jira answered HTTP {error.status} on {method} {url}: {details}.{hint}"
        ) from error
    except ValueError as error:
        raise RegistrationError(f"{method} {url} did not answer JSON") from error
