"""Register the receiver as a Jira admin webhook, once: an existing one for the URL is kept.

Jira Cloud and Server/Data Center up to 9: `/rest/webhooks/1.0/webhook` (secret at the top
level). Data Center 10+: `/rest/jira-webhook/1.0/webhooks` (the old path answers 404; the
secret goes in `configuration.SECRET`, a top-level one is silently ignored). The version comes
from `/rest/api/2/serverInfo` `versionNumbers`. Registering needs a Jira administrator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import requests

from source_jira_port.site import json_headers, normalize_url, probe_server_info
from source_jira_port.webhooks.events import WEBHOOK_EVENTS

ADMIN_API = "/rest/webhooks/1.0/webhook"
DATA_CENTER_10_API = "/rest/jira-webhook/1.0/webhooks"
WEBHOOK_NAME = "Port (jira-port webhooks)"
_JQL_FILTER = "issue-related-events-section"
_TIMEOUT_SECONDS = 30


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
    api_path: str, url: str, *, secret: str | None, jql: str | None, name: str = WEBHOOK_NAME
) -> dict[str, Any]:
    """Return the JSON that creates the webhook with this API."""
    body: dict[str, Any] = {
        "name": name,
        "url": url,
        "events": list(WEBHOOK_EVENTS),
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
    jira: Mapping[str, Any], url: str, *, secret: str | None = None, jql: str | None = None
) -> Registration:
    """Create the webhook for `url` unless Jira has one for it; `jira` is the source config."""
    credentials = jira["credentials"]
    if credentials["auth_type"] == "oauth2":
        raise RegistrationError(
            "Registering an admin webhook needs a Jira administrator's API token, password or "
            "personal access token; OAuth 2.0 apps cannot."
        )
    site = normalize_url(jira["jira_url"])
    api_path = webhook_api(probe_server_info(site))
    with requests.Session() as session:
        session.headers.update(json_headers(credentials))
        listed = _call(session, "GET", site + api_path)
        if not isinstance(listed, list):
            raise RegistrationError(f"{site}{api_path} did not answer a list of webhooks")
        for webhook in listed:
            if str(webhook.get("url", "")).rstrip("/") == url.rstrip("/"):
                return Registration(_public(webhook), False, api_path, _differs(webhook, jql))
        body = webhook_body(api_path, url, secret=secret, jql=jql)
        created = _call(session, "POST", site + api_path, body)
    return Registration(_public(created), True, api_path)


def _public(webhook: Mapping[str, Any]) -> dict[str, Any]:
    """Return the webhook without any secret Jira may echo."""
    public = {name: value for name, value in webhook.items() if name != "secret"}
    if isinstance(public.get("configuration"), dict):
        public["configuration"] = {
            name: value for name, value in public["configuration"].items() if name != "SECRET"
        }
    return public


def _differs(webhook: Mapping[str, Any], jql: str | None) -> bool:
    filters = webhook.get("filters") or {}
    return set(webhook.get("events") or ()) != set(WEBHOOK_EVENTS) or (
        (filters.get(_JQL_FILTER) or None) != (jql or None)
    )


def _call(
    session: requests.Session, method: str, url: str, body: Mapping[str, Any] | None = None
) -> Any:
    try:
        response = session.request(method, url, json=body, timeout=_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise RegistrationError(f"Cannot reach {url} ({type(error).__name__})") from error
    if response.ok:
        try:
            return response.json()
        except ValueError as error:
            raise RegistrationError(f"{method} {url} did not answer JSON") from error
    hint = ""
    if response.status_code in (401, 403):
        hint = " Registering webhooks needs a Jira administrator's credentials."
    elif response.status_code == 404:
        hint = " This Jira has no such webhook API (check the Jira URL)."
    raise RegistrationError(
        f"Jira answered HTTP {response.status_code} on {method} {url}: "
        f"{_jira_message(response)}.{hint}"
    )


def _jira_message(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.reason or "no details"
    if isinstance(payload, dict):
        errors = payload.get("errors")
        messages = [
            *(payload.get("errorMessages") or []),
            *(errors.values() if isinstance(errors, dict) else []),
        ]
        if messages:
            return "; ".join(map(str, messages))
    return response.reason or "no details"
