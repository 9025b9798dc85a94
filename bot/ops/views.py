"""``/healthz``, ``/readyz`` and ``/metrics``: the operations endpoints of newsbot's HTTP server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.delivery.reader import DeliveryReader
from bot.ingest.auth import authenticated
from bot.ingest.errors import json_dumps
from bot.ops.health import ReadinessProbe
from bot.ops.metrics import Metrics
from bot.store import Store


@dataclass(frozen=True)
class OpsContext:
    """What the operations views read: the store, the engine's reader, metrics and readiness."""

    store: Store
    metrics: Metrics
    readiness: ReadinessProbe
    delivery: DeliveryReader | None = None
    feeds: Sequence[str] = ()
    #: NEWSBOT_API_TOKEN: shows /readyz details to whoever sends it (kept out of the repr).
    api_token: str | None = field(default=None, repr=False)


OPS = web.AppKey("newsbot_ops_context", OpsContext)


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: the process is up and serving."""
    del request
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """``GET /readyz``: 200 when Redis, Telegram and the workers are fine, else 503.

    Open to probes; error texts and feed URLs only with the API's bearer token.
    """
    ctx = request.app[OPS]
    readiness = await ctx.readiness.check()
    body = readiness.to_json(detailed=authenticated(request, ctx.api_token))
    return web.json_response(body, status=200 if readiness.ready else 503, dumps=json_dumps)


async def metrics_view(request: web.Request) -> web.Response:
    """``GET /metrics``: Prometheus text format, cluster totals read from Redis now."""
    ctx = request.app[OPS]
    await ctx.metrics.refresh(ctx.store, feeds=ctx.feeds, delivery=ctx.delivery)
    return web.Response(body=ctx.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_ops_routes(app: web.Application, context: OpsContext) -> None:
    """Register ``/healthz``, ``/readyz`` and ``/metrics`` with their context."""
    app[OPS] = context
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
