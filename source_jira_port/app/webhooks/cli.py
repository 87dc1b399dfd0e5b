"""`jira-port webhooks serve|register|failed|replay`: real-time updates from Jira into Port.

    jira-port webhooks serve --config sync.yaml [--host HOST] [--port PORT]
    jira-port webhooks register --config sync.yaml [--url URL] [--jql JQL]
    jira-port webhooks failed --config sync.yaml [--json]
    jira-port webhooks replay --config sync.yaml (ID... | --all)

All read sync.yaml's `jira` and `port` sections and its optional `webhooks` section
(`webhooks.config`); `failed` and `replay` work on the queue file, also while `serve` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.app.config import ConfigError
from source_jira_port.app.sync import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from source_jira_port.app.webhooks.config import load_webhooks_job
from source_jira_port.app.webhooks.events import webhook_events
from source_jira_port.app.webhooks.queue import EventQueue, ParkedEvent
from source_jira_port.app.webhooks.register import RegistrationError, register_webhook
from source_jira_port.port.mapping import EntityMapper, load_app_config

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
    failed = commands.add_parser(
        "failed", parents=common, help="list the parked events (those that could not be applied)"
    )
    failed.add_argument("--config", type=Path, required=True, help="the sync.yaml")
    failed.add_argument("--json", action="store_true", help="one JSON object per line")
    failed.set_defaults(handler=failed_command)
    replay = commands.add_parser(
        "replay", parents=common, help="put parked events back in the queue to apply them again"
    )
    replay.add_argument("--config", type=Path, required=True, help="the sync.yaml")
    replay.add_argument("ids", nargs="*", type=int, metavar="ID", help="ids `failed` lists")
    replay.add_argument("--all", action="store_true", help="every parked event")
    replay.set_defaults(handler=replay_command)


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
    """Create the webhook in Jira (idempotent); print Jira's webhook as one JSON line.

    It subscribes to the events of the streams the mapping maps (user events with users).
    """
    job = load_webhooks_job(args.config)
    url = args.url or job.webhooks.url
    if not url:
        raise ConfigError(f"{args.config}: webhooks.url: required by register (or pass --url)")
    try:
        registration = register_webhook(
            job.jira,
            url,
            secret=job.webhooks.secret,
            jql=args.jql or job.webhooks.jql,
            events=webhook_events(EntityMapper(load_app_config(job.port.mapping)).kinds()),
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


def failed_command(args: argparse.Namespace) -> int:
    """Print the parked events: id, event, key, reason, time (a table, or JSON lines)."""
    with _queue(args.config) as queue:
        parked = queue.parked()
    for item in parked:
        row = _parked_row(item)
        if args.json:
            print(json.dumps(row))
        else:
            print(
                "\t".join(str(row[name]) for name in ("id", "parked_at", "event", "key", "reason"))
            )
    if not args.json:
        print(f"{len(parked)} parked events", file=sys.stderr)
    return EXIT_OK


def replay_command(args: argparse.Namespace) -> int:
    """Move parked events back into the queue; a running receiver applies them within seconds."""
    if bool(args.ids) == args.all:
        print("error: give the ids to replay or --all (not both)", file=sys.stderr)
        return EXIT_USAGE
    with _queue(args.config) as queue:
        if args.all:
            moved = queue.replay()
        else:
            unknown = set(args.ids) - {item.seq for item in queue.parked()}
            if unknown:
                listed = ", ".join(map(str, sorted(unknown)))
                print(
                    f"error: not parked: {listed} (jira-port webhooks failed lists the ids); "
                    "nothing replayed",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            moved = queue.replay(args.ids)
    print(f"Replayed {len(moved)} parked events into the queue", file=sys.stderr)
    return EXIT_OK


@contextlib.contextmanager
def _queue(config: Path) -> Any:
    """Open the job's queue file; a `ConfigError` when there is none (never created empty)."""
    path = load_webhooks_job(config).webhooks.queue_path
    if not path.is_file():
        raise ConfigError(
            f"{config}: webhooks.queue_path: no queue file at {path} (has serve run with it?)"
        )
    queue = EventQueue(path)
    try:
        yield queue
    finally:
        queue.close()


def _parked_row(item: ParkedEvent) -> dict[str, Any]:
    at = datetime.fromtimestamp(item.parked_at, UTC).isoformat(timespec="seconds")
    return {
        "id": item.seq,
        "event": item.event.name,
        "key": item.event.key,
        "reason": item.reason,
        "parked_at": at,
        "attempts": item.attempts,
    }
