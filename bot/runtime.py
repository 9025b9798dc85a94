"""The composition root: builds every part of newsbot from one ``Settings`` and supervises them.

``open_runtime(settings, parts)`` is the only place that constructs the store, the delivery
engine, the ingestion pipeline, metrics, readiness, the newsroom API server, the feed poller and
the python-telegram-bot Application. ``newsbot run``, ``newsbot worker``, ``newsbot demo``, the
one-shot CLI commands and the end-to-end tests all use it; ``Parts`` says which parts run.

Supervision: the long-running parts (delivery workers, feed poller) run in one
``asyncio.TaskGroup``. A part that fails stops everything (a bot without delivery is not
"running") and its error is raised from the ``async with``. Leaving the block is a graceful stop:
workers finish and record their in-flight sends, bounded by ``shutdown_timeout``, then the bot
stops taking updates and the HTTP server closes, in the reverse order of starting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp

from bot.app import build_application
from bot.context import NewsApplication
from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.metrics import DeliveryMetrics, token_listener
from bot.delivery.service import DeliveryService
from bot.delivery.transport import AiohttpRequest
from bot.ingest.feeds import USER_AGENT, FeedPoller
from bot.ingest.server import api_server, bound_port, build_api_app
from bot.newsroom import StoryDesk
from bot.ops.health import ReadinessProbe
from bot.ops.metrics import Metrics
from bot.pipeline import Ingestor
from bot.redis_conn import open_redis
from bot.services import Services
from bot.serving import serving, wait_for_stop_signal
from bot.store import Store
from config import Settings

logger = logging.getLogger(__name__)

#: How long a graceful stop waits for the workers' in-flight sends before cancelling them.
SHUTDOWN_SECONDS = 30.0


@dataclass(frozen=True)
class Parts:
    """Which parts of newsbot run in this process."""

    #: The Telegram bot (long polling, or a webhook when NEWSBOT_WEBHOOK_URL is set).
    bot: bool = True
    #: Delivery workers in this process (0: alerts are sent by `newsbot worker` processes).
    workers: int = 1
    #: The HTTP server: the newsroom API (with NEWSBOT_API_TOKEN), /healthz, /readyz, /metrics.
    api: bool = True
    #: The feed poller (when NEWSBOT_FEEDS is set).
    feeds: bool = True
    #: The bot's requests go through the engine's aiohttp transport and shared Redis rate
    #: limiter, as in production; ``False`` keeps PTB's defaults (faster replies in tests).
    production_transport: bool = True
    #: Long-polling timeout (seconds) of getUpdates.
    poll_timeout: float = 10.0

    @classmethod
    def none(cls) -> Parts:
        """Nothing running: the store and the services only (one-shot CLI commands)."""
        return cls(bot=False, workers=0, api=False, feeds=False)

    @classmethod
    def workers_only(cls, count: int) -> Parts:
        """``newsbot worker``: delivery workers and nothing else."""
        return cls(bot=False, workers=count, api=False, feeds=False)


@dataclass
class Runtime:
    """The running parts of one process, as the composition root built them."""

    settings: Settings
    store: Store
    services: Services
    delivery: DeliveryService
    metrics: Metrics
    readiness: ReadinessProbe
    application: NewsApplication | None = None
    #: How the bot receives updates ("polling", "webhook"), ``None`` without a bot.
    mode: str | None = None
    #: The port the HTTP server listens on (useful with NEWSBOT_API_PORT=0).
    api_port: int | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self) -> None:
        """Ask every part to stop (the ``async with`` block still has to end)."""
        self.stopping.set()

    async def serve_until_signal(self) -> None:
        """Run until SIGINT/SIGTERM or ``stop()``."""
        await wait_for_stop_signal(self.stopping)


def _application(settings: Settings, services: Services, delivery: DeliveryService,
                 parts: Parts) -> NewsApplication:  # fmt: skip
    if not parts.production_transport:
        return build_application(settings, services)
    # Replies go through the engine's limiter at high priority: a broadcast in progress never
    # makes the bot exceed Telegram's limits, and a reply waits at most a moment.
    return build_application(
        settings,
        services,
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
        rate_limiter=delivery.reply_limiter(),
    )


async def _poll_feeds(services: Services, metrics: Metrics, stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as http:
        await FeedPoller(services.settings, services, http, metrics).run(stop)


async def _stop_within(tasks: list[asyncio.Task[None]], seconds: float) -> None:
    """Let the parts finish by themselves; cancel those still running after ``seconds``."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        logger.warning("%s did not stop within %ss; cancelling it", task.get_name(), seconds)
        task.cancel()


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report for a failed part (the others are logged)."""
    errors = [e for e in group.exceptions if not isinstance(e, asyncio.CancelledError)]
    for extra in errors[1:]:
        logger.error("another part failed too: %s", type(extra).__name__, exc_info=extra)
    return errors[0] if errors else group.exceptions[0]


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings, parts: Parts | None = None, *, shutdown_timeout: float = SHUTDOWN_SECONDS
) -> AsyncIterator[Runtime]:
    """Build and start the ``parts`` of newsbot from ``settings``; stop them when the block ends."""
    parts = parts or Parts()
    for advice in settings.advisories():
        logger.warning("%s", advice)
    talks_to_telegram = parts.bot or parts.workers > 0
    if talks_to_telegram:
        settings.require_token()  # before connecting anything: one line naming the variable
    async with open_redis(settings) as redis:
        namespace = settings.redis_namespace
        store = Store.create(redis, namespace)
        delivery_metrics = DeliveryMetrics()
        metrics = Metrics()
        metrics.follow(delivery_metrics)
        delivery = DeliveryService(
            redis,
            DeliveryKeys(namespace),
            store,
            DeliveryConfig.from_settings(settings, require_token=talks_to_telegram),
            workers=parts.workers,
            metrics=delivery_metrics,
        )
        ingestor = Ingestor(store, delivery.publisher, max_bytes=settings.max_article_bytes)
        desk = StoryDesk(store, delivery.stories, max_bytes=settings.max_article_bytes)
        services = Services(settings, store, delivery.publisher, ingestor, delivery.reader, desk)
        readiness = ReadinessProbe(
            store, feeds=settings.feeds, delivery=delivery.reader, require_telegram=parts.bot
        )
        runtime = Runtime(settings, store, services, delivery, metrics, readiness)
        async with contextlib.AsyncExitStack() as stack:
            # The HTTP server first: a port in use stops start-up before the bot confirms
            # readers' updates or a worker takes queued alerts.
            if parts.api:
                app = build_api_app(services, readiness=readiness, metrics=metrics)
                runner = await stack.enter_async_context(
                    api_server(app, settings.api_host, settings.api_port)
                )
                runtime.api_port = bound_port(runner)
            if parts.bot:
                application = _application(settings, services, delivery, parts)
                runtime.application = application
                runtime.mode = await stack.enter_async_context(
                    serving(application, settings, poll_timeout=parts.poll_timeout)
                )
                username = application.bot.username
                readiness.telegram_ready(username)
                # A token revoked while running shows in delivery first: /readyz turns unready.
                delivery_metrics.add_listener(
                    token_listener(
                        readiness.telegram_failed,
                        functools.partial(readiness.telegram_ready, username),
                    )
                )
            try:
                async with asyncio.TaskGroup() as group:
                    tasks: list[asyncio.Task[None]] = []
                    if parts.workers > 0:
                        tasks.append(
                            group.create_task(delivery.run(runtime.stopping), name="delivery")
                        )
                    if parts.feeds and settings.feeds:
                        tasks.append(
                            group.create_task(
                                _poll_feeds(services, metrics, runtime.stopping), name="feeds"
                            )
                        )
                    _log_started(runtime, parts)
                    try:
                        yield runtime
                    finally:
                        runtime.stop()
                        await _stop_within(tasks, shutdown_timeout)
            except BaseExceptionGroup as failed:
                raise _first_error(failed) from None
    logger.info("newsbot stopped")


def _log_started(runtime: Runtime, parts: Parts) -> None:
    if not (parts.bot or parts.workers or parts.api):
        return
    running = []
    if runtime.mode:
        running.append(f"bot ({runtime.mode})")
    if parts.workers:
        running.append(f"{parts.workers} delivery worker(s)")
    elif parts.bot:
        running.append("no delivery workers here (alerts are sent by `newsbot worker`)")
    if runtime.api_port is not None:
        running.append(f"HTTP on port {runtime.api_port}")
    logger.info("newsbot running: %s", ", ".join(running))
