"""A reader who blocks the bot while it answers them: marked inactive quietly, others unaffected."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.e2e_harness import BotHarness, open_bot_harness
from tests.waiting import wait_for

LAYLA = 211
OMAR = 212


@pytest.fixture
async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    """A running bot with two subscribed readers."""
    async with open_bot_harness(redis_url) as harness:
        harness.add_user(LAYLA, "ليلى")
        harness.add_user(OMAR, "عمر")
        await harness.send(LAYLA, "/start")
        await harness.send(OMAR, "/start")
        yield harness


async def test_a_reader_blocking_the_bot_during_a_reply_is_marked_inactive_without_a_traceback(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, seed_text: str
) -> None:
    caplog.set_level(logging.INFO)
    omar_had = len(bot.bot_messages(OMAR))
    refused = bot.state.stats()["errors_403"]
    # Omar asks for help and blocks the bot before it answers (silently: the bot learns of it
    # from the 403 its reply gets, not from a my_chat_member update).
    bot.state.user_sends(OMAR, "/help")
    bot.state.block(OMAR, notify=False)

    async def inactive() -> bool:
        omar = await bot.store.subscribers.get(OMAR)
        return omar is not None and not omar.active and omar.inactive_reason == "blocked"

    await wait_for(inactive, what="Omar marked inactive after the 403")
    # Layla, who is still there, is answered as ever and still gets the next alert.
    [helped] = await bot.send(LAYLA, "/help")
    assert "الأوامر" in helped.visible_text
    result = await bot.ingest(seed_text)
    status = await bot.alert_done(str(result.alert_id))
    assert status.sent == 1 and status.blocked == 0  # Omar is no longer in the audience
    # One refused reply and no apology attempted behind it; nothing reached Omar.
    assert bot.state.stats()["errors_403"] == refused + 1
    assert len(bot.bot_messages(OMAR)) == omar_had
    # A reader leaving is no bug: no traceback, no error line.
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text
    assert f"chat={OMAR}" in caplog.text and "marking the chat inactive" in caplog.text
