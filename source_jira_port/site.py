"""Where the Jira site is and which kind of Jira answers there."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

DEPLOYMENTS = ("cloud", "server")
_PROBE_TIMEOUT_SECONDS = 30
# Busy or rate-limited sites are waited for; an unreachable one fails fast.
_PROBE_RETRY = Retry(
    total=5,
    connect=1,
    read=1,
    status=5,
    backoff_factor=1,
    status_forcelist=(429, 500, 502, 503, 504),
    respect_retry_after_header=True,
    raise_on_status=False,
)


def config_error(message: str) -> AirbyteTracedException:
    """Build the exception Airbyte reports as a `config_error` with `message`."""
    return AirbyteTracedException(
        message=message, internal_message=message, failure_type=FailureType.config_error
    )


def normalize_url(raw: str) -> str:
    """Return the site URL as `scheme://host[:port][/context]`, without a trailing slash.

    A bare domain gets `https://`; a pasted REST URL is cut back to the site it belongs to.
    """
    url = raw.strip()
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise config_error(f"'{raw}' is not a Jira URL. Expected e.g. https://acme.atlassian.net.")
    if "@" in parts.netloc:
        raise config_error(
            "The Jira URL must not contain a username or password; put them under credentials."
        )
    path = parts.path.split("/rest/", 1)[0].rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def api_base(config: Mapping[str, Any]) -> str:
    """Return the URL that `/rest/api/...` paths are appended to.

    OAuth 2.0 tokens only work through Atlassian's gateway, addressed by the site's cloud id.
    """
    credentials = config["credentials"]
    if credentials["auth_type"] == "oauth2":
        gateway = normalize_url(config.get("oauth_gateway_url") or "https://api.atlassian.com")
        return f"{gateway}/ex/jira/{credentials['cloud_id']}"
    return normalize_url(config["jira_url"])


def json_headers(credentials: Mapping[str, Any]) -> dict[str, str]:
    """Return the headers of a JSON request to Jira made with `credentials`."""
    return {"Accept": "application/json", "Authorization": authorization_header(credentials)}


def authorization_header(credentials: Mapping[str, Any]) -> str:
    """Return the `Authorization` value the manifest's authenticator sends for `credentials`."""
    auth_type = credentials["auth_type"]
    if auth_type in ("api_token", "basic"):
        user, secret = (
            (credentials["email"], credentials["api_token"])
            if auth_type == "api_token"
            else (credentials["username"], credentials["password"])
        )
        return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    if auth_type == "personal_access_token":
        return f"Bearer {credentials['personal_access_token']}"
    return f"Bearer {credentials['access_token']}"


def resolve_deployment(config: Mapping[str, Any], base: str) -> str:
    """Return `cloud` or `server`: as configured, or as `/serverInfo` reports it for `auto`."""
    configured = config.get("deployment") or "auto"
    if config["credentials"]["auth_type"] == "oauth2":
        if configured == "server":
            raise config_error("OAuth 2.0 access tokens work with Jira Cloud only.")
        return "cloud"
    if configured in DEPLOYMENTS:
        return str(configured)
    deployment_type = probe_server_info(base).get("deploymentType", "")
    return "cloud" if str(deployment_type).lower() == "cloud" else "server"


def probe_server_info(base: str) -> Mapping[str, Any]:
    """Fetch `/rest/api/2/serverInfo` (anonymous) and fail with an actionable message.

    Jira answers it without credentials, so it tells "wrong address" apart from "wrong password".
    """
    url = f"{base}/rest/api/2/serverInfo"
    with requests.Session() as session:
        session.mount(base, HTTPAdapter(max_retries=_PROBE_RETRY))
        try:
            response = session.get(
                url, headers={"Accept": "application/json"}, timeout=_PROBE_TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            raise config_error(
                f"Cannot reach Jira at {base} ({type(error).__name__}). Check the Jira URL and "
                "that this machine can connect to it."
            ) from error
    try:
        info = response.json() if response.ok else None
    except requests.JSONDecodeError:
        info = None
    if not isinstance(info, dict) or "deploymentType" not in info:
        raise config_error(
            f"{base} does not look like Jira: {url} answered HTTP {response.status_code} without "
            "Jira's server info. Check the Jira URL, including any context path such as /jira, "
            "or set the deployment to cloud or server."
        )
    return info
