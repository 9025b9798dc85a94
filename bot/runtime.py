"""Wiring: the one place that builds Redis, the store, the pipeline and the services."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.pipeline import AlertPublisher, Ingestor
from bot.redis_conn import open_redis
from bot.store import Store
from config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What every entry point needs: the store, the alert publisher and the ingestor."""

    settings: Settings
    store: Store
    publisher: AlertPublisher
    ingestor: Ingestor


@contextlib.asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """Connect to Redis (external or embedded) and yield the store."""
    async with open_redis(settings) as redis:
        yield Store.create(redis, settings.redis_namespace)


def build_services(settings: Settings, store: Store) -> Services:
    """Build the publisher and the ingestor over a store."""
    from bot.delivery.publisher import DeliveryPublisher

    publisher = DeliveryPublisher(store)
    ingestor = Ingestor(store, publisher, max_bytes=settings.max_article_bytes)
    return Services(settings=settings, store=store, publisher=publisher, ingestor=ingestor)


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Connect to Redis and yield the wired services."""
    async with open_store(settings) as store:
        yield build_services(settings, store)


async def run_bot(settings: Settings, *, workers: int | None = None) -> None:
    """``newsbot run``: the bot (polling, or webhook when configured), delivery workers, the
    newsroom API and the feed poller, in one event loop until SIGINT/SIGTERM.
    """
    import asyncio

    from bot.app import build_production_application
    from bot.delivery.metrics import DeliveryMetrics, token_listener
    from bot.delivery.service import run_worker
    from bot.ingest.auth import configured_token
    from bot.ingest.health import ReadinessProbe
    from bot.ingest.metrics import Metrics
    from bot.ingest.service import run_ingestion
    from bot.serving import serving, wait_for_stop_signal

    # A bad API token stops start-up before the bot polls (confirming readers' updates) or a
    # worker sends queued alerts, not a moment after everything has started.
    configured_token(settings)
    count = settings.workers_in_run if workers is None else workers
    stop = asyncio.Event()
    async with open_services(settings) as services:
        metrics = Metrics()
        delivery_metrics = DeliveryMetrics()
        delivery_metrics.add_listener(metrics.delivery_listener)
        delivery_metrics.add_observer(metrics)
        readiness = ReadinessProbe(services.store, feeds=settings.feeds)
        application = build_production_application(settings, services)
        async with serving(application, settings) as mode:
            username = application.bot.username
            readiness.telegram_ready(username)
            # A token revoked while running shows in delivery first: /readyz turns unready.
            token_ok = functools.partial(readiness.telegram_ready, username)
            delivery_metrics.add_listener(token_listener(readiness.telegram_failed, token_ok))
            tasks = [
                asyncio.create_task(
                    run_ingestion(settings, services, stop, readiness=readiness, metrics=metrics),
                    name="ingestion",
                )
            ]
            if count > 0:
                logger.info("newsbot running (%s, %d delivery worker(s))", mode, count)
                tasks.append(
                    asyncio.create_task(
                        run_worker(
                            settings, services.store, stop, count=count, metrics=delivery_metrics
                        ),
                        name="delivery",
                    )
                )
            else:
                # No delivery part at all (rather than one that returns at once, which the
                # wait below would take for a part that ended and stop everything).
                logger.info(
                    "newsbot running (%s); no delivery workers here: alerts are sent by "
                    "`newsbot worker` processes on the same Redis",
                    mode,
                )
            signal_wait = asyncio.create_task(wait_for_stop_signal(stop), name="signals")
            try:
                # A part that fails stops everything: a bot without delivery is not "running".
                await asyncio.wait([signal_wait, *tasks], return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.set()
                results = await asyncio.gather(*tasks, signal_wait, return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            if failures:
                raise failures[0]
    logger.info("newsbot stopped")


async def run_workers(settings: Settings, *, count: int = 1) -> None:
    """``newsbot worker``: delivery workers only (scale-out), until SIGINT/SIGTERM."""
    import asyncio

    from bot.delivery.service import run_worker
    from bot.serving import wait_for_stop_signal

    stop = asyncio.Event()
    async with open_store(settings) as store:
        work = asyncio.create_task(run_worker(settings, store, stop, count=count))
        signals = asyncio.create_task(wait_for_stop_signal(stop))
        try:
            await asyncio.wait([work, signals], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.set()
            signals.cancel()
            await work
