"""``python -m bench.crash_victim``: a delivery worker whose heartbeat never expires in a bench.

The crash benchmark's baseline: killed like ``newsbot worker``, but its heartbeat lasts an hour,
so the restarted worker cannot tell it is dead and waits for the idle timeout
(``NEWSBOT_CLAIM_IDLE_SECONDS``) before taking its batches over, which is how every dead
worker was handled before heartbeat takeover.  Configured from the environment like
``newsbot worker``.
"""

from __future__ import annotations

import asyncio

from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.service import DeliveryService
from bot.redis_conn import open_redis
from bot.store import Store
from config import Settings

#: Longer than any bench run: the dead worker looks alive throughout.
HEARTBEAT_TTL = 3600.0


async def main_async() -> None:
    """Run one worker until killed."""
    settings = Settings(_env_file=None)
    async with open_redis(settings) as redis:
        store = Store.create(redis, settings.redis_namespace)
        config = DeliveryConfig.from_settings(settings).with_overrides(heartbeat_ttl=HEARTBEAT_TTL)
        service = DeliveryService(redis, DeliveryKeys(settings.redis_namespace), store, config)
        await service.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main_async())
