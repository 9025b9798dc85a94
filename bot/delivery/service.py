"""The delivery engine as one object: publisher, reader, reply limiter and the workers."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis

from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.metrics import DeliveryMetrics
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.reader import DeliveryReader
from bot.delivery.reply_limiter import RedisReplyLimiter
from bot.delivery.sender import DirectSender
from bot.delivery.stories import DeliveryStories
from bot.delivery.worker import Worker
from bot.store import Store

logger = logging.getLogger(__name__)


class DeliveryService:
    """The engine over one Redis client and its keys; ``run`` delivers with ``workers`` workers.

    The store is used through its public methods only (articles to format, audiences to page
    through, readers to deactivate); every delivery key is the engine's (``DeliveryKeys``).
    """

    def __init__(
        self,
        redis: Redis,
        keys: DeliveryKeys,
        store: Store,
        config: DeliveryConfig,
        *,
        workers: int = 1,
        metrics: DeliveryMetrics | None = None,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.store = store
        self.config = config
        self.metrics = metrics or DeliveryMetrics()
        self.workers = workers
        self.limiter = RateLimiter(redis, keys, config)
        self.publisher = DeliveryPublisher(redis, keys)
        self.reader = DeliveryReader(redis, keys, store.articles)
        #: Corrections, retractions and updates of alerts already sent.
        self.stories = DeliveryStories(redis, keys, paid_broadcast=config.paid_broadcast)

    def reply_limiter(self, *, max_retries: int = 5) -> RedisReplyLimiter:
        """The bot Application's rate limiter: replies in the same budget, at high priority."""
        return RedisReplyLimiter(self.limiter, max_retries=max_retries)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; in-flight sends finish before this returns."""
        if self.workers <= 0:
            return
        senders = [DirectSender(self.config) for _ in range(self.workers)]
        workers = [
            Worker(
                self.redis,
                self.keys,
                self.store,
                self.config,
                sender=s,
                limiter=self.limiter,
                metrics=self.metrics,
            )
            for s in senders
        ]
        logger.info(
            "delivery: %d worker(s), %s msg/s%s, %d requests in flight each",
            self.workers,
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
