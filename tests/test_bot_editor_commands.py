"""Editors correct, update and retract an alert from Telegram: preview, «تأكيد», every reader.

The whole bot (runtime, handlers, a delivery worker) against the sandbox with flood limits on
(the fan-out's 0 × 429 is tests/test_bot_stories.py's to prove; here an editor's burst of
commands may meet one 429 on a loaded machine, which the reply limiter retries).
The editor is subscribed like any reader, so the alert is in their own chat: they reply to it
with ``/correct``, ``/update`` or ``/retract`` (or name the article's id), get a preview with
«تأكيد» and «إلغاء», and only the confirmation reaches the readers' chats.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.delivery.status import AlertStatus
from bot.models import Article, ChatKind, Section
from formatters.callback_data import cancel_change, confirm_change, read_article
from formatters.labels import (
    CANCEL_LABEL,
    CONFIRM_LABEL,
    CORRECTED_MARK,
    RETRACTED_TEXT,
    UPDATE_MARKER,
    arabic_number,
)
from formatters.replies.stories import (
    notice_change_cancelled,
    notice_change_done,
    notice_change_missing,
    notice_change_not_yours,
    notice_editors_only,
)
from sandbox import ChatMessage
from tests.constants import ADMIN_ID
from tests.e2e_harness import BotHarness, open_bot_harness
from tests.waiting import wait_for

EDITOR = ADMIN_ID
OTHER_EDITOR = 1002
READER = 4242  # a reader who is no editor
FIRST = 5000
READERS = 40  # the editor, READER and the others
ARTICLE = (
    "عاجل | انفجار في مرفأ المدينة\n"
    "قتل خمسة أشخاص في انفجار وقع صباح اليوم في المرفأ.\n"
    "وتواصل فرق الإنقاذ البحث عن مفقودين."
)
# The same text form /publish takes: the headline, a blank line, the paragraphs.
CORRECTED = (
    "انفجار في مرفأ المدينة يصيب خمسة أشخاص\n\n"
    "أصيب خمسة أشخاص في انفجار وقع صباح اليوم في المرفأ.\n"
    "وتواصل فرق الإنقاذ البحث عن مفقودين."
)
NEW_HEADLINE = "انفجار في مرفأ المدينة يصيب خمسة أشخاص"
UPDATE = "ارتفع عدد المصابين إلى سبعة بحسب الدفاع المدني."
REASON = "المعلومات لم تتأكد من مصدر ثانٍ"


@pytest.fixture
async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    async with open_bot_harness(
        redis_url,
        admin_ids=(EDITOR, OTHER_EDITOR),
        production_transport=True,
        NEWSBOT_RATE_LIMIT=150,
    ) as harness:
        harness.state.set_flood(
            True, global_per_second=200, private_per_second=1, group_per_minute=20
        )
        yield harness


async def _alerted(bot: BotHarness) -> tuple[str, list[int]]:
    """Subscribe the editor and the readers, publish the article, wait until it reached all."""
    chats = [EDITOR, READER, *range(FIRST, FIRST + READERS - 2)]
    bot.add_user(OTHER_EDITOR, "محرر آخر")
    for chat in chats:
        bot.add_user(chat, f"قارئ {chat}")
        await bot.store.subscribers.subscribe(chat, ChatKind.PRIVATE)
    result = await bot.ingest(ARTICLE)
    assert result.alert_id is not None
    status = await bot.alert_done(result.alert_id)
    assert status.sent == READERS
    return result.id, chats


def _alert_of(bot: BotHarness, chat: int) -> ChatMessage:
    return bot.bot_messages(chat)[0]


def _confirm_token(preview: ChatMessage) -> str:
    """The token behind the preview's «تأكيد» (its buttons: «تأكيد», «إلغاء»)."""
    assert [b["text"] for b in preview.buttons()] == [CONFIRM_LABEL, CANCEL_LABEL]
    confirm, cancel = preview.callback_data()
    token = confirm.removeprefix("c:")
    assert confirm == confirm_change(token) and cancel == cancel_change(token)
    return token


async def _actions(bot: BotHarness, article_id: str) -> list[AlertStatus]:
    status = await bot.stack.services.delivery.alert_status(article_id)
    assert status is not None
    return status.actions


async def _all_done(bot: BotHarness, article_id: str, count: int) -> list[AlertStatus]:
    async def probe() -> list[AlertStatus] | None:
        actions = await _actions(bot, article_id)
        done = len(actions) == count and all(a.state == "done" for a in actions)
        return actions if done else None

    return await wait_for(probe, within=30, what=f"{count} action(s) of {article_id} done")


async def _preview(bot: BotHarness, text: str, *, reply_to: int | None = None) -> ChatMessage:
    if reply_to is None:
        [answer] = await bot.send(EDITOR, text)
    else:
        [answer] = await bot.send_reply(EDITOR, text, to_message_id=reply_to)
    return answer


