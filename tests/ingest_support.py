"""Helpers for the ingestion tests: API app factory, a local feed server with ETag/304 support."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.ingest.feeds import PollOutcome
from bot.ingest.server import build_api_app
from bot.ops.health import ReadinessProbe
from bot.ops.metrics import Metrics
from bot.runtime import Parts, Runtime, open_runtime
from bot.services import Services
from bot.store import Store
from config import Settings
from tests.constants import API_TOKEN
from tests.delivery_support import DKEYS, services_over
from tests.e2e_harness import harness_settings

FEEDS_DIR = Path(__file__).parent / "data" / "feeds"


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests (no .env, no environment surprises for the values that matter)."""
    values: dict[str, Any] = {"api_token": API_TOKEN, "feed_interval": 60.0}
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class ApiHarness:
    """A running API app on a test server, with its store, services and metrics."""

    client: TestClient[web.Request, web.Application]
    store: Store
    services: Services
    metrics: Metrics
    readiness: ReadinessProbe
    settings: Settings

    async def alert_jobs(self, priority: str = "breaking") -> int:
        """Alert jobs queued for delivery on one priority stream."""
        return int(await self.store.redis.xlen(DKEYS.jobs_stream(priority)))

    async def alerts(self) -> int:
        """Alerts recorded (each one is a separate push to subscribers)."""
        return int(await self.store.redis.zcard(DKEYS.alerts_by_time))

    async def raw(self, request: bytes) -> bytes:
        """Send raw bytes to the server (see :func:`raw_request`); the raw answer."""
        server = self.client.server
        assert server.port is not None
        return await raw_request(server.host, server.port, request)


@dataclass
class LiveApi:
    """The newsroom API as production serves it: ``open_runtime`` with the HTTP server only.

    Unlike :func:`api_harness` (aiohttp's ``TestServer``, which cancels a handler whose client
    disconnects), this is the production runner, with its timeouts and access log.
    """

    runtime: Runtime
    host: str = "127.0.0.1"

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self.runtime.api_port is not None
        return self.runtime.api_port

    @property
    def url(self) -> str:
        """The server's base URL (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def metrics(self) -> Metrics:
        """The runtime's metrics."""
        return self.runtime.metrics

    @property
    def store(self) -> Store:
        """The runtime's store."""
        return self.runtime.store

    async def raw(self, request: bytes) -> bytes:
        """Send raw bytes to the server (see :func:`raw_request`); the raw answer."""
        return await raw_request(self.host, self.port, request)


@contextlib.asynccontextmanager
async def live_api(redis_url: str, **settings: Any) -> AsyncIterator[LiveApi]:
    """Run the production HTTP server (no bot, no workers) over the Redis at ``redis_url``."""
    config = harness_settings(
        redis_url,
        NEWSBOT_API_TOKEN=API_TOKEN,
        NEWSBOT_API_HOST="127.0.0.1",
        NEWSBOT_API_PORT=0,
        **settings,
    )
    async with open_runtime(config, Parts(bot=False, workers=0, api=True, feeds=False)) as rt:
        yield LiveApi(rt)


@contextlib.asynccontextmanager
async def api_harness(
    store: Store, settings: Settings | None = None, **app_options: Any
) -> AsyncIterator[ApiHarness]:
    """Build the real app over the real store and serve it on a free port."""
    settings = settings or make_settings()
    services = services_over(store, settings)
    metrics = app_options.pop("metrics", None) or Metrics()
    readiness = app_options.pop("readiness", None) or ReadinessProbe(
        store, feeds=settings.feeds, delivery=services.delivery, require_telegram=False
    )
    app = build_api_app(services, readiness=readiness, metrics=metrics)
    async with TestClient(TestServer(app)) as client:
        yield ApiHarness(client, store, services, metrics, readiness, settings)


def feed_polls(metrics: Metrics, url: str, outcome: str | None = None) -> int:
    """Finished polls of one feed (of one outcome, or all) as counted for ``/metrics``.

    A poll is counted once it has ingested what it found: waiting on this count is waiting for
    polls to have happened, not for time to pass.
    """
    outcomes = [outcome] if outcome else [o.value for o in PollOutcome]
    total = 0.0
    for name in outcomes:
        labels = {"feed": url, "outcome": name}
        total += metrics.registry.get_sample_value("newsbot_feed_polls_total", labels) or 0.0
    return int(total)


def feed_wait(metrics: Metrics, url: str) -> float | None:
    """The wait the feed's loop chose after its latest poll (set before it starts waiting)."""
    name = "newsbot_feed_next_poll_delay_seconds"
    return metrics.registry.get_sample_value(name, {"feed": url})


