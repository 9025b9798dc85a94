"""The aiohttp application of the newsroom API (plus health and metrics), and its runner."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CONTENT_TYPE_LATEST
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.delivery.status import alert_status as delivery_alert_status
from bot.ingest.api import add_api_routes
from bot.ingest.auth import authenticated, bearer_auth_middleware, configured_token
from bot.ingest.context import CONTEXT, AlertStatusLookup, ApiContext, context_of
from bot.ingest.errors import ApiError, error_response, http_exception_response, json_dumps
from bot.ingest.health import ReadinessProbe
from bot.ingest.metrics import Metrics, QueueDepthProbe, WorkersProbe, count_live_workers
from bot.store.delivery_stats import queue_depths
from config import ConfigError, Settings

if TYPE_CHECKING:  # runtime imports this package to wire it: no import cycle
    from bot.runtime import Services

logger = logging.getLogger(__name__)

#: Seconds a client is asked to wait when Redis is unreachable.
STORE_RETRY_AFTER = 5


def _route_label(request: web.Request) -> str:
    """The route template (``/api/articles/{id}``), never the raw path: bounded label values."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def errors_middleware(metrics: Metrics) -> Middleware:
    """Outermost middleware: every error becomes JSON; unexpected ones a logged, bare 500."""

    @web.middleware
    async def errors_to_json(request: web.Request, handler: Handler) -> web.StreamResponse:
        response: web.StreamResponse
        try:
            response = await handler(request)
        except ApiError as exc:
            response = exc.response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = http_exception_response(exc)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            # An outage, not a bug: tell the client to retry (a CMS retry is idempotent).
            logger.warning("%s %s: Redis unavailable: %s", request.method, request.path, exc)
            response = error_response(
                503,
                "store_unavailable",
                "the article store is unavailable; retry shortly",
                headers={"Retry-After": str(STORE_RETRY_AFTER)},
            )
        except Exception:
            # The traceback goes to the log only: a response body must not leak internals.
            logger.exception("unhandled error in %s %s", request.method, request.path)
            metrics.api_unhandled_errors.inc()
            response = error_response(500, "internal", "internal server error")
        metrics.api_requests.labels(
            method=request.method, route=_route_label(request), status=str(response.status)
        ).inc()
        return response

    return errors_to_json


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: the process is up and serving."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """``GET /readyz``: 200 when Redis, Telegram and the workers are fine, else 503.

    Open to probes; error texts and feed URLs only with the API's bearer token.
    """
    ctx = context_of(request)
    readiness = await ctx.readiness.check()
    body = readiness.to_json(detailed=authenticated(request, ctx.api_token))
    return web.json_response(body, status=200 if readiness.ready else 503, dumps=json_dumps)


async def metrics_view(request: web.Request) -> web.Response:
    """``GET /metrics``: Prometheus text format, cluster totals read from Redis now."""
    ctx = context_of(request)
    await ctx.metrics.refresh(
        ctx.services.store,
        feeds=ctx.readiness.feeds or ctx.settings.feeds,
        queue_depth=ctx.queue_depth,
        workers=ctx.workers,
    )
    return web.Response(body=ctx.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_api_app(
    settings: Settings,
    services: Services,
    *,
    readiness: ReadinessProbe,
    metrics: Metrics,
    alert_status: AlertStatusLookup = delivery_alert_status,
    queue_depth: QueueDepthProbe | None = queue_depths,
    workers: WorkersProbe | None = count_live_workers,
) -> web.Application:
    """The aiohttp application: ``/api/`` (bearer auth), ``/healthz``, ``/readyz``, ``/metrics``.

    A NEWSBOT_API_TOKEN shorter than ``MIN_TOKEN_LENGTH`` is a ``ConfigError``.
    """
    token = configured_token(settings)
    if token is None:
        logger.warning(
            "NEWSBOT_API_TOKEN is not set: the newsroom API is DISABLED (every /api/ route "
            "answers 503); /healthz, /readyz and /metrics still work"
        )
    app = web.Application(
        client_max_size=settings.api_max_bytes,
        middlewares=[errors_middleware(metrics), bearer_auth_middleware(token)],
    )
    app[CONTEXT] = ApiContext(
        settings=settings,
        services=services,
        metrics=metrics,
        readiness=readiness,
        alert_status=alert_status,
        queue_depth=queue_depth,
        workers=workers,
        api_token=token,
    )
    add_api_routes(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    return app


async def serve_api(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving ``app`` on host:port (port 0: any free port); ``await runner.cleanup()``.

    A port in use or an unusable host is a ``ConfigError`` naming NEWSBOT_API_HOST/PORT.
    """
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(
            f"NEWSBOT_API_HOST/NEWSBOT_API_PORT: cannot listen on {host}:{port} ({_os_reason(exc)})"
        ) from None
    for address in runner.addresses:
        logger.info("newsroom API listening on http://%s:%s", *address[:2])
    return runner


def _os_reason(exc: OSError) -> str:
    """The system's short wording ("Address already in use"), without asyncio's preamble."""
    if exc.errno is not None and exc.errno > 0:
        return os.strerror(exc.errno)
    return exc.strerror or str(exc)  # e.g. a host name that does not resolve


@contextlib.asynccontextmanager
async def api_server(app: web.Application, host: str, port: int) -> AsyncIterator[web.AppRunner]:
    """``serve_api`` as a context manager: the server stops when the block ends."""
    runner = await serve_api(app, host, port)
    try:
        yield runner
    finally:
        await runner.cleanup()


def bound_port(runner: web.AppRunner) -> int:
    """The TCP port a started runner listens on (useful with port 0)."""
    address = runner.addresses[0]
    return int(address[1])