async def test_a_correction_replied_to_the_alert_edits_every_alert_once_confirmed(
    bot: BotHarness,
) -> None:
    article_id, chats = await _alerted(bot)
    alert = _alert_of(bot, EDITOR)
    preview = await _preview(bot, f"/correct\n{CORRECTED}", reply_to=alert.message_id)
    token = _confirm_token(preview)
    # The preview says what will happen: the new headline and how many chats it reaches.
    assert NEW_HEADLINE in preview.visible_text
    assert arabic_number(READERS) in preview.visible_text
    # Nothing happened yet: no edit queued, nobody's alert touched, the article as it was.
    assert await _actions(bot, article_id) == []
    view = await bot.store.stories.view(article_id)
    assert view is not None and view.story.version == 1

    answer, _ = await bot.press(EDITOR, preview, confirm_change(token))
    assert answer.text == notice_change_done()
    [action] = await _all_done(bot, article_id, 1)
    assert action.edited == READERS
    for chat in chats:
        shown = _alert_of(bot, chat)
        assert NEW_HEADLINE in shown.visible_text and CORRECTED_MARK in shown.visible_text
        assert "قتل" not in shown.visible_text and shown.edit_count == 1
    # The preview itself now says it was done, without its buttons.
    redrawn = await bot.edited(EDITOR, preview.message_id)
    assert redrawn.reply_markup is None and "✅" in redrawn.visible_text

    # A second press of the same button (a double tap, a replay) does nothing more.
    again, _ = await bot.press(EDITOR, preview, confirm_change(token))
    assert again.text == notice_change_missing()
    await bot.barrier(EDITOR)
    assert len(await _actions(bot, article_id)) == 1
    assert all(_alert_of(bot, chat).edit_count == 1 for chat in chats)
    view = await bot.store.stories.view(article_id)
    assert view is not None and view.story.version == 2


async def test_an_update_by_id_is_replied_under_every_alert_once_confirmed(
    bot: BotHarness,
) -> None:
    article_id, chats = await _alerted(bot)
    alerts = {chat: _alert_of(bot, chat).message_id for chat in chats}
    preview = await _preview(bot, f"/update {article_id} {UPDATE}")
    assert UPDATE in preview.visible_text and arabic_number(READERS) in preview.visible_text
    token = _confirm_token(preview)
    answer, _ = await bot.press(EDITOR, preview, confirm_change(token))
    assert answer.text == notice_change_done()
    [action] = await _all_done(bot, article_id, 1)
    assert action.sent == READERS
    for chat in chats:
        replies = [m for m in bot.bot_messages(chat) if m.reply_to_message_id == alerts[chat]]
        [reply] = replies
        assert UPDATE_MARKER in reply.visible_text and UPDATE in reply.visible_text


async def test_a_retraction_with_a_reason_edits_every_alert_to_the_notice(
    bot: BotHarness,
) -> None:
    article_id, chats = await _alerted(bot)
    alert = _alert_of(bot, READER)
    preview = await _preview(bot, f"/retract {REASON}", reply_to=_alert_of(bot, EDITOR).message_id)
    assert REASON in preview.visible_text
    answer, _ = await bot.press(EDITOR, preview, confirm_change(_confirm_token(preview)))
    assert answer.text == notice_change_done()
    [action] = await _all_done(bot, article_id, 1)
    assert action.edited == READERS
    for chat in chats:
        shown = _alert_of(bot, chat)
        assert RETRACTED_TEXT in shown.visible_text and REASON in shown.visible_text
        assert "مرفأ" not in shown.visible_text and shown.reply_markup is None
    # The reader's old read button answers with the notice, never the text.
    _, [page] = await bot.press(READER, alert, read_article(article_id), expect=1)
    assert RETRACTED_TEXT in page.visible_text and "مرفأ" not in page.visible_text
    # A retracted article takes no correction: a clear answer, no preview, no button.
    [refusal] = await bot.send(EDITOR, f"/correct {article_id}\n{CORRECTED}")
    assert RETRACTED_TEXT in refusal.visible_text and refusal.reply_markup is None
    [again] = await bot.send(EDITOR, f"/retract {article_id}")
    assert "مسحوب من قبل" in again.visible_text and again.reply_markup is None


