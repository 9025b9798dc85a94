"""Living stories with the whole bot (runtime, handlers, workers) against the sandbox.

A few hundred readers get a breaking alert with the sandbox's flood limits on; then the
newsroom retracts it or posts an update, and the tests look at what every chat shows and at
what a reader gets from ``/article``, the deep link, the old read button, ``/latest`` and
``/search``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.delivery.status import AlertStatus
from bot.models import ChatKind
from formatters.callback_data import read_article
from formatters.labels import READ_FULL_LABEL, RETRACTED_TEXT, UPDATE_MARKER, UPDATES_HEADING
from sandbox import ChatMessage
from tests.e2e_harness import BotHarness, open_bot_harness
from tests.waiting import wait_for

READERS = 300
FIRST = 5000
READER = 4242  # a reader who talks to the bot in the tests
ARTICLE = (
    "عاجل | انفجار في مرفأ المدينة\n"
    "قتل خمسة أشخاص في انفجار وقع صباح اليوم في المرفأ.\n"
    "وتواصل فرق الإنقاذ البحث عن مفقودين."
)
REASON = "المعلومات لم تتأكد من مصدر ثانٍ"


@pytest.fixture
async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    async with open_bot_harness(
        redis_url, production_transport=True, NEWSBOT_RATE_LIMIT=150
    ) as harness:
        # Telegram's limits, the global one scaled to the test's rate (edits count in it).
        harness.state.set_flood(
            True, global_per_second=200, private_per_second=1, group_per_minute=20
        )
        yield harness


async def _alerted(bot: BotHarness) -> tuple[str, list[int]]:
    """Subscribe the readers, publish the breaking article and wait until it reached all."""
    chats = [READER, *range(FIRST, FIRST + READERS - 1)]
    for chat in chats:
        bot.add_user(chat, f"قارئ {chat}")
        await bot.store.subscribers.subscribe(chat, ChatKind.PRIVATE)
    result = await bot.ingest(ARTICLE)
    assert result.alert_id is not None
    status = await bot.alert_done(result.alert_id)
    assert status.sent == READERS
    return result.id, chats


async def _action_done(bot: BotHarness, alert_id: str, action_id: str) -> AlertStatus:
    async def probe() -> AlertStatus | None:
        status = await bot.stack.services.delivery.alert_status(alert_id)
        found = [a for a in (status.actions if status else []) if a.alert_id == action_id]
        return found[0] if found and found[0].state == "done" else None

    return await wait_for(probe, within=30, what=f"action {action_id}")


def _alert_of(bot: BotHarness, chat: int) -> ChatMessage:
    """The chat's alert: the first thing the bot said there."""
    return bot.bot_messages(chat)[0]


async def test_a_retraction_edits_every_alert_to_the_notice_and_withdraws_the_article(
    bot: BotHarness,
) -> None:
    article_id, chats = await _alerted(bot)
    title_word = "مرفأ"
    done = await bot.stack.services.stories.retract(article_id, REASON, by="test")
    assert done.created and done.edits_queued == READERS and done.action_id
    action = await _action_done(bot, article_id, done.action_id)
    assert action.edited == READERS
    for chat in chats:
        alert = _alert_of(bot, chat)
        assert RETRACTED_TEXT in alert.visible_text and REASON in alert.visible_text
        assert title_word not in alert.visible_text  # never the withdrawn text
        assert alert.reply_markup is None and alert.edit_count == 1  # buttons removed
    assert bot.state.stats()["errors_429"] == 0

    def notice(messages: list[ChatMessage]) -> None:
        [only] = messages
        assert RETRACTED_TEXT in only.visible_text and REASON in only.visible_text
        assert title_word not in only.visible_text

    notice(await bot.send(READER, f"/article {article_id}"))
    old_alert = _alert_of(bot, READER)
    answer, sent = await bot.press(READER, old_alert, read_article(article_id), expect=1)
    assert answer.answered
    notice(sent)
    deep_link = await bot.send(READER, f"/start a_{article_id}")
    notice(deep_link)
    [latest] = await bot.send(READER, "/latest")
    assert title_word not in latest.visible_text
    [search] = await bot.send(READER, f"/search {title_word}")
    assert title_word not in "".join(search.callback_data()) and article_id not in str(
        search.reply_markup
    )
    # The replies shared each chat's budget with the edits: Telegram never had to refuse one.
    assert bot.state.stats()["errors_429"] == 0


async def test_an_update_is_replied_under_every_alert_and_added_to_the_article(
    bot: BotHarness,
) -> None:
    article_id, chats = await _alerted(bot)
    alerts = {chat: _alert_of(bot, chat).message_id for chat in chats}
    left, deleted = chats[1], chats[2]
    await bot.store.subscribers.unsubscribe(left)  # /stop: no more news, updates included
    bot.state.user_deletes(deleted, alerts[deleted])
    text = "ارتفع عدد الضحايا إلى سبعة بحسب الدفاع المدني."
    posted = await bot.stack.services.stories.update(article_id, text, by="test")
    assert posted.created and posted.action_id and posted.update.number == 1
    action = await _action_done(bot, article_id, posted.action_id)
    assert action.sent == READERS - 1 and action.skipped == 1
    for chat in chats:
        replies = [m for m in bot.bot_messages(chat) if m.message_id != alerts[chat]]
        if chat == left:
            assert replies == []
            continue
        [reply] = replies
        assert UPDATE_MARKER in reply.visible_text and text in reply.visible_text
        assert [b["text"] for b in reply.buttons()][:1] == [READ_FULL_LABEL]
        if chat == deleted:
            assert reply.reply_to_message_id is None  # sent anyway, without the quote
        else:
            assert reply.reply_to_message_id == alerts[chat]
    assert bot.state.stats()["errors_429"] == 0
    # The full text now ends with the update, for the button and for /article alike.
    reply = next(m for m in bot.bot_messages(READER) if m.reply_to_message_id is not None)
    _, pages = await bot.press(READER, reply, read_article(article_id), expect=1)
    assert UPDATES_HEADING in pages[-1].visible_text and text in pages[-1].visible_text
    article = await bot.send(READER, f"/article {article_id}")
    assert text in article[-1].visible_text
    # The same update again is the same update: nothing more is sent.
    again = await bot.stack.services.stories.update(article_id, text, by="test")
    assert not again.created and again.action_id is None
    assert bot.state.stats()["errors_429"] == 0
