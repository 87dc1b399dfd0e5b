"""Where the Jira site is: its URL from the config, and the kinds of Jira there are.

Which kind answers at a site is asked through the Jira client (`jira_client.resolve_deployment`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException

DEPLOYMENTS = ("cloud", "server")


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
