"""The `webhooks` section of sync.yaml, next to the sync's `jira` and `port` sections.

```yaml
webhooks:                         # all optional
  secret: "${JIRA_WEBHOOK_SECRET}"  # verify X-Hub-Signature; also given to Jira by `register`
  host: 127.0.0.1                 # where `serve` listens (0.0.0.0: every interface)
  port: 8080
  queue_path: webhooks.sqlite     # relative to sync.yaml; default <file name>.webhooks.sqlite
  url: https://hooks.example.com/webhooks/jira  # what `register` tells Jira to call
  jql: project = BSD              # `register`: only issues matching this JQL
  max_body_bytes: 1048576         # larger deliveries get 413
```
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from source_jira_port.app.config import load_job
from source_jira_port.port.config import PortSettings

DEFAULT_PORT = 8080
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class WebhookSettings:
    """The validated `webhooks` section, with defaults."""

    queue_path: Path
    secret: str | None = dataclasses.field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    url: str | None = None
    jql: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def from_section(cls, section: Mapping[str, Any], config_path: Path) -> WebhookSettings:
        """Build from a section valid against `WEBHOOKS_SCHEMA`; paths are relative to the file."""
        queue = section.get("queue_path", f"{config_path.stem}.webhooks.sqlite")
        return cls(
            queue_path=config_path.parent / queue,
            secret=section.get("secret"),
            host=section.get("host", "127.0.0.1"),
            port=section.get("port", DEFAULT_PORT),
            url=section.get("url"),
            jql=section.get("jql"),
            max_body_bytes=section.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES),
        )


@dataclasses.dataclass(frozen=True)
class WebhooksJob:
    """What the webhook commands need from sync.yaml."""

    jira: dict[str, Any]
    port: PortSettings
    webhooks: WebhookSettings


def load_webhooks_job(path: Path, env: Mapping[str, str] = os.environ) -> WebhooksJob:
    """Read sync.yaml with the sync's own loader; raise `ConfigError` naming every bad key."""
    job = load_job(path, env)
    return WebhooksJob(
        jira=job.jira,
        port=job.port,
        webhooks=WebhookSettings.from_section(job.webhooks, path),
    )
