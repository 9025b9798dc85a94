"""Running delivery workers: what ``newsbot worker`` and ``newsbot run`` start."""

from __future__ import annotations

import asyncio
import logging

from bot.delivery.config import DeliveryConfig
from bot.delivery.metrics import DeliveryMetrics
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.sender import DirectSender
from bot.delivery.worker import Worker
from bot.store import Store
from config import Settings

logger = logging.getLogger(__name__)


class DeliveryService:
    """Builds the send path and the shared limiter, and runs ``workers`` workers until stopped."""

    def __init__(
        self,
        store: Store,
        config: DeliveryConfig,
        *,
        workers: int = 1,
        metrics: DeliveryMetrics | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.metrics = metrics or DeliveryMetrics()
        self._count = workers
        self._limiter = RateLimiter(store.redis, store.keys, config)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; in-flight sends finish before this returns."""
        if self._count <= 0:
            return
        senders = [DirectSender(self.config) for _ in range(self._count)]
        workers = [
            Worker(self.store, self.config, sender=s, limiter=self._limiter, metrics=self.metrics)
            for s in senders
        ]
        logger.info(
            "delivery: %d worker(s), %s msg/s%s, %d requests in flight each",
            self._count,
            self.config.rate,
            " (paid broadcast)" if self.config.paid_broadcast else "",
            self.config.max_in_flight,
        )
        try:
            for sender in senders:
                await sender.start()
            await asyncio.gather(*(w.run(stop) for w in workers))
        finally:
            for sender in senders:
                await sender.close()


async def run_worker(
    settings: Settings,
    store: Store,
    stop_event: asyncio.Event,
    *,
    count: int = 1,
    metrics: DeliveryMetrics | None = None,
) -> None:
    """Run ``count`` delivery workers in this process until ``stop_event`` is set."""
    config = DeliveryConfig.from_settings(settings)
    await DeliveryService(store, config, workers=count, metrics=metrics).run(stop_event)
