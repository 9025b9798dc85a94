"""The aiohttp application of the newsroom API (plus health and metrics), and its runner."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.httpserver import client_gone, make_runner
from bot.ingest.api import add_api_routes
from bot.ingest.auth import bearer_auth_middleware
from bot.ingest.context import CONTEXT, ApiContext
from bot.ingest.errors import ApiError, error_response, http_exception_response
from bot.ingest.openapi import add_openapi_route, query_check_middleware
from bot.ingest.stories_api import add_story_routes
from bot.ops.health import ReadinessProbe
from bot.ops.metrics import Metrics
from bot.ops.views import OpsContext, add_ops_routes
from bot.services import Services
from config import ConfigError

logger = logging.getLogger(__name__)

#: Seconds a client is asked to wait when Redis is unreachable.
STORE_RETRY_AFTER = 5
#: The status recorded for a request whose client disconnected before it was answered.
CLIENT_CLOSED = 499


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
        except Exception as exc:
            if isinstance(exc, ConnectionError) and client_gone(request):
                # The client hung up (e.g. mid-body): nobody is waiting for an answer, and
                # it is no server error. 499 (as nginx counts it) keeps it visible in metrics.
                logger.info("%s %s: client disconnected", request.method, request.path)
                response = web.Response(status=CLIENT_CLOSED, reason="Client Closed Request")
            else:
                # The traceback goes to the log only: a response body must not leak internals.
                logger.exception("unhandled error in %s %s", request.method, request.path)
                metrics.api_unhandled_errors.inc()
                response = error_response(500, "internal", "internal server error")
        metrics.api_requests.labels(
            method=request.method, route=_route_label(request), status=str(response.status)
        ).inc()
        return response

    return errors_to_json


def build_api_app(
    services: Services, *, readiness: ReadinessProbe, metrics: Metrics
) -> web.Application:
    """The aiohttp application: ``/api/`` (bearer auth), ``/healthz``, ``/readyz``, ``/metrics``.

    ``/api/openapi.json`` (the API's OpenAPI document) needs no token.
    """
    settings = services.settings
    token = settings.api_token.get_secret_value() if settings.api_token else None
    if token is None:
        logger.warning(
            "NEWSBOT_API_TOKEN is not set: the newsroom API is DISABLED (every /api/ route "
            "answers 503); /healthz, /readyz and /metrics still work"
        )
    app = web.Application(
        client_max_size=settings.api_max_bytes,
        middlewares=[
            errors_middleware(metrics),
            bearer_auth_middleware(token),
            query_check_middleware(),
        ],
    )
    app[CONTEXT] = ApiContext(
        settings=settings, services=services, metrics=metrics, api_token=token
    )
    add_api_routes(app)
    add_story_routes(app)
    add_openapi_route(app)
    ops = OpsContext(
        store=services.store,
        metrics=metrics,
        readiness=readiness,
        delivery=services.delivery,
        feeds=settings.feeds,
        api_token=token,
    )
    add_ops_routes(app, ops)
    return app


async def serve_api(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving ``app`` on host:port (port 0: any free port); ``await runner.cleanup()``.

    A port in use or an unusable host is a ``ConfigError`` naming NEWSBOT_API_HOST/PORT.
    """
    runner = make_runner(app, header_timeout=app[CONTEXT].settings.http_header_timeout)
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