def polls_after(server: FeedServer, path: str, mark: int) -> list[int]:
    """The statuses the feed server answered for ``path`` since ``len(server.responses)`` was
    ``mark``: a body changed at ``mark`` is served (200) once, then 304s."""
    return [status for p, status in server.responses[mark:] if p == path]


def metric_value(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """The value of one sample in Prometheus text output (``None`` when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and (labels is None or sample.labels == labels):
                return float(sample.value)
    return None


@dataclass
class ServedFeed:
    """One feed document served by :class:`FeedServer`, with its validators."""

    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    etag: bool = True
    last_modified: bool = True
    version: int = 0
    delay: float = 0.0
    chunked: bool = False

    @property
    def etag_value(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    @property
    def last_modified_value(self) -> str:
        # A fixed date per version: unchanged content keeps its Last-Modified.
        return email.utils.formatdate(1_700_000_000 + self.version * 60, usegmt=True)


@dataclass
class FeedServer:
    """A local HTTP server for feeds that honours If-None-Match / If-Modified-Since."""

    feeds: dict[str, ServedFeed] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    responses: list[tuple[str, int]] = field(default_factory=list)
    server: TestServer | None = None

    def url(self, path: str) -> str:
        """The absolute URL of a served path."""
        assert self.server is not None
        return str(self.server.make_url(path))

    def put(self, path: str, body: bytes, **options: Any) -> str:
        """Serve (or replace) a document at ``path``; returns its URL."""
        previous = self.feeds.get(path)
        version = previous.version + 1 if previous and previous.body != body else 0
        self.feeds[path] = ServedFeed(body=body, version=version, **options)
        return self.url(path)

    def statuses(self, path: str) -> list[int]:
        """The statuses answered for one path, in order."""
        return [status for p, status in self.responses if p == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        feed = self.feeds.get(request.path)
        if feed is None:
            return self._answer(request, web.Response(status=404, text="not found"))
        if feed.delay:
            await asyncio.sleep(feed.delay)
        if feed.status != 200:
            return self._answer(request, web.Response(status=feed.status, text="error"))
        headers = {"Content-Type": feed.content_type}
        if feed.etag:
            headers["ETag"] = feed.etag_value
        if feed.last_modified:
            headers["Last-Modified"] = feed.last_modified_value
        inm = request.headers.get("If-None-Match")
        ims = request.headers.get("If-Modified-Since")
        if (feed.etag and inm == feed.etag_value) or (
            not inm and feed.last_modified and ims == feed.last_modified_value
        ):
            return self._answer(request, web.Response(status=304, headers=headers))
        if feed.chunked:
            # No Content-Length: the client can only find the size by reading.
            stream = web.StreamResponse(headers=headers)
            stream.enable_chunked_encoding()
            await stream.prepare(request)
            with contextlib.suppress(ConnectionError):  # the client may stop reading early
                for start in range(0, len(feed.body), 4096):
                    await stream.write(feed.body[start : start + 4096])
                await stream.write_eof()
            self.responses.append((request.path, 200))
            return stream
        return self._answer(request, web.Response(body=feed.body, headers=headers))

    def _answer(self, request: web.Request, response: web.Response) -> web.Response:
        self.responses.append((request.path, response.status))
        return response

    async def start(self) -> None:
        """Listen on a free local port."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self.server = TestServer(app)
        await self.server.start_server()

    async def close(self) -> None:
        """Stop listening."""
        if self.server is not None:
            await self.server.close()


def rss(title: str, items: list[dict[str, str]], *, extra: str = "") -> bytes:
    """A small RSS 2.0 document; each item dict holds raw XML for its child elements."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>{title}</title><link>https://news.example/</link>{extra}",
    ]
    for item in items:
        parts.append("<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in item.items()) + "</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def unhandled_errors(metrics: Metrics) -> float:
    """How many requests reached the API's catch-all 500 handler."""
    return metrics.registry.get_sample_value("newsbot_api_unhandled_errors_total") or 0.0


async def raw_request(host: str, port: int, request: bytes, *, within: float = 15.0) -> bytes:
    """Send raw bytes (anything a client can put on the wire) and read the answer to EOF."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(within):
            return await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP/1.1 answer."""
    return int(answer.split(b" ", 2)[1])


async def trickle(host: str, port: int, first: bytes, drip: bytes, *, every: float) -> bytes:
    """A slow client: send ``first``, then ``drip`` every ``every`` s until the server hangs up.

    Returns whatever the server answered before closing (``b""`` when it just closed).
    """
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(first)
    await writer.drain()

    async def drip_forever() -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                await asyncio.sleep(every)
                writer.write(drip)
                await writer.drain()

    dripping = asyncio.create_task(drip_forever())
    try:
        return await reader.read()  # to EOF: the server closed the connection
    finally:
        dripping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dripping
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
