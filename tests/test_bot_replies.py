"""The bot's own Arabic texts and the small parsing helpers of its handlers (no Telegram)."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update

from bot.models import ChatKind, Preference, SubscribeResult
from bot.parser import ParseError
from bot.redaction import redact
from formatters import validate_html, visible_text
from formatters.callback_data import (
    CancelChange,
    ConfirmChange,
    SetPreference,
    cancel_change,
    confirm_change,
    deep_link_url,
    parse_callback,
    parse_deep_link,
)
from formatters.message import OutgoingMessage
from formatters.replies import (
    LRM,
    MAX_LATEST,
    AlertSummary,
    StatsSnapshot,
    admin_commands,
    admin_only,
    admins_only,
    article_not_found,
    article_usage,
    greeting,
    help_message,
    latest_clamped,
    latest_usage,
    no_articles_yet,
    notice_admins_only,
    notice_article_gone,
    notice_invalid_button,
    notice_sending_more,
    notice_slow_down,
    plain_text_hint,
    preference_saved,
    public_commands,
    publish_done,
    publish_failed,
    publish_usage,
    search_heading,
    search_no_results,
    search_usage,
    search_words_dropped,
    settings_menu,
    slow_down,
    something_went_wrong,
    stats_message,
    subscribed,
    unknown_command,
    unsubscribed,
)
from formatters.replies.stories import (
    change_cancelled,
    correction_done,
    no_article_in_reply,
    notice_change_cancelled,
    notice_change_done,
    notice_change_missing,
    notice_change_not_yours,
    notice_editors_only,
    retraction_done,
    story_parse_failed,
    story_preview,
    story_refused,
    story_usage,
    update_done,
)
from formatters.rtl import Direction, first_strong
from handlers.admin import publish_source, rejected_field, text_after_command
from handlers.errors import describe_update
from handlers.reading import parse_count
from handlers.replies import send_kwargs
from tests.constants import BOT_TOKEN


def every_reply() -> list[OutgoingMessage]:
    """One of each reader-facing message the bot sends besides the news itself."""
    messages = [
        greeting(result, kind=kind, name="ليلى") for result in SubscribeResult for kind in ChatKind
    ]
    messages += [subscribed(r, kind=k) for r in SubscribeResult for k in ChatKind]
    messages += [unsubscribed(c, kind=k) for c in (True, False) for k in ChatKind]
    messages += [help_message(is_admin=a) for a in (True, False)]
    messages += [
        settings_menu(p, subscribed=s, kind=k)
        for p in Preference
        for s in (True, False)
        for k in ChatKind
    ]
    messages += [admins_only(k) for k in ChatKind if k.is_group_like]
    messages += [
        latest_usage(),
        latest_clamped(99),
        no_articles_yet(),
        article_usage(),
        article_not_found("abc"),
        search_usage(),
        search_no_results("غزة"),
        admin_only(),
        publish_usage(),
        publish_done("abc123", "عنوان", created=True, alert_queued=True, breaking=True),
        publish_done("abc123", "عنوان", created=False, alert_queued=False, breaking=False),
        publish_failed("نص المقال فارغ"),
        publish_failed("مقال غير صالح: …", invalid_field="url"),
        search_words_dropped(12),
        something_went_wrong(),
        unknown_command(),
        plain_text_hint(),
        slow_down(),
        stats_message(StatsSnapshot(3, 1, 7, {"blocked": 2}, {"messages_sent": 9})),
    ]
    token = "A" * 22
    for kind in ("correct", "update", "retract"):
        messages += [story_usage(kind), no_article_in_reply(kind)]
        messages += [
            story_refused(kind, code, "abc123", limit=500)
            for code in ("not_found", "retracted", "empty", "too_long", "unchanged", "busy", "?")
        ]
        messages += [
            story_preview(
                kind,
                "abc123",
                token,
                title="عنوان <قديم>",
                reached=r,
                sending=s,
                new_title="عنوان جديد",
                changed=["title", "lead"],
                text="نص & سبب",
            )
            for r in (None, 0, 300)
            for s in (True, False)
        ]
    messages += [
        story_parse_failed("نص المقال فارغ"),
        story_parse_failed("…", invalid_field="url"),
        correction_done("abc123", 2, changed=True, edits=300),
        correction_done("abc123", 2, changed=False, edits=0),
        update_done("abc123", 1, created=True, replies=300),
        update_done("abc123", 1, created=False, replies=0),
        retraction_done("abc123", created=True, edits=300),
        retraction_done("abc123", created=False, edits=0),
        change_cancelled(),
    ]
    return messages


@pytest.mark.parametrize("message", every_reply(), ids=lambda m: visible_text(m.text)[:24])
def test_every_reply_is_valid_telegram_html_and_renders_right_to_left(
    message: OutgoingMessage,
) -> None:
    validate_html(message.text)
    for line in visible_text(message.text).splitlines():
        if line.strip():
            assert first_strong(line) is Direction.RTL, f"line would render LTR: {line!r}"
    # Each /command keeps its slash on the left of the word inside the Arabic sentence.
    for match in re.finditer(r"/[a-z]+", visible_text(message.text)):
        assert visible_text(message.text)[match.start() - 1] == LRM, match.group()


def test_greeting_tells_new_and_returning_readers_apart() -> None:
    texts = {visible_text(greeting(r).text) for r in SubscribeResult}
    assert len(texts) == 3
    assert "أهلاً بك" in visible_text(greeting(SubscribeResult.NEW, name=None).text)
    group = visible_text(greeting(SubscribeResult.NEW, kind=ChatKind.GROUP).text)
    assert "تم اشتراك هذه المجموعة" in group
    channel = visible_text(greeting(SubscribeResult.ALREADY, kind=ChatKind.CHANNEL).text)
    assert "هذه القناة مشتركة بالفعل" in channel


def test_subscription_answers_differ_when_nothing_changes() -> None:
    assert subscribed(SubscribeResult.NEW).text == subscribed(SubscribeResult.REACTIVATED).text
    assert subscribed(SubscribeResult.ALREADY).text != subscribed(SubscribeResult.NEW).text
    assert unsubscribed(True).text != unsubscribed(False).text


def test_settings_menu_marks_exactly_the_current_choice() -> None:
    for current in Preference:
        menu = settings_menu(current)
        buttons = [b for row in menu.keyboard for b in row]
        marked = [b for b in buttons if b.text.startswith("✅")]
        assert len(marked) == 1
        action = parse_callback(marked[0].callback_data)
        assert action == SetPreference(current)
        assert {parse_callback(b.callback_data) for b in buttons} == {
            SetPreference(p) for p in Preference
        }
    assert "كل الأخبار" in preference_saved(Preference.ALL)


def test_callback_notices_fit_telegrams_200_characters() -> None:
    for notice in (
        notice_article_gone(),
        notice_invalid_button(),
        notice_sending_more(),
        notice_slow_down(),
        preference_saved(Preference.ALL),
        notice_admins_only(ChatKind.SUPERGROUP),
        notice_admins_only(ChatKind.CHANNEL),
        notice_change_done(),
        notice_change_cancelled(),
        notice_change_missing(),
        notice_change_not_yours(),
        notice_editors_only(),
    ):
        assert 0 < len(notice) <= 200


def test_confirmation_buttons_carry_only_a_token_and_forged_ones_are_refused() -> None:
    token = "Zx_-" * 5 + "ab"  # 22 characters, as bot.store.pending issues them
    assert parse_callback(confirm_change(token)) == ConfirmChange(token)
    assert parse_callback(cancel_change(token)) == CancelChange(token)
    assert len(confirm_change("A" * 43).encode()) <= 64
    for forged in ("c:", "c:short", "c:" + "A" * 44, "c:" + "A" * 21 + "!", "x:" + "ت" * 22):
        assert parse_callback(forged) is None, forged


def test_command_menus_are_arabic_and_valid_for_set_my_commands() -> None:
    for info in admin_commands():
        assert re.fullmatch(r"[a-z0-9_]{1,32}", info.name)
        assert 3 <= len(info.description) <= 256
        assert any(unicodedata.bidirectional(ch) == "AL" for ch in info.description)
    assert {c.name for c in public_commands()} < {c.name for c in admin_commands()}
    editors_only = {"publish", "stats", "correct", "update", "retract"}
    assert editors_only <= {c.name for c in admin_commands()}
    assert not editors_only & {c.name for c in public_commands()}


def test_help_shows_editor_commands_to_admins_only() -> None:
    assert "/publish" in visible_text(help_message(is_admin=True).text)
    assert "/publish" not in visible_text(help_message(is_admin=False).text)


def test_stats_rendering_shows_counts_and_alert_progress() -> None:
    snapshot = StatsSnapshot(
        active_subscribers=12,
        all_news_subscribers=4,
        articles=30,
        inactive={"blocked": 3, "unsubscribed": 2, "weird_reason": 1},
        counters={"articles_ingested": 31, "alerts_published": 5},
        recent_alerts=[AlertSummary("a1", "عنوان <التنبيه>", "done", 10, 1, 0, blocked=2)],
    )
    text = visible_text(stats_message(snapshot).text)
    for expected in ("النشطون: ١٢", "كل الأخبار»: ٤", "المخزنة: ٣٠", "حظروا البوت: ٣"):
        assert expected in text
    assert "weird_reason" in text
    assert "عنوان <التنبيه> — اكتمل: وصل ١٠، حُظر ٢، فشل ١، متبقٍّ ٠" in text


@pytest.mark.parametrize("state", ["queued", "expanding", "sending", "done"])
def test_stats_names_every_delivery_state_in_arabic(state: str) -> None:
    alert = AlertSummary("a1", "عنوان", state, 1, 0, 0)
    text = visible_text(stats_message(StatsSnapshot(1, 0, 1, recent_alerts=[alert])).text)
    line = text.splitlines()[-1]
    assert state not in line and not re.search(r"[A-Za-z]", line), line


def test_stats_names_every_inactive_reason_the_engine_records_in_arabic() -> None:
    reasons = ["unsubscribed", "blocked", "deactivated", "kicked", "left", "chat_not_found"]
    reasons += ["forbidden", "migrated"]
    snapshot = StatsSnapshot(1, 0, 1, inactive=dict.fromkeys(reasons, 1))
    text = visible_text(stats_message(snapshot).text)
    assert not re.search(r"[A-Za-z]", text), text


def test_latest_usage_uses_the_same_arabic_digits_as_the_lists() -> None:
    text = visible_text(latest_usage().text) + visible_text(help_message().text)
    assert not re.search(r"[0-9]", text)
    assert "٢٠" in text


def test_latest_clamped_repeats_the_asked_count_and_the_ceiling() -> None:
    text = visible_text(latest_clamped(500).text)
    assert "٥٠٠" in text and "٢٠" in text
    huge = visible_text(latest_clamped(10**400).text)
    assert len(huge) < 100  # a thousand-digit count is not echoed whole


def test_publish_refusal_of_a_field_value_is_arabic_with_the_field_name() -> None:
    english = "مقال غير صالح: الحقل «url» غير صالح: url must be an http(s) URL"
    refusal = ParseError(
        "invalid_article", "invalid article: field 'url' ...", english, field="url"
    )
    field = rejected_field(refusal)
    assert field == "url"
    text = visible_text(publish_failed(refusal.arabic, invalid_field=field).text)
    assert "«url»" in text and "must be" not in text
    assert not re.search(r"[A-Za-z]", text.replace("url", ""))
    # A refusal that is Arabic throughout is shown as the parser wrote it.
    missing = ParseError("invalid_article", "invalid article: field 'title' is required",
                         "مقال غير صالح: الحقل «title» مطلوب", field="title")  # fmt: skip
    assert rejected_field(missing) is None
    assert rejected_field(ParseError("empty", "article text is empty", "نص المقال فارغ")) is None


def test_publish_confirmation_names_the_id_and_the_alert() -> None:
    done = visible_text(
        publish_done("Xy_9", "عنوان", created=True, alert_queued=True, breaking=True).text
    )
    assert "Xy_9" in done and "التنبيه العاجل" in done
    silent = visible_text(
        publish_done("Xy_9", "عنوان", created=False, alert_queued=False, breaking=True).text
    )
    assert "منشور من قبل" in silent and "لم يُرسل أي تنبيه" in silent
    repeat = visible_text(
        publish_done("Xy_9", "عنوان", created=False, alert_queued=True, breaking=True).text
    )
    assert "منشور من قبل" in repeat and "لن يُرسل مرة أخرى" in repeat
    assert "أُرسل التنبيه العاجل" not in repeat


@given(st.text(max_size=300))
def test_user_text_echoed_back_never_breaks_the_html(text: str) -> None:
    for message in (
        search_no_results(text),
        article_not_found(text),
        greeting(SubscribeResult.NEW, name=text),
        publish_failed(text),
        publish_done("id1", text or "x", created=True, alert_queued=False, breaking=False),
    ):
        validate_html(message.text)
        assert len(message.text) < 4096


def test_long_search_words_are_echoed_whole_never_cut_inside_a_word_or_emoji() -> None:
    query = "اغتيال إسماعيل هنية في طهران " * 3 + "👨‍👩‍👧"
    heading = search_heading(query, 3)
    shown = heading.split("«")[1].removesuffix("»")
    assert shown.endswith("…")
    words = shown.removesuffix("…").split()
    assert words == query.split()[: len(words)]  # whole words only
    flags = "🇵🇸" * 40  # each flag is two code points
    no_results = visible_text(search_no_results(flags).text)
    echoed = no_results.split("«")[1].split("»")[0]
    assert echoed.endswith("…") and flags.startswith(echoed.removesuffix("…"))
    assert len(echoed.removesuffix("…")) % 2 == 0  # no half flag


# Handler helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], 5),
        (["3"], 3),
        (["٧"], 7),  # Arabic-Indic digits
        (["۱۲"], 12),  # Persian digits
        (["500"], 500),  # clamped later, with a note
        (["0"], None),
        (["-2"], None),
        (["abc"], None),
        (["3", "4"], None),
        (["3.5"], None),
    ],
)
def test_latest_count_parsing(args: list[str], expected: int | None) -> None:
    assert parse_count(args) == expected
    assert MAX_LATEST == 20


def _message(
    text: str, *, reply_text: str | None = None, command_length: int | None = None
) -> Message:
    data: dict[str, object] = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": 7, "type": "private"},
        "from": {"id": 7, "is_bot": False, "first_name": "م"},
        "text": text,
    }
    if command_length is not None:
        data["entities"] = [{"type": "bot_command", "offset": 0, "length": command_length}]
    if reply_text is not None:
        data["reply_to_message"] = {
            "message_id": 4,
            "date": 0,
            "chat": {"id": 7, "type": "private"},
            "text": reply_text,
        }
    return Message.de_json(data, Bot(BOT_TOKEN))


def test_publish_text_comes_after_the_command_or_from_the_replied_message() -> None:
    body = "عاجل| عنوان\n\nفقرة أولى.\nفقرة ثانية."
    inline = _message("/publish\n" + body, command_length=8)
    assert text_after_command(inline) == body
    addressed = _message("/publish@news_bot " + body, command_length=17)
    assert publish_source(addressed) == body
    replied = _message("/publish", reply_text=body, command_length=8)
    assert publish_source(replied) == body
    nothing = _message("/publish", command_length=8)
    assert publish_source(nothing) == ""


def test_send_kwargs_turns_payload_dicts_into_ptb_objects() -> None:
    from bot.models import Article, Section
    from formatters import format_alert

    article = Article(
        id="abc", title="عنوان", breaking=True, sections=[Section(paragraphs=["نص.", "تتمة."])]
    )
    kwargs = send_kwargs(format_alert(article), Bot(BOT_TOKEN))
    assert isinstance(kwargs["reply_markup"], InlineKeyboardMarkup)
    assert kwargs["reply_markup"].inline_keyboard[0][0].callback_data == "a:abc"
    assert isinstance(kwargs["link_preview_options"], LinkPreviewOptions)
    assert kwargs["link_preview_options"].is_disabled
    assert kwargs["parse_mode"] == "HTML" and "api_kwargs" not in kwargs
    extra = OutgoingMessage(text="x", extra={"protect_content": True, "message_effect_id": "1"})
    kwargs = send_kwargs(extra, Bot(BOT_TOKEN))
    assert kwargs["protect_content"] is True
    assert kwargs["api_kwargs"] == {"message_effect_id": "1"}


def test_error_log_context_has_ids_and_command_but_never_the_token() -> None:
    update = Update.de_json(
        {
            "update_id": 77,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": -100, "type": "group", "title": "g"},
                "text": "/search كلمات سرية كثيرة",
                "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
            },
        },
        Bot(BOT_TOKEN),
    )
    described = describe_update(update)
    assert described == "update=77 chat=-100 command=/search"
    assert describe_update(None) == "update=none"
    assert redact(f"POST https://api/bot{BOT_TOKEN}/sendMessage failed", BOT_TOKEN) == (
        "POST https://api/bot<token>/sendMessage failed"
    )


def test_group_read_button_link_opens_the_article_in_a_private_chat() -> None:
    url = deep_link_url("newsbot_sandbox_bot", "Ab_9")
    assert url == "https://t.me/newsbot_sandbox_bot?start=a_Ab_9"
    assert parse_deep_link(url.partition("start=")[2]) == "Ab_9"


def test_formatters_are_pure_they_import_no_store_or_telegram_client() -> None:
    code = (
        "import sys, formatters, formatters.replies, formatters.callback_data\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & {'redis', 'telegram', 'aiohttp', 'httpx'}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('bot.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == ["[]", "['bot.models']"]
