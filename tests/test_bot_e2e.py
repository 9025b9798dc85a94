"""End-to-end conversations: the real Application and delivery worker against the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.models import ChatKind, Preference
from formatters import format_article
from formatters.callback_data import read_article
from formatters.labels import READ_FULL_LABEL, arabic_number
from formatters.replies import DEFAULT_LATEST, MAX_LATEST
from tests.constants import ADMIN_ID, BOT_TOKEN
from tests.e2e_harness import BOT_USERNAME, BotHarness, open_bot_harness

LAYLA = 201
OMAR = 202
HUDA = 203
GROUP = -100201
CHANNEL = -100301


@pytest.fixture
async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    """A running bot with three readers and an editor known to the sandbox."""
    async with open_bot_harness(redis_url) as harness:
        harness.add_user(LAYLA, "ليلى", "layla")
        harness.add_user(OMAR, "عمر")  # no username: must not matter
        harness.add_user(HUDA, "هدى", "huda")
        harness.add_user(ADMIN_ID, "المحرر", "editor")
        yield harness


def _article(title: str, *paragraphs: str, breaking: bool = False) -> str:
    head = f"عاجل| {title}" if breaking else title
    return "\n\n".join([head, *paragraphs]) + "\n"


# Subscribing, alerts and reading -------------------------------------------------------------


async def test_start_subscribes_and_greets_in_arabic(bot: BotHarness) -> None:
    [greeting] = await bot.send(LAYLA, "/start")
    assert "أهلاً ليلى" in greeting.visible_text
    assert "تم اشتراكك" in greeting.visible_text
    for command in ("/latest", "/search", "/article", "/settings", "/stop", "/help"):
        assert command in greeting.visible_text
    subscriber = await bot.store.subscribers.get(LAYLA)
    assert subscriber is not None and subscriber.active and subscriber.kind is ChatKind.PRIVATE

    [again] = await bot.send(LAYLA, "/start")
    assert "مشترك بالفعل" in again.visible_text


async def test_breaking_alert_button_and_full_text(bot: BotHarness, seed_text: str) -> None:
    await bot.send(LAYLA, "/start")
    await bot.send(OMAR, "/start")
    result = await bot.ingest(seed_text)
    assert result.alert_id is not None

    [alert] = await bot.expect(LAYLA, 1, after=1)
    [omar_alert] = await bot.expect(OMAR, 1, after=1)
    assert "عاجل" in alert.visible_text
    assert "بايدن يحذر نتنياهو" in alert.visible_text
    assert alert.buttons()[0]["text"] == READ_FULL_LABEL
    assert alert.callback_data() == [read_article(result.id)]
    assert omar_alert.visible_text == alert.visible_text

    expected = len(format_article(result.article))
    answer, parts = await bot.press(LAYLA, alert, expect=expected)
    assert answer.answered
    text = "\n".join(p.visible_text for p in parts)
    headings = [
        "التحركات العسكرية الأميركية",
        "الاتصالات الأميركية الإسرائيلية",
        "تحركات دبلوماسية",
        "التعاون الأمني الإسرائيلي الأميركي",
        "استعدادات إسرائيلية",
    ]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions), "sections arrive in reading order"
    assert "في ظل تصاعد التوترات" in parts[0].visible_text
    assert "مواجهة واسعة النطاق" in parts[-1].visible_text
    status = await bot.alert_done(result.id)
    assert status.sent == 2


async def test_article_command_sends_every_chunk_in_order(bot: BotHarness) -> None:
    long_body = [f"الفقرة رقم {i}: " + "كلمة طويلة في نص الخبر " * 40 for i in range(1, 13)]
    result = await bot.ingest(_article("تقرير مطول عن الاقتصاد", *long_body))
    chunks = format_article(result.article)
    assert len(chunks) >= 2, "the test needs a multi-message article"
    parts = await bot.send(LAYLA, f"/article {result.id}", expect=len(chunks))
    assert [p.text for p in parts] == [c.text for c in chunks]
    joined = "".join(p.visible_text for p in parts)
    order = [joined.index(f"الفقرة رقم {i}:") for i in range(1, 13)]
    assert order == sorted(order)


async def test_article_bad_input_gets_helpful_answers(bot: BotHarness) -> None:
    [usage] = await bot.send(LAYLA, "/article")
    assert "رمز الخبر" in usage.visible_text
    [unknown] = await bot.send(LAYLA, "/article NoSuchId99")
    assert "لم أجد خبراً" in unknown.visible_text and "NoSuchId99" in unknown.visible_text
    [weird] = await bot.send(LAYLA, "/article <b>x</b>")
    assert "لم أجد خبراً" in weird.visible_text and "<b>x</b>" in weird.visible_text
    [two] = await bot.send(LAYLA, "/article a b")
    assert "رمز الخبر" in two.visible_text


async def test_latest_lists_headline_buttons_that_open_articles(bot: BotHarness) -> None:
    [empty] = await bot.send(LAYLA, "/latest")
    assert "لا توجد أخبار" in empty.visible_text
    ids = []
    for i in range(1, 8):
        result = await bot.ingest(_article(f"خبر محلي رقم {i}", f"تفاصيل الخبر {i}."))
        ids.append(result.id)
    [listing] = await bot.send(LAYLA, "/latest")
    newest_first = [read_article(i) for i in reversed(ids)][:DEFAULT_LATEST]
    assert listing.callback_data() == newest_first
    assert "آخر الأخبار" in listing.visible_text

    [three] = await bot.send(LAYLA, "/latest 3")
    assert len(three.callback_data()) == 3
    [arabic_digits] = await bot.send(LAYLA, "/latest ٢")
    assert len(arabic_digits.callback_data()) == 2

    _, [opened] = await bot.press(LAYLA, three, three.callback_data()[1], expect=1)
    assert "خبر محلي رقم 6" in opened.visible_text
    assert "تفاصيل الخبر 6." in opened.visible_text


async def test_latest_bad_count_hints_or_clamps(bot: BotHarness) -> None:
    await bot.ingest(_article("خبر واحد", "نص قصير."))
    [hint] = await bot.send(LAYLA, "/latest abc")
    # Numbers in Arabic-Indic digits, like the numbered headline lists.
    assert "/latest" in hint.visible_text and arabic_number(MAX_LATEST) in hint.visible_text
    [zero] = await bot.send(LAYLA, "/latest 0")
    assert zero.visible_text == hint.visible_text
    note, listing = await bot.send(LAYLA, "/latest 500", expect=2)
    assert arabic_number(500) in note.visible_text  # what was asked
    assert arabic_number(MAX_LATEST) in note.visible_text  # and what comes
    assert len(listing.callback_data()) == 1
    [by_arabic_digits] = await bot.send(LAYLA, "/latest ١")
    assert len(by_arabic_digits.callback_data()) == 1


async def test_search_tolerates_arabic_spelling_variants(bot: BotHarness, seed_text: str) -> None:
    seed = await bot.ingest(seed_text, breaking=False)
    await bot.ingest(_article("أسعار الذهب ترتفع", "ارتفعت أسعار الذهب في الأسواق العالمية."))
    for query in ("إسماعيل هنية", "اسماعيل هنيه", "الاميركية", "بايدن"):
        [found] = await bot.send(LAYLA, f"/search {query}")
        assert found.callback_data() == [read_article(seed.id)], query
        assert "نتائج البحث" in found.visible_text or "نتيجة البحث" in found.visible_text
    [gold] = await bot.send(LAYLA, "/search الذهب")
    assert len(gold.callback_data()) == 1 and gold.callback_data() != [read_article(seed.id)]
    [usage] = await bot.send(LAYLA, "/search")
    assert "كلمات البحث" in usage.visible_text
    [none] = await bot.send(LAYLA, "/search كلمةغيرموجودة")
    assert "لم أجد" in none.visible_text and "كلمةغيرموجودة" in none.visible_text


async def test_search_with_too_many_words_says_which_words_were_used(
    bot: BotHarness, seed_text: str
) -> None:
    seed = await bot.ingest(seed_text, breaking=False)
    words = "بايدن " * 12 + "كلمةزائدةلاتوجد"  # the 13th word matches nothing
    note, found = await bot.send(LAYLA, f"/search {words}", expect=2)
    assert arabic_number(12) in note.visible_text and "كلمة فقط" in note.visible_text
    assert found.callback_data() == [read_article(seed.id)]
    # Twelve words or fewer: no note.
    [only] = await bot.send(LAYLA, "/search " + "بايدن " * 12)
    assert only.callback_data() == [read_article(seed.id)]


async def test_settings_menu_marks_and_changes_the_preference(bot: BotHarness) -> None:
    await bot.send(HUDA, "/start")
    [menu] = await bot.send(HUDA, "/settings")
    labels = [b["text"] for b in menu.buttons()]
    assert labels == ["✅ العاجل فقط", "كل الأخبار"]

    answer, _ = await bot.press(HUDA, menu, menu.callback_data()[1])
    assert answer.text is not None and "كل الأخبار" in answer.text
    subscriber = await bot.store.subscribers.get(HUDA)
    assert subscriber is not None and subscriber.preference is Preference.ALL
    redrawn = await bot.edited(HUDA, menu.message_id)
    assert [b["text"] for b in redrawn.buttons()] == ["العاجل فقط", "✅ كل الأخبار"]

    again, _ = await bot.press(HUDA, redrawn, redrawn.callback_data()[1])
    assert again.text is not None and "بالفعل" in again.text

    # The "all news" reader also gets routine articles; a breaking-only reader does not.
    await bot.send(LAYLA, "/start")
    routine = await bot.ingest(_article("افتتاح معرض الكتاب", "افتتح معرض الكتاب اليوم."))
    [note] = await bot.expect(HUDA, 1, after=len(bot.bot_messages(HUDA)))
    assert "افتتاح معرض الكتاب" in note.visible_text
    status = await bot.alert_done(str(routine.alert_id))
    assert status.sent == 1
    assert all("معرض الكتاب" not in m.visible_text for m in bot.bot_messages(LAYLA))


async def test_stop_and_subscribe_are_idempotent_and_stop_alerts(
    bot: BotHarness, seed_text: str
) -> None:
    await bot.send(LAYLA, "/start")
    await bot.send(OMAR, "/start")
    [stopped] = await bot.send(LAYLA, "/stop")
    assert "تم إيقاف التنبيهات" in stopped.visible_text
    [already] = await bot.send(LAYLA, "/unsubscribe")
    assert "غير مشترك" in already.visible_text and already.visible_text != stopped.visible_text

    before = len(bot.bot_messages(LAYLA))
    result = await bot.ingest(seed_text)
    status = await bot.alert_done(str(result.alert_id))
    assert status.sent == 1  # Omar only
    assert len(bot.bot_messages(LAYLA)) == before

    [back] = await bot.send(LAYLA, "/subscribe")
    assert "تم تفعيل اشتراكك" in back.visible_text
    [twice] = await bot.send(LAYLA, "/subscribe")
    assert "مشترك بالفعل" in twice.visible_text
    subscriber = await bot.store.subscribers.get(LAYLA)
    assert subscriber is not None and subscriber.active

    second = await bot.ingest(_article("زلزال قوي", "ضرب زلزال قوي المنطقة.", breaking=True))
    [alert] = await bot.expect(LAYLA, 1, after=len(bot.bot_messages(LAYLA)))
    assert "زلزال قوي" in alert.visible_text
    assert second.alert_id is not None


async def test_deep_links_open_articles_or_fall_back_to_the_greeting(bot: BotHarness) -> None:
    result = await bot.ingest(_article("خبر برابط مباشر", "نص الخبر المشارك."))
    parts = await bot.send(OMAR, f"/start a_{result.id}", expect=2)
    assert "خبر برابط مباشر" in parts[0].visible_text
    assert "أهلاً عمر" in parts[1].visible_text  # a newcomer also learns the commands
    assert (await bot.store.subscribers.get(OMAR)) is not None

    [only_article] = await bot.send(OMAR, f"/start a_{result.id}")
    assert "خبر برابط مباشر" in only_article.visible_text

    missing, greeting = await bot.send(OMAR, "/start a_Missing123", expect=2)
    assert "لم أجد خبراً" in missing.visible_text and "أهلاً" in greeting.visible_text
    [junk] = await bot.send(OMAR, "/start something-else")
    assert "أهلاً عمر" in junk.visible_text


# Buttons: forged, stale, inaccessible ---------------------------------------------------------


async def test_forged_and_stale_buttons_get_a_short_notice(bot: BotHarness) -> None:
    result = await bot.ingest(_article("خبر سيحذف", "نص مؤقت."))
    [listing] = await bot.send(LAYLA, "/latest")

    forged, new = await bot.press(LAYLA, listing, "a:../../etc")
    assert forged.text is not None and "لم يعد صالحاً" in forged.text and not new
    junk, _ = await bot.press(LAYLA, listing, "x" * 64)
    assert junk.text == forged.text
    pref, _ = await bot.press(LAYLA, listing, "p:everything")
    assert pref.text == forged.text

    assert await bot.store.articles.delete(result.id)
    gone, new = await bot.press(LAYLA, listing)
    assert gone.text is not None and "لم يعد متاحاً" in gone.text and not new
    await bot.barrier(LAYLA)  # nothing else was sent meanwhile
    assert len(bot.bot_messages(LAYLA)) == 2


async def test_button_on_an_inaccessible_message_still_delivers(bot: BotHarness) -> None:
    result = await bot.ingest(_article("خبر قديم", "نص خبر قديم جداً."))
    before = len(bot.bot_messages(LAYLA))
    query_id = bot.state.press_button(LAYLA, LAYLA, 999_999, read_article(result.id))
    await bot.state.wait_for_callback_answer(query_id)
    [text] = await bot.expect(LAYLA, 1, after=before)
    assert "نص خبر قديم جداً." in text.visible_text


# Groups, channels, edits ----------------------------------------------------------------------


async def test_group_commands_with_bot_username(bot: BotHarness) -> None:
    await bot.ingest(_article("خبر للمجموعة", "نص الخبر في المجموعة."))
    [greeting] = await bot.send(LAYLA, f"/start@{BOT_USERNAME}", chat_id=GROUP, chat_type="group")
    assert "تم اشتراك هذه المجموعة" in greeting.visible_text
    subscriber = await bot.store.subscribers.get(GROUP)
    assert subscriber is not None and subscriber.kind is ChatKind.GROUP and subscriber.active
    assert await bot.store.subscribers.get(LAYLA) is None  # the group, not the member

    [listing] = await bot.send(LAYLA, f"/latest@{BOT_USERNAME}", chat_id=GROUP, chat_type="group")
    assert len(listing.callback_data()) == 1
    # Another bot's command is not ours; plain chatter in a group gets no answer.
    await bot.send(LAYLA, "/latest@some_other_bot", chat_id=GROUP, expect=0)
    await bot.send(LAYLA, "مرحبا بالجميع", chat_id=GROUP, expect=0)
    await bot.send(LAYLA, "/help", chat_id=GROUP)
    assert len(bot.bot_messages(GROUP)) == 3

    # Reading from a group button: the full text goes to the reader's private chat.
    answer, [private] = await bot.press(OMAR, listing, expect=1, expect_in=OMAR)
    assert answer.text is not None and "المحادثة الخاصة" in answer.text
    assert "نص الخبر في المجموعة." in private.visible_text
    assert len(bot.bot_messages(GROUP)) == 3


async def test_group_receives_alerts(bot: BotHarness) -> None:
    await bot.send(LAYLA, "/start", chat_id=GROUP, chat_type="supergroup")
    subscriber = await bot.store.subscribers.get(GROUP)
    assert subscriber is not None and subscriber.kind is ChatKind.SUPERGROUP
    result = await bot.ingest(_article("انفجار في الميناء", "وقع انفجار كبير.", breaking=True))
    [alert] = await bot.expect(GROUP, 1, after=1)
    assert "انفجار في الميناء" in alert.visible_text and "عاجل" in alert.visible_text
    assert result.alert_id is not None


async def test_channel_post_start_subscribes_the_channel(bot: BotHarness) -> None:
    [greeting] = await bot.send(LAYLA, "/start", chat_id=CHANNEL, chat_type="channel")
    assert "تم اشتراك هذه القناة" in greeting.visible_text
    subscriber = await bot.store.subscribers.get(CHANNEL)
    assert subscriber is not None and subscriber.kind is ChatKind.CHANNEL
    # A channel post has no sender: editors' commands are refused politely there.
    [refusal] = await bot.send(LAYLA, "/stats", chat_id=CHANNEL, chat_type="channel")
    assert "مخصص لمحرري الأخبار" in refusal.visible_text
    [stopped] = await bot.send(LAYLA, "/stop", chat_id=CHANNEL, chat_type="channel")
    assert "تم إيقاف التنبيهات في هذه القناة" in stopped.visible_text


async def test_edited_command_is_answered_like_a_new_one(bot: BotHarness) -> None:
    for i in range(3):
        await bot.ingest(_article(f"خبر {i}", f"نص {i}."))
    [first] = await bot.send(LAYLA, "/latest 1")
    assert len(first.callback_data()) == 1
    original = bot.last_user_message_id(LAYLA)
    [edited] = await bot.send(LAYLA, "/latest 3", edited_of=original)
    assert len(edited.callback_data()) == 3
    # An edit into plain text gets no answer (free-text hints are for new messages only).
    before = len(bot.bot_messages(LAYLA))
    await bot.send(LAYLA, "تعديل بلا أمر", edited_of=original, expect=0)
    await bot.barrier(LAYLA)
    assert len(bot.bot_messages(LAYLA)) == before + 1


async def test_edited_publish_is_not_published_again(bot: BotHarness) -> None:
    [confirm] = await bot.send(ADMIN_ID, "/publish\n" + _article("خبر أول", "نص أول."))
    assert "تم نشر الخبر" in confirm.visible_text
    original = bot.last_user_message_id(ADMIN_ID)
    edited = "/publish\n" + _article("خبر أول بعد التعديل", "نص معدل.")
    await bot.send(ADMIN_ID, edited, edited_of=original, expect=0)
    await bot.barrier(ADMIN_ID)
    assert await bot.store.articles.count() == 1


# Editors ---------------------------------------------------------------------------------------


async def test_admin_publishes_by_reply_and_subscribers_get_the_alert(
    bot: BotHarness, seed_text: str
) -> None:
    await bot.send(LAYLA, "/start")
    await bot.send(ADMIN_ID, seed_text, expect=1)  # plain text gets a hint; the editor replies
    source = bot.last_user_message_id(ADMIN_ID)
    [confirm] = await bot.send_reply(ADMIN_ID, "/publish", to_message_id=source)
    assert "تم نشر الخبر" in confirm.visible_text and "أُرسل التنبيه العاجل" in confirm.visible_text
    [alert] = await bot.expect(LAYLA, 1, after=1)
    assert "بايدن يحذر نتنياهو" in alert.visible_text and "عاجل" in alert.visible_text

    # A non-admin replying /publish to the same text is refused, and nothing is stored.
    await bot.send(OMAR, _article("خبر من قارئ", "نص من قارئ."), expect=1)
    [refused] = await bot.send_reply(OMAR, "/publish", to_message_id=bot.last_user_message_id(OMAR))
    assert "مخصص لمحرري الأخبار" in refused.visible_text
    assert await bot.store.articles.count() == 1


async def test_admin_publish_by_text_alerts_and_confirms(bot: BotHarness, seed_text: str) -> None:
    await bot.send(LAYLA, "/start")
    [confirm] = await bot.send(ADMIN_ID, "/publish\n" + seed_text)
    assert "تم نشر الخبر" in confirm.visible_text
    assert "أُرسل التنبيه العاجل" in confirm.visible_text
    [article] = await bot.store.articles.latest(1)
    assert article.id is not None and article.id in confirm.visible_text
    [alert] = await bot.expect(LAYLA, 1, after=1)
    assert "بايدن يحذر نتنياهو" in alert.visible_text

    [repeat] = await bot.send(ADMIN_ID, "/publish\n" + seed_text)
    assert "منشور من قبل" in repeat.visible_text
    assert "لن يُرسل مرة أخرى" in repeat.visible_text
    status = await bot.alert_done(article.id)
    assert status.sent == 1  # a repeat never alerts twice

    [routine] = await bot.send(
        ADMIN_ID, f"/publish@{BOT_USERNAME}\n" + _article("خبر عادي", "نص عادي.")
    )
    assert "تم نشر الخبر" in routine.visible_text and "كل الأخبار" in routine.visible_text


async def test_publish_bad_input_and_non_admins(bot: BotHarness) -> None:
    [usage] = await bot.send(ADMIN_ID, "/publish")
    assert "لنشر خبر" in usage.visible_text
    [headline_only] = await bot.send(ADMIN_ID, "/publish عنوان بلا نص")
    assert "لم يُنشر الخبر" in headline_only.visible_text
    assert "العنوان وحده مسموح للأخبار العاجلة" in headline_only.visible_text
    [binary] = await bot.send(ADMIN_ID, "/publish \x00\x01\x02\x03 \ufffd\ufffd")
    assert "لم يُنشر الخبر" in binary.visible_text
    assert await bot.store.articles.count() == 0

    [refused] = await bot.send(LAYLA, "/publish\n" + _article("خبر مزيف", "نص مزيف."))
    assert "مخصص لمحرري الأخبار" in refused.visible_text
    [no_stats] = await bot.send(LAYLA, "/stats")
    assert no_stats.visible_text == refused.visible_text
    assert await bot.store.articles.count() == 0


async def test_publish_of_a_headline_that_opens_with_a_brace(bot: BotHarness) -> None:
    text = "{الشرق الأوسط} تنشر مذكرات فاتن حمامة (3): الحب الأول\nكانت وما زالت فاتن حمامة."
    [confirm] = await bot.send(ADMIN_ID, "/publish\n" + text)
    assert "JSON" not in confirm.visible_text
    [stored] = await bot.store.articles.latest(1)
    assert stored.title.startswith("{الشرق الأوسط} تنشر مذكرات فاتن حمامة")


async def test_publish_refusals_of_json_fields_stay_arabic(bot: BotHarness) -> None:
    body = '"body": "نص الخبر."'
    # A refused value: pydantic's English detail is replaced by the field the parser named.
    [bad_url] = await bot.send(ADMIN_ID, f'/publish {{"title": "عنوان", {body}, "url": "ftp://x"}}')
    assert "قيمة الحقل «url» غير مقبولة" in bad_url.visible_text
    assert "http" not in bad_url.visible_text and "must" not in bad_url.visible_text
    [bad_id] = await bot.send(ADMIN_ID, f'/publish {{"title": "عنوان", {body}, "id": "a b"}}')
    assert "قيمة الحقل «id» غير مقبولة" in bad_id.visible_text
    # Refusals the parser words in Arabic throughout are shown as it wrote them.
    [missing] = await bot.send(ADMIN_ID, f"/publish {{{body}}}")
    assert "الحقل «title» مطلوب" in missing.visible_text
    [unknown] = await bot.send(ADMIN_ID, f'/publish {{"title": "عنوان", {body}, "author": "x"}}')
    assert "الحقل «author» غير معروف" in unknown.visible_text
    [both] = await bot.send(ADMIN_ID, f'/publish {{"title": "عنوان", {body}, "sections": [1]}}')
    assert "«body» لا يجتمع مع «sections»" in both.visible_text
    assert await bot.store.articles.count() == 0


async def test_stats_for_admins(bot: BotHarness, seed_text: str) -> None:
    await bot.send(LAYLA, "/start")
    await bot.send(OMAR, "/start")
    await bot.send(OMAR, "/stop")
    result = await bot.ingest(seed_text)
    await bot.alert_done(str(result.alert_id))
    [stats] = await bot.send(ADMIN_ID, "/stats")
    text = stats.visible_text
    assert "الإحصاءات" in text
    assert "النشطون: ١" in text
    assert "ألغوا الاشتراك: ١" in text
    assert "المخزنة: ١" in text
    assert "بايدن يحذر نتنياهو" in text and "اكتمل: وصل ١" in text


# Failures ---------------------------------------------------------------------------------------


async def test_blocked_subscriber_is_marked_inactive_and_others_still_get_alerts(
    bot: BotHarness, seed_text: str
) -> None:
    for user in (LAYLA, OMAR, HUDA):
        await bot.send(user, "/start")
    # The alert goes out before the bot has heard of the block (its my_chat_member update is
    # still on the way): the send to Omar answers 403 and that marks him inactive.
    bot.state.block(OMAR, notify=False)
    result = await bot.ingest(seed_text)
    status = await bot.alert_done(str(result.alert_id))
    assert status.sent == 2 and status.blocked == 1
    assert len(bot.bot_messages(LAYLA)) == 2 and len(bot.bot_messages(HUDA)) == 2
    omar = await bot.store.subscribers.get(OMAR)
    assert omar is not None and not omar.active and omar.inactive_reason == "blocked"


async def test_a_failing_send_gets_an_arabic_apology_and_the_bot_goes_on(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.state.inject_errors(1, 400)
    [sorry] = await bot.send(LAYLA, "/help")
    assert "حدث خطأ غير متوقع" in sorry.visible_text
    ours = [r for r in caplog.records if r.name.startswith(("bot.", "handlers."))]
    assert ours and all(BOT_TOKEN not in r.getMessage() for r in ours)
    assert f"chat={LAYLA}" in caplog.text and "command=/help" in caplog.text
    [helped] = await bot.send(LAYLA, "/help")
    assert "الأوامر" in helped.visible_text
