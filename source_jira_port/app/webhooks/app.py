"""The receiver's HTTP API (Starlette): `POST /webhooks/jira`, `GET /healthz`, `GET /metrics`.

A delivery is answered as soon as it is in the queue file (202), so Jira never waits for
Port. 401: bad or missing signature (when a secret is set); 400: not JSON or not a Jira
event, or a delivery identifier that is not one (`_IDENTIFIER`); 413: body over the limit
(checked while reading); 200: a redelivered identifier (acknowledged, not applied again), an
event type this receiver ignores, or an event of a stream the mapping does not map (a user
event without a users resource): both counted `ignored` and logged with the name capped. Every
log line written from request data goes through `capped`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Collection

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from source_jira_port.app.webhooks.applier import WebhookApplier
from source_jira_port.app.webhooks.events import DeliveryError, Ignored, parse_delivery
from source_jira_port.app.webhooks.logtext import capped
from source_jira_port.app.webhooks.metrics import Metrics
from source_jira_port.app.webhooks.queue import EventQueue
from source_jira_port.app.webhooks.signature import SIGNATURE_HEADER, verify

WEBHOOK_PATH = "/webhooks/jira"
IDENTIFIER_HEADER = "X-Atlassian-Webhook-Identifier"
# Atlassian documents the identifier as unique per webhook and kept across retries, not its
# format (Cloud sends digits); strictest plausible: up to 128 visible ASCII characters.
_IDENTIFIER = re.compile(r"[!-~]{1,128}")


class _RefusedError(Exception):
    """The delivery is refused with HTTP `status` for `reason`."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def create_app(
    queue: EventQueue,
    worker: WebhookApplier,
    metrics: Metrics,
    *,
    secret: str | None,
    logger: logging.Logger,
    max_body_bytes: int,
    mapped: Collection[str],
) -> Starlette:
    """Build the app; its lifespan starts and stops `worker`; `mapped`: the streams mapped."""

    async def receive(request: Request) -> JSONResponse:
        metrics.add("received")
        delivery = None
        try:
            delivery = _identifier(request)
            body = await _read_body(request, max_body_bytes)
            signature = request.headers.get(SIGNATURE_HEADER)
            if secret is not None and not verify(secret, body, signature):
                raise _RefusedError(401, "bad or missing X-Hub-Signature")
            event = parse_delivery(body)
        except _RefusedError as refused:
            return _refuse(refused.status, str(refused), delivery)
        except DeliveryError as error:
            return _refuse(400, str(error), delivery)
        if isinstance(event, Ignored):
            metrics.add("ignored")
            logger.info(
                "Ignored a %s delivery (not an event this receiver handles)", capped(event.name)
            )
            return JSONResponse({"status": "ignored"}, status_code=200)
        if event.kind not in mapped:
            metrics.add("ignored")
            logger.info("Ignored %s: the mapping maps no %s", event.name, event.kind)
            return JSONResponse({"status": "ignored"}, status_code=200)
        if not await run_in_threadpool(queue.enqueue, event, delivery):
            metrics.add("duplicates")
            return JSONResponse({"status": "duplicate"}, status_code=200)
        worker.notify()
        logger.debug("Queued %s for %s %s", event.name, event.kind, capped(event.key))
        return JSONResponse({"status": "queued"}, status_code=202)

    def _refuse(status: int, reason: str, delivery: str | None) -> JSONResponse:
        metrics.add("rejected")
        logger.warning(
            "Refused webhook delivery %s: %s", capped(delivery or "<no identifier>"), capped(reason)
        )
        return JSONResponse({"status": "rejected", "reason": reason}, status_code=status)

    async def health(_: Request) -> JSONResponse:
        depth = await run_in_threadpool(queue.depth)
        state = {"status": "ok" if worker.alive else "worker stopped", "queued": depth}
        state["port"] = "backing off" if worker.backing_off else "ok"
        return JSONResponse(state, status_code=200 if worker.alive else 503)

    async def counters(_: Request) -> JSONResponse:
        from_queue = {
            "queued": await run_in_threadpool(queue.depth),
            "parked": await run_in_threadpool(queue.parked_count),
        }
        since = {"counters_since": round(metrics.started_at, 3)}
        return JSONResponse({**since, **metrics.snapshot(), **from_queue})

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


def _identifier(request: Request) -> str | None:
    """Return the delivery identifier, if any; refuse one that is not one."""
    delivery = request.headers.get(IDENTIFIER_HEADER)
    if delivery is not None and not _IDENTIFIER.fullmatch(delivery):
        raise _RefusedError(400, f"{IDENTIFIER_HEADER} is not an identifier")
    return delivery


async def _read_body(request: Request, limit: int) -> bytes:
    """Read the body, giving up (413) as soon as it passes `limit` bytes."""
    too_large = _RefusedError(413, f"body is over {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:
        return b""
    return b"".join(chunks)
