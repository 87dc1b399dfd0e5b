"""The receiver's HTTP API (Starlette): `POST /webhooks/jira`, `GET /healthz`, `GET /metrics`.

A delivery is answered as soon as it is in the queue file (202), so Jira never waits for
Port. 401: bad or missing signature (when a secret is set); 400: not JSON or not a Jira
event; 413: body over the limit (checked while reading); 200: a redelivered identifier
(acknowledged, not applied again) or an event type this receiver ignores.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from source_jira_port.app.webhooks.applier import WebhookApplier
from source_jira_port.app.webhooks.events import DeliveryError, parse_delivery
from source_jira_port.app.webhooks.metrics import Metrics
from source_jira_port.app.webhooks.queue import EventQueue
from source_jira_port.app.webhooks.signature import SIGNATURE_HEADER, verify

WEBHOOK_PATH = "/webhooks/jira"
IDENTIFIER_HEADER = "X-Atlassian-Webhook-Identifier"


class _TooLargeError(Exception):
    pass


def create_app(
    queue: EventQueue,
    worker: WebhookApplier,
    metrics: Metrics,
    *,
    secret: str | None,
    logger: logging.Logger,
    max_body_bytes: int,
) -> Starlette:
    """Build the app; its lifespan starts and stops `worker`."""

    async def receive(request: Request) -> JSONResponse:
        metrics.add("received")
        delivery = request.headers.get(IDENTIFIER_HEADER)
        try:
            body = await _read_body(request, max_body_bytes)
        except _TooLargeError:
            return _refuse(413, f"body is over {max_body_bytes} bytes", delivery)
        if secret is not None and not verify(secret, body, request.headers.get(SIGNATURE_HEADER)):
            return _refuse(401, "bad or missing X-Hub-Signature", delivery)
        try:
            event = parse_delivery(body)
        except DeliveryError as error:
            return _refuse(400, str(error), delivery)
        if event is None:
            metrics.add("ignored")
            return JSONResponse({"status": "ignored"}, status_code=200)
        if not await run_in_threadpool(queue.enqueue, event, delivery):
            metrics.add("duplicates")
            return JSONResponse({"status": "duplicate"}, status_code=200)
        worker.notify()
        logger.debug("Queued %s for %s %s", event.name, event.kind, event.key)
        return JSONResponse({"status": "queued"}, status_code=202)

    def _refuse(status: int, reason: str, delivery: str | None) -> JSONResponse:
        metrics.add("rejected")
        logger.warning("Refused webhook delivery %s: %s", delivery or "<no identifier>", reason)
        return JSONResponse({"status": "rejected", "reason": reason}, status_code=status)

    async def health(_: Request) -> JSONResponse:
        depth = await run_in_threadpool(queue.depth)
        state = {"status": "ok" if worker.alive else "worker stopped", "queued": depth}
        state["port"] = "backing off" if worker.backing_off else "ok"
        return JSONResponse(state, status_code=200 if worker.alive else 503)

    async def counters(_: Request) -> JSONResponse:
        return JSONResponse({**metrics.snapshot(), "queued": await run_in_threadpool(queue.depth)})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(worker.stop)

    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, receive, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/metrics", counters, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


async def _read_body(request: Request, limit: int) -> bytes:
    """Read the body, giving up as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLargeError
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLargeError
            chunks.append(chunk)
    except ClientDisconnect:
        return b""
    return b"".join(chunks)
