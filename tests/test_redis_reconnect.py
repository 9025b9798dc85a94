"""After a Redis restart, pooled connections reconnect (with backoff) instead of failing."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from bot.redis_conn import client_options
from tests.redis_support import RedisServer

POOL = 24


async def test_a_full_pool_survives_a_restart(redis_server: RedisServer) -> None:
    client = Redis.from_url(redis_server.url, **client_options())
    try:
        # Fill the pool: POOL connections, each held by a command at the same time.
        await asyncio.gather(*(client.blpop([f"nothing:{i}"], timeout=0.2) for i in range(POOL)))
        assert len(client.connection_pool._available_connections) >= POOL
        await client.set("before", "1")
        redis_server.kill()
        redis_server.start()
        # Every pooled connection is dead now; each command must reconnect by itself.
        results = await asyncio.gather(*(client.incr("after") for _ in range(POOL)))
        assert sorted(results) == list(range(1, POOL + 1))
        assert await client.get("before") == "1"  # append-only file: nothing lost
    finally:
        await client.aclose()
