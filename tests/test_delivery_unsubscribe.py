"""A reader who says /stop while an alert is going out gets nothing after the confirmation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.delivery_support import delivery_reader, seed
from tests.e2e_harness import BotHarness, open_bot_harness
from tests.waiting import wait_for

READERS = 150
STOPPERS = 40
STOPPED = "تم إيقاف التنبيهات"
HEADLINE = "زلزال بقوة 6 درجات يضرب الساحل الشمالي"


@pytest.fixture
async def slow_bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    """The production bot (shared Redis limiter for replies) at Telegram's free 30 msg/s."""
    async with open_bot_harness(
        redis_url, production_transport=True, NEWSBOT_RATE_LIMIT=30
    ) as harness:
        # Flood limits on: a 429 (a stalled CI machine can provoke one) is retried, not lost.
        harness.state.set_flood(True)
        yield harness


async def test_readers_who_stop_mid_alert_get_nothing_after_the_confirmation(
    slow_bot: BotHarness,
) -> None:
    bot = slow_bot
    chats = await seed(bot.store, bot.server, READERS)
    result = await bot.ingest(f"عاجل: {HEADLINE}\nالتفاصيل بعد قليل.")
    assert result.alert_id is not None
    reader = delivery_reader(bot.store)

    async def started() -> bool:
        status = await reader.alert_status(result.alert_id or "")
        return status is not None and status.sent >= 10

    await wait_for(started, what="the alert reaching its first readers")
    # The last readers in line: the worker already holds them, their turn has not come.
    stoppers = chats[-STOPPERS:]
    for chat in stoppers:
        bot.state.user_sends(chat, "/stop")
    for chat in stoppers:
        await wait_for_confirmation(bot, chat)
    status = await bot.alert_done(result.alert_id)

    late = [chat for chat in stoppers if messages_after_confirmation(bot, chat)]
    assert late == []
    skipped = [chat for chat in stoppers if not any(HEADLINE in t for t in texts(bot, chat))]
    assert len(skipped) > STOPPERS // 2  # most of them had not been reached yet
    assert status.skipped == len(skipped)
    assert status.sent == READERS - len(skipped)
    # Everyone else got the alert exactly once.
    for chat in chats[:-STOPPERS]:
        assert sum(HEADLINE in t for t in texts(bot, chat)) == 1


def texts(bot: BotHarness, chat: int) -> list[str]:
    """What the bot said in a chat, oldest first."""
    return [m.visible_text for m in bot.bot_messages(chat)]


def messages_after_confirmation(bot: BotHarness, chat: int) -> list[str]:
    """The bot's messages in a chat after its /stop confirmation."""
    said = texts(bot, chat)
    where = next(i for i, text in enumerate(said) if STOPPED in text)
    return said[where + 1 :]


async def wait_for_confirmation(bot: BotHarness, chat: int) -> None:
    """Wait until the reader has the /stop confirmation."""

    async def confirmed() -> bool:
        return any(STOPPED in text for text in texts(bot, chat))

    await wait_for(confirmed, within=30, what=f"the /stop confirmation in chat {chat}")
