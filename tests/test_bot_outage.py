"""A Redis outage while readers use the bot: a short Arabic notice, and service resumes."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.e2e_harness import open_bot_harness
from tests.redis_support import RedisServer

READER = 4242


async def wait_until_up(url: str, within: float = 10.0) -> None:
    """Wait for a restarted server to accept connections."""
    client = Redis.from_url(url)
    deadline = time.monotonic() + within
    try:
        while True:
            try:
                await client.ping()
                return
            except RedisError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def test_store_outage_gets_a_notice_not_a_traceback_and_the_bot_recovers(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_bot_harness(redis_server.url, workers=0) as bot:
        bot.add_user(READER, "سلمى")
        await bot.send(READER, "/start")
        redis_server.kill()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            [notice] = await bot.send(READER, "/latest")
        assert "الخدمة غير متاحة مؤقتاً" in notice.visible_text
        assert "Traceback" not in caplog.text
        assert "store unavailable" in caplog.text
        redis_server.start()
        await wait_until_up(redis_server.url)
        [answer] = await bot.send(READER, "/latest")
        assert "غير متاحة" not in answer.visible_text
