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
from tests.constants import BOT_TOKEN
from tests.delivery_support import (
    DKEYS,
    SlotLog,
    engine_config,
    max_in_window,
    publish,
    record_sends,
    record_slots,
    running,
    seed,
    stored_article,
)
from tests.waiting import wait_for

READERS = (777, 778, 779)
READER = READERS[0]


@pytest.fixture(autouse=True)
def readers(sandbox: SandboxServer) -> None:
    """Readers who are not subscribers, in every test's sandbox."""
    for reader in READERS:
        sandbox.state.add_user(reader, "قارئ")


def reply_bot(
    store: Store, sandbox: SandboxServer, rate: float, slots: SlotLog | None = None
) -> ExtBot[int]:
    """The bot as the Application builds it: aiohttp transport, shared Redis limiter."""
    config = engine_config(sandbox, rate=rate)
    limiter = RateLimiter(store.redis, DKEYS, config)
    if slots is not None:
        record_slots(limiter, slots)
    return ExtBot(
        BOT_TOKEN,
        base_url=sandbox.api_url,
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
        rate_limiter=RedisReplyLimiter(limiter),
    )


async def test_replies_go_first_during_a_large_alert(store: Store, sandbox: SandboxServer) -> None:
    rate = 10.0
    await seed(store, sandbox, 300)  # 30 s of sending at this rate
    log = record_sends(sandbox)
    config = engine_config(sandbox, rate=rate)
    async with running(store, config) as service:
        slots = record_slots(service.limiter)
        async with reply_bot(store, sandbox, rate, slots) as bot:
            await publish(store, await stored_article(store))
            await wait_for(lambda: log.count() >= 5)
            for reader in READERS:  # three readers asking /latest one after the other
                await bot.send_message(reader, "آخر الأخبار")
            broadcast_during = log.count(lambda m: m.chat_id not in READERS)
    assert log.count(lambda m: m.chat_id in READERS) == 3
    assert broadcast_during < 300  # the alert really was still going
    # On Redis' clock: behind the ~30 s broadcast a reply would wait for seconds; at HIGH
    # priority its slot is at most the broadcasts' short horizon plus one slot away.
    # (Measured from the reply's first request to its slot.)
    waits = [w for reader in READERS for w in slots.waited_us(reader)]
    longest = (config.horizon + 1 / (rate * config.rate_safety)) * 1_000_000
    assert len(waits) == 3 and max(waits) <= longest + 1000
    # Replies and the broadcast together stay within the one budget of the token.
    assert max_in_window(slots.times()) <= rate


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_reply_hit_by_a_429_is_retried_not_lost(
    store: Store, sandbox: SandboxServer
) -> None:
    log = record_sends(sandbox)
    async with reply_bot(store, sandbox, 30.0) as bot:
        sandbox.state.inject_429(count=1, retry_after=1)
        started = time.monotonic()
        await bot.send_message(READER, "آخر الأخبار")
        elapsed = time.monotonic() - started
    assert log.count(lambda m: m.chat_id == READER) == 1
    assert sandbox.state.stats()["errors_429"] == 1
    assert elapsed >= 0.95  # not before the pause asked for ends (load can only add to it)