async def test_readers_who_are_no_editors_are_refused_and_their_press_does_nothing(
    bot: BotHarness,
) -> None:
    article_id, chats = await _alerted(bot)
    for command in (f"/correct {article_id}\n{CORRECTED}", f"/update {article_id} x", "/retract"):
        [refusal] = await bot.send(READER, command)
        assert "مخصص لمحرري الأخبار" in refusal.visible_text
        assert refusal.reply_markup is None
    preview = await _preview(bot, f"/correct {article_id}\n{CORRECTED}")
    token = _confirm_token(preview)
    # A reader pressing the editor's button (or sending its data) runs nothing...
    answer, _ = await bot.press(READER, preview, confirm_change(token))
    assert answer.text == notice_editors_only()
    # ...and neither does another editor: the change is the one who asked for it's to confirm.
    answer, _ = await bot.press(OTHER_EDITOR, preview, confirm_change(token))
    assert answer.text == notice_change_not_yours()
    answer, _ = await bot.press(OTHER_EDITOR, preview, cancel_change(token))
    assert answer.text == notice_change_not_yours()
    await bot.barrier(EDITOR)
    assert await _actions(bot, article_id) == []
    assert all(_alert_of(bot, chat).edit_count == 0 for chat in chats)
    # The editor's own press still works: nobody else's press used it up.
    answer, _ = await bot.press(EDITOR, preview, confirm_change(token))
    assert answer.text == notice_change_done()
    await _all_done(bot, article_id, 1)


async def test_cancel_changes_nothing_and_the_confirmation_is_gone(bot: BotHarness) -> None:
    article_id, chats = await _alerted(bot)
    preview = await _preview(bot, f"/retract {REASON}", reply_to=_alert_of(bot, EDITOR).message_id)
    token = _confirm_token(preview)
    answer, _ = await bot.press(EDITOR, preview, cancel_change(token))
    assert answer.text == notice_change_cancelled()
    redrawn = await bot.edited(EDITOR, preview.message_id)
    assert redrawn.reply_markup is None
    answer, _ = await bot.press(EDITOR, preview, confirm_change(token))
    assert answer.text == notice_change_missing()
    await bot.barrier(EDITOR)
    assert await _actions(bot, article_id) == []
    view = await bot.store.stories.view(article_id)
    assert view is not None and not view.story.retracted
    assert all(_alert_of(bot, chat).edit_count == 0 for chat in chats)


async def test_forged_and_expired_confirmations_do_nothing(bot: BotHarness, redis: Redis) -> None:
    article_id, _ = await _alerted(bot)
    preview = await _preview(bot, f"/update {article_id} {UPDATE}")
    token = _confirm_token(preview)
    forged, _ = await bot.press(EDITOR, preview, confirm_change("B" * 22))
    assert forged.text == notice_change_missing()
    # The pending change expires on its own (a short TTL); let it expire now.
    key = bot.store.keys.pending_change(token)
    assert 0 < await redis.ttl(key) <= 600
    await redis.pexpire(key, 1)

    async def gone() -> bool | None:
        return True if await redis.exists(key) == 0 else None

    await wait_for(gone, what="the pending change expired")
    expired, _ = await bot.press(EDITOR, preview, confirm_change(token))
    assert expired.text == notice_change_missing()
    await bot.barrier(EDITOR)
    assert await _actions(bot, article_id) == []


async def test_bad_requests_get_clear_arabic_answers_and_no_button(bot: BotHarness) -> None:
    article_id, _ = await _alerted(bot)
    alert = _alert_of(bot, EDITOR)

    async def refused(text: str, *, reply_to: int | None = None) -> str:
        answer = await _preview(bot, text, reply_to=reply_to)
        assert answer.reply_markup is None, answer.visible_text
        assert "Traceback" not in answer.visible_text
        return answer.visible_text

    assert "لا يوجد خبر" in await refused(f"/correct zzz999\n{CORRECTED}")
    assert "لا يوجد خبر" in await refused("/update zzz999 نص")
    # Nothing to go by: no reply and no id, or a reply without the text.
    assert "ردّ على تنبيهه" in await refused("/correct")
    assert "ردّ على تنبيهه" in await refused("/update", reply_to=alert.message_id)
    # The same text as published: nothing to correct.
    assert "مطابق" in await refused(f"/correct\n{ARTICLE}", reply_to=alert.message_id)
    # A reply to a message that is no alert (the bot's /help answer).
    [help_answer] = await bot.send(EDITOR, "/help")
    assert "لم أجد الخبر" in await refused(f"/update {UPDATE}", reply_to=help_answer.message_id)
    assert "أطول من المسموح" in await refused(f"/update {article_id} {'ح' * 2001}")
    # Replying and naming the id as well: the id is not taken for the update's first word.
    both = await _preview(bot, f"/update {article_id} {UPDATE}", reply_to=alert.message_id)
    assert f"نص التحديث: {UPDATE}" in both.visible_text
    # An article that was never alerted: the preview says only the stored article changes.
    quiet = await bot.store.articles.save(
        Article(title="خبر لم يُنبَّه به", sections=[Section(paragraphs=["فقرة الخبر."])])
    )
    preview = await _preview(bot, f"/retract {quiet.id}")
    assert "لم يُرسل تنبيه" in preview.visible_text
    answer, _ = await bot.press(EDITOR, preview, confirm_change(_confirm_token(preview)))
    assert answer.text == notice_change_done()
    view = await bot.store.stories.view(quiet.id)
    assert view is not None and view.story.retracted
