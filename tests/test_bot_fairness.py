"""One reader's flood never silences the bot for the others (issue 9, item 1).

The bot runs as ``newsbot run`` does (aiohttp transport, replies paced per chat through the
shared Redis limiter, about one message a second per chat) against the sandbox. Ordering is
read from the sandbox's message history (``seq`` is one global sequence), never from clocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.delivery.config import DeliveryConfig
from bot.delivery.ratelimit import RateLimiter, RatePriority
from bot.store import Store
from bot.update_processor import DEFAULT_PER_CHAT_LIMIT
from formatters.replies import help_message, notice_slow_down, slow_down
from sandbox import ChatMessage
from tests.delivery_support import DKEYS
from tests.e2e_harness import BotHarness, open_bot_harness

FLOODER = 301
READER = 302
OTHERS = (303, 304, 305)
FLOOD = 60


@pytest.fixture
async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    """The production wiring, with a flooder, a reader and a few well-behaved readers."""
    async with open_bot_harness(redis_url, production_transport=True) as harness:
        harness.add_user(FLOODER, "مستعجل")
        harness.add_user(READER, "سلمى")
        for other in OTHERS:
            harness.add_user(other, "قارئ")
        await harness.ingest("خبر أول\n\nنص الخبر الأول.\n")
        yield harness


def _help_text() -> str:
    return help_message(is_admin=False).text


def _flood(bot: BotHarness, texts: list[str]) -> None:
    """The flooder's messages, all queued before the bot fetches any of them."""
    for text in texts:
        bot.state.user_sends(FLOODER, text)


async def test_a_flooding_reader_does_not_hold_up_another_readers_answer(
    bot: BotHarness,
) -> None:
    # Distinct commands (nothing to collapse): the chat's lane fills up, the rest is dropped.
    _flood(bot, [f"/latest {1 + i % 20}" for i in range(FLOOD)])
    [answer] = await bot.send(READER, "/help")
    assert answer.text == _help_text()

    # The flooder gets what its lane held (the bound) and one notice, not 60 answers.
    flood = await bot.expect(FLOODER, DEFAULT_PER_CHAT_LIMIT + 1, after=0)
    notices = [m for m in flood if m.text == slow_down().text]
    assert len(notices) == 1
    answers = [m for m in flood if m not in notices]
    assert all("آخر" in m.visible_text for m in answers)
    # The other reader was answered before the flooder's backlog was done.
    assert answer.seq < flood[-1].seq
    # The notice comes right after the answer being sent when the flood arrived.
    assert flood[1].text == slow_down().text

    # Nothing more trickles in afterwards: the next /help is the flooder's next message.
    [after] = await bot.send(FLOODER, "/help")
    assert after.text == _help_text()
    assert len(bot.bot_messages(FLOODER)) == DEFAULT_PER_CHAT_LIMIT + 2


async def test_repeated_identical_commands_collapse_and_nothing_is_lost_for_others(
    bot: BotHarness,
) -> None:
    _flood(bot, ["/latest"] * FLOOD)
    # Well-behaved readers, each with two different commands, while the flood is handled.
    for other in OTHERS:
        bot.state.user_sends(other, "/latest 1")
        bot.state.user_sends(other, "/help")
    for other in OTHERS:
        first, second = await bot.expect(other, 2, after=0)
        assert "آخر خبر" in first.visible_text
        assert second.text == _help_text()

    # One /latest being answered, one waiting: the 58 repeats add nothing to either.
    flood = await bot.expect(FLOODER, 2, after=0)
    [after] = await bot.send(FLOODER, "/help")
    assert after.text == _help_text()
    sent: list[ChatMessage] = bot.bot_messages(FLOODER)
    assert [m.text for m in sent] == [flood[0].text, flood[0].text, _help_text()]
    assert all(m.text != slow_down().text for m in sent)


async def test_every_press_of_a_flood_of_button_presses_is_answered(bot: BotHarness) -> None:
    [listing] = await bot.send(FLOODER, "/latest")
    presses = [
        bot.state.press_button(FLOODER, FLOODER, listing.message_id) for _ in range(FLOOD // 3)
    ]
    answers = [await bot.state.wait_for_callback_answer(q, 15.0) for q in presses]
    # No spinner is left turning: a press the lane had no room for is answered at once.
    assert all(a.answered for a in answers)
    refused = [a for a in answers if a.text == notice_slow_down()]
    assert len(refused) == len(presses) - DEFAULT_PER_CHAT_LIMIT
    # The presses the lane held each bring the article, and nothing else comes.
    await bot.expect(FLOODER, DEFAULT_PER_CHAT_LIMIT, after=1)
    [after] = await bot.send(FLOODER, "/help")
    assert after.text == _help_text()
    assert len(bot.bot_messages(FLOODER)) == 1 + DEFAULT_PER_CHAT_LIMIT + 1


async def test_a_reply_never_waits_for_another_chats_spacing(store: Store) -> None:
    config = DeliveryConfig(api_url="http://unused/bot", token="", rate=30.0)
    limiter = RateLimiter(store.redis, DKEYS, config.with_overrides(private_spacing=0.2))
    order: list[int] = []

    async def reply(chat: int) -> None:
        await limiter.wait_for_slot(chat, RatePriority.HIGH)
        order.append(chat)

    # Ten replies to the flooder's chat wait for its spacing; then one to another reader.
    flood = [asyncio.create_task(reply(FLOODER)) for _ in range(10)]
    await asyncio.sleep(0)  # the flooder's replies ask first
    await reply(READER)
    await asyncio.gather(*flood)
    # The flooder's chat takes a slot every 0.2 s; the reader's reply took the next free one.
    assert order.index(READER) <= 2
