"""Running the whole newsroom side at once: the HTTP API and the feed poller, until stopped."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import aiohttp

from bot.ingest.feeds import USER_AGENT, FeedPoller
from bot.ingest.health import ReadinessProbe
from bot.ingest.metrics import Metrics
from bot.ingest.server import build_api_app, serve_api
from config import Settings

if TYPE_CHECKING:  # runtime imports this package to wire it: no import cycle
    import asyncio

    from bot.runtime import Services

logger = logging.getLogger(__name__)


async def run_ingestion(
    settings: Settings,
    services: Services,
    stop_event: asyncio.Event,
    *,
    readiness: ReadinessProbe,
    metrics: Metrics,
) -> None:
    """Serve the API on NEWSBOT_API_HOST:PORT and poll NEWSBOT_FEEDS until ``stop_event``."""
    app = build_api_app(settings, services, readiness=readiness, metrics=metrics)
    runner = await serve_api(app, settings.api_host, settings.api_port)
    try:
        async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as http:
            await FeedPoller(settings, services, http, metrics).run(stop_event)
            await stop_event.wait()  # no feeds: the poller returned at once; the API keeps going
    finally:
        await runner.cleanup()
        logger.info("newsroom API stopped")
