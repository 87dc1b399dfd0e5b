"""`jira-port webhooks serve|register`: real-time updates from Jira webhooks into Port.

    jira-port webhooks serve --config sync.yaml [--host HOST] [--port PORT]
    jira-port webhooks register --config sync.yaml [--url URL] [--jql JQL]

Both read sync.yaml's `jira` and `port` sections and its optional `webhooks` section
(`webhooks.config`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.app.config import ConfigError
from source_jira_port.app.sync import EXIT_FAILED, EXIT_OK
from source_jira_port.app.webhooks.config import load_webhooks_job
from source_jira_port.app.webhooks.register import RegistrationError, register_webhook

logger = logging.getLogger("source_jira_port.app.webhooks")


def add_subcommands(subparsers: Any, parents: list[argparse.ArgumentParser] | None = None) -> None:
    """Add `webhooks serve` and `webhooks register` to a parser's subparsers.

    Each sets `handler` (a function of the parsed args returning the exit code).
    """
    webhooks = subparsers.add_parser(
        "webhooks", help="receive Jira webhooks and apply them to Port in real time"
    )
    commands = webhooks.add_subparsers(dest="webhooks_command", required=True, metavar="COMMAND")
    common = [*(parents or [])]
    serve = commands.add_parser(
        "serve", parents=common, help="receive Jira webhooks and write the changes to Port"
    )
    serve.add_argument("--config", type=Path, required=True, help="the sync.yaml")
    serve.add_argument("--host", help="listen address (default: webhooks.host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: webhooks.port, 8080)")
    serve.set_defaults(handler=serve_command)
    register = commands.add_parser(
        "register", parents=common, help="create the webhook in Jira unless it exists"
    )
    register.add_argument("--config", type=Path, required=True, help="the sync.yaml")
    register.add_argument("--url", help="the receiver's public URL (default: webhooks.url)")
    register.add_argument("--jql", help="only issues matching this JQL (default: webhooks.jql)")
    register.set_defaults(handler=register_command)


def serve_command(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; events accepted but not yet in Port stay in the queue.

    Raises `ConfigError` when the web server's packages (the `webhooks` extra) are missing.
    """
    try:
        from source_jira_port.app.webhooks.app import WEBHOOK_PATH  # noqa: PLC0415
        from source_jira_port.app.webhooks.server import Receiver  # noqa: PLC0415
    except ImportError as error:
        raise ConfigError(
            f"jira-port webhooks serve needs the webhook server's packages ({error}): "
            "pip install 'source-jira-port[webhooks]'"
        ) from error
    job = load_webhooks_job(args.config)
    overrides = {"host": args.host, "port": args.port}
    settings = dataclasses.replace(
        job.webhooks, **{name: value for name, value in overrides.items() if value is not None}
    )
    receiver = Receiver(settings, job.port, jira=job.jira, logger=logger)
    signed = "signed" if settings.secret else "UNSIGNED (no webhooks.secret)"
    address = f"http://{settings.host}:{settings.port}{WEBHOOK_PATH}"
    print(f"Receiving {signed} Jira webhooks at {address}", file=sys.stderr)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: end quietly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        receiver.serve()
    return EXIT_OK


def register_command(args: argparse.Namespace) -> int:
    """Create the webhook in Jira (idempotent); print Jira's webhook as one JSON line."""
    job = load_webhooks_job(args.config)
    url = args.url or job.webhooks.url
    if not url:
        raise ConfigError(f"{args.config}: webhooks.url: required by register (or pass --url)")
    try:
        registration = register_webhook(
            job.jira, url, secret=job.webhooks.secret, jql=args.jql or job.webhooks.jql
        )
    except (RegistrationError, AirbyteTracedException) as error:
        message = error.message if isinstance(error, AirbyteTracedException) else str(error)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_FAILED
    state = "created" if registration.created else "already registered"
    print(f"Webhook for {url} {state} ({registration.api_path})", file=sys.stderr)
    if registration.differs:
        print(
            "warning: the existing webhook has other events or another JQL filter; it was left "
            "unchanged (delete it in Jira and register again to replace it)",
            file=sys.stderr,
        )
    print(json.dumps(registration.webhook))
    return EXIT_OK
