"""Receiver: the queue, the webhook applier and the app, served by uvicorn.

`serve()` blocks until SIGINT/SIGTERM (the CLI); `start()`/`stop()` run it in a thread (tests,
embedding), and then `url` tells the address, also with port 0 (a free port).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Self

import uvicorn

from source_jira_port.app.threaded_server import Background
from source_jira_port.app.webhooks.app import WEBHOOK_PATH, create_app
from source_jira_port.app.webhooks.applier import WebhookApplier
from source_jira_port.app.webhooks.config import WebhookSettings
from source_jira_port.app.webhooks.jira_state import JiraState
from source_jira_port.app.webhooks.metrics import Metrics
from source_jira_port.app.webhooks.queue import EventQueue
from source_jira_port.port.client import PortClient
from source_jira_port.port.config import PortSettings
from source_jira_port.port.mapping import EntityMapper, load_app_config

_START_TIMEOUT_SECONDS = 10.0
# Port calls fail fast into the worker, whose backoff (up to a minute) does the waiting.
_PORT_ATTEMPTS = 3


class Receiver(Background):
    """A webhook receiver writing Jira's current state to Port.

    `jira` is the job's Jira config (sync.yaml's `jira` section); `client` defaults to one from
    `port_settings`.
    """

    def __init__(
        self,
        settings: WebhookSettings,
        port_settings: PortSettings,
        *,
        jira: Mapping[str, Any],
        logger: logging.Logger,
        client: PortClient | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
    ) -> None:
        self._resources = contextlib.ExitStack()
        self.metrics = Metrics()
        self.queue = EventQueue(settings.queue_path)
        self._resources.callback(self.queue.close)
        client = self._resources.enter_context(
            client
            or PortClient(
                port_settings.base_url,
                port_settings.client_id,
                port_settings.client_secret,
                max_attempts=_PORT_ATTEMPTS,
            )
        )
        mapper = EntityMapper(load_app_config(port_settings.mapping))
        self.worker = WebhookApplier(
            self.queue,
            client,
            jira=JiraState(jira),
            mapper=mapper,
            settings=port_settings,
            metrics=self.metrics,
            logger=logger,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
        )
        app = create_app(
            self.queue,
            self.worker,
            self.metrics,
            secret=settings.secret,
            logger=logger,
            max_body_bytes=settings.max_body_bytes,
            mapped=mapper.kinds(),
        )
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def serve(self) -> None:
        """Serve until SIGINT or SIGTERM, then drain in-flight requests and close the queue."""
        with self._resources:
            self._server.run()

    def start(self) -> Self:
        """Serve in a background thread; return once requests are accepted."""
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        """The address served, once started: `http://host:port`."""
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def webhook_url(self) -> str:
        """Where Jira must POST deliveries, once started."""
        return self.url + WEBHOOK_PATH

    def stop(self) -> None:
        """Stop serving and the worker; queued events stay in the queue file."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._resources.close()
