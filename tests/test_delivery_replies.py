"""Readers' replies during a broadcast: fast, within the shared budget, retried after a 429."""

from __future__ import annotations

import time

import pytest
from telegram.ext import ExtBot

from bot.delivery.ratelimit import RateLimiter
from bot.delivery.reply_limiter import RedisReplyLimiter
from bot.delivery.transport import AiohttpRequest
from bot.store import Store
from sandbox.server import SandboxServer
from tests.delivery_support import (
    DKEYS,
    TOKEN,
    engine_config,
    max_in_window,
    publish,
    record_sends,
    running,
    seed,
    server_fixture,  # noqa: F401  (the server fixture)
    stored_article,
    wait_for,
)

READERS = (777, 778, 779)
READER = READERS[0]


@pytest.fixture(autouse=True)
def readers(server: SandboxServer) -> None:
    """Readers who are not subscribers, in every test's sandbox."""
    for reader in READERS:
        server.state.add_user(reader, "قارئ")


def reply_bot(store: Store, server: SandboxServer, rate: float) -> ExtBot[int]:
    """The bot as the Application builds it: aiohttp transport, shared Redis limiter."""
    config = engine_config(server, rate=rate)
    limiter = RedisReplyLimiter(RateLimiter(store.redis, DKEYS, config))
    return ExtBot(
        TOKEN,
        base_url=server.api_url,
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
        rate_limiter=limiter,
    )


async def test_replies_go_first_during_a_large_alert(store: Store, server: SandboxServer) -> None:
    rate = 10.0
    await seed(store, server, 300)  # 30 s of sending at this rate
    log = record_sends(server)
    async with (
        running(store, engine_config(server, rate=rate)),
        reply_bot(store, server, rate) as bot,
    ):
        await publish(store, await stored_article(store))
        await wait_for(lambda: log.count() >= 5)
        waits = []
        for reader in READERS:  # three readers asking /latest one after the other
            started = time.monotonic()
            await bot.send_message(reader, "آخر الأخبار")
            waits.append(time.monotonic() - started)
        broadcast_during = log.count(lambda m: m.chat_id not in READERS)
    # Behind the ~30 s broadcast a reply would wait for seconds; at HIGH priority it waits at
    # most the broadcasts' short horizon plus one slot (bound generous for loaded machines).
    assert max(waits) < 3.0
    assert log.count(lambda m: m.chat_id in READERS) == 3
    assert broadcast_during < 300  # the alert really was still going
    # Replies and the broadcast together stay within the one budget of the token.
    assert max_in_window(log.times()) <= rate
    assert server.state.stats()["errors_429"] == 0


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_reply_hit_by_a_429_is_retried_not_lost(
    store: Store, server: SandboxServer
) -> None:
    log = record_sends(server)
    async with reply_bot(store, server, 30.0) as bot:
        server.state.inject_429(count=1, retry_after=1)
        started = time.monotonic()
        await bot.send_message(READER, "آخر الأخبار")
        elapsed = time.monotonic() - started
    assert log.count(lambda m: m.chat_id == READER) == 1
    assert server.state.stats()["errors_429"] == 1
    assert 0.95 <= elapsed < 5.0  # not before the pause asked for ends, then the retry
