"""Breaking alerts and routine notifications: one short message with buttons."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Article, Section
from formatters import format_alert, format_notification
from formatters.alert import format_update
from formatters.callback_data import MAX_CALLBACK_BYTES, ReadArticle, parse_callback
from formatters.html import visible_text
from tests.html_oracle import check_html, utf16_units

FIRST = "أمر وزير الدفاع الأميركي بإرسال طرادات ومدمرات إلى المنطقة."
SECOND = "يأتي ذلك في أعقاب وصول حاملة الطائرات إلى منطقة عمليات الأسطول الخامس."
URL = "https://news.example/a?id=7&x=1"


def _article(
    lead: str | None = None,
    *,
    id: str | None = "abc123",
    title: str = "بايدن يحذر نتنياهو",
    url: str | None = None,
) -> Article:
    sections = [Section(paragraphs=[lead, "فقرة ثانية."])] if lead else []
    return Article(id=id, title=title, breaking=True, sections=sections, url=url)


def test_alert_layout_marker_bold_headline_blank_line_and_whole_short_lead() -> None:
    message = format_alert(_article(FIRST, url=URL))
    assert message.text == f"🔴 عاجل | <b>بايدن يحذر نتنياهو</b>\n\n{FIRST}"
    assert message.disable_link_preview is True
    check_html(message.text)


def test_long_lead_is_trimmed_at_the_last_sentence_end_that_fits() -> None:
    lead = " ".join([FIRST, SECOND] * 6)
    message = format_alert(_article(lead), lead_chars=300)
    shown = visible_text(message.text).split("\n\n", 1)[1]
    assert len(shown) <= 300
    assert shown.endswith(".")
    assert lead.startswith(shown)
    assert len(shown) > 200  # the last sentence that fits, not the first one


def test_lead_without_a_sentence_end_in_range_is_cut_at_a_word_with_ellipsis() -> None:
    lead = "كلمات متتالية بلا أي علامة وقف " * 30
    shown = visible_text(format_alert(_article(lead), lead_chars=100).text).split("\n\n")[1]
    assert shown.endswith("…")
    assert len(shown) <= 100
    body = shown.removesuffix("…")
    assert lead.startswith(body) and lead[len(body)] == " ", "cut inside a word"


def test_headline_only_flash_has_no_lead_line() -> None:
    message = format_alert(_article())
    assert message.text == "🔴 عاجل | <b>بايدن يحذر نتنياهو</b>"


def test_buttons_read_more_callback_and_source_url_only_with_url() -> None:
    with_url = format_alert(_article(FIRST, url=URL))
    [[read], [source]] = with_url.keyboard
    assert read.text == "اقرأ الخبر كاملاً"
    assert parse_callback(read.callback_data) == ReadArticle("abc123")
    assert (source.text, source.url, source.callback_data) == ("المصدر", URL, None)
    without_url = format_alert(_article(FIRST))
    assert [[b.text for b in row] for row in without_url.keyboard] == [["اقرأ الخبر كاملاً"]]


def test_callback_data_fits_telegram_for_the_longest_article_id() -> None:
    message = format_alert(_article(FIRST, id="A" * 16))
    data = message.keyboard[0][0].callback_data
    assert data is not None and len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES


def test_alert_needs_an_article_id() -> None:
    with pytest.raises(ValueError, match="id"):
        format_alert(_article(FIRST, id=None))


def test_payload_json_shape() -> None:
    payload = format_alert(_article(FIRST, url=URL)).to_payload(chat_id=42)
    assert json.loads(json.dumps(payload, ensure_ascii=False)) == {
        "chat_id": 42,
        "text": f"🔴 عاجل | <b>بايدن يحذر نتنياهو</b>\n\n{FIRST}",
        "parse_mode": "HTML",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "اقرأ الخبر كاملاً", "callback_data": "a:abc123"}],
                [{"text": "المصدر", "url": URL}],
            ]
        },
        "link_preview_options": {"is_disabled": True},
    }


def test_alert_escapes_headline_and_lead() -> None:
    message = format_alert(_article('قال "x<y" & انتهى.', title="<script>عاجل</script>"))
    checked = check_html(message.text)
    assert checked.text == '🔴 عاجل | <script>عاجل</script>\n\nقال "x<y" & انتهى.'
    assert checked.entities == 1


def test_notification_uses_the_news_marker_and_is_rtl_safe() -> None:
    message = format_notification(_article("CNN -- " + FIRST, title="Apple تطلق هاتفاً"))
    assert message.text.startswith("\u200f📰 <b>Apple تطلق هاتفاً</b>\n\n\u200fCNN -- ")
    assert message.keyboard[0][0].callback_data == "a:abc123"
    assert "عاجل" not in message.text


def test_alert_stays_short_even_for_absurd_input() -> None:
    article = _article("كلمة " * 5000, title="عنوان " * 2000)
    message = format_alert(article, lead_chars=100_000)
    assert len(visible_text(message.text)) < 4096


_ASTRAL = st.sampled_from(["🔴", "😀", "🇵🇸", "👨‍👩‍👧", "👍🏽", "𝐀", "𓂀", "🕌"])
_EMOJI_HEAVY = st.lists(
    st.one_of(_ASTRAL, st.sampled_from(["خبر", "عاجل", " ", ".", "a", "٣"])), min_size=1
).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_EMOJI_HEAVY.filter(str.strip),
    lead=_EMOJI_HEAVY.filter(str.strip),
    repeat=st.integers(min_value=1, max_value=3000),
    lead_chars=st.integers(min_value=1, max_value=100_000),
)
def test_emoji_heavy_alert_never_exceeds_telegrams_limit_in_utf16_units(
    title: str, lead: str, repeat: int, lead_chars: int
) -> None:
    article = _article(lead * repeat, title=title * repeat)
    for push in (format_alert, format_notification):
        message = push(article, lead_chars=lead_chars)
        checked = check_html(message.text)
        assert utf16_units(checked.text) <= 4096


def test_emoji_lead_at_the_largest_size_fits_and_keeps_emoji_whole() -> None:
    # Before the caps counted UTF-16 units this alert was 5921 units long.
    article = _article("🔴🔥 " * 2000, title="📢 " * 800)
    message = format_alert(article, lead_chars=2500)
    shown = visible_text(message.text)
    assert utf16_units(shown) <= 4096
    assert "\ufffd" not in shown and all(not 0xD800 <= ord(c) <= 0xDFFF for c in shown)
    assert shown.split("\n\n")[1].removeprefix("\u200f").endswith("🔥…")


# --- issue 12: a lead ends where a sentence ends -------------------------------------------------

_LONGISH = (
    "أعلنت وزارة الصحة في بيان صدر مساء الأحد عن افتتاح ثلاثة مستشفيات جديدة في المحافظات"
    " الشمالية تضم أكثر من ألف سرير وتخدم نحو مليوني نسمة من سكان القرى البعيدة عن المدن"
    " الكبرى، في إطار خطة وطنية تهدف إلى توزيع الخدمات الصحية على جميع مناطق البلاد بالعدل."
)


def _lead_of(lead: str, *, lead_chars: int = 200) -> str:
    shown = visible_text(format_alert(_article(lead), lead_chars=lead_chars).text)
    return shown.split("\n\n")[1].removeprefix("\u200f")


def test_a_first_sentence_a_little_over_the_target_is_kept_whole() -> None:
    assert 200 < len(_LONGISH) <= 200 * 4 / 3
    assert _lead_of(_LONGISH + " " + SECOND) == _LONGISH


def test_a_far_longer_first_sentence_is_cut_at_its_last_clause_with_an_ellipsis() -> None:
    shown = _lead_of(_LONGISH, lead_chars=180)
    assert shown == _LONGISH.split("،")[0] + "…"


def test_a_word_cut_never_ends_on_a_title_or_a_preposition() -> None:
    lead = (
        "استقبل صاحب السمو الملكي الأمير خالد بن فيصل أمير المنطقة اليوم في مكتبه بالإمارة"
        " وفدا من رجال الأعمال القادمين من شمالي البلاد وجنوبيها لبحث سبل التعاون المشترك بينهم"
    )
    for limit in range(20, len(lead)):
        shown = _lead_of(lead, lead_chars=limit)
        assert shown.endswith("…") and len(shown) <= limit
        last = shown.removesuffix("…").split()[-1]
        assert last not in {"الأمير", "الملكي", "السمو", "صاحب", "في", "من", "شمالي", "بن"}, shown


def test_a_lead_drops_its_bullet_and_never_fuses_two_bullets() -> None:
    lead = "- ارتفاع أسعار الوقود بنسبة عشرة في المئة. - تجميد الرواتب حتى نهاية العام."
    assert _lead_of(lead) == "ارتفاع أسعار الوقود بنسبة عشرة في المئة."


# --- issue 12: no «اقرأ الخبر كاملاً» until there is more to read --------------------------------


def test_a_body_less_flash_has_no_read_button_until_there_is_more_to_read() -> None:
    flash = Article(
        id="f1",
        title="مصادر: الحكومة تقر خطة جديدة للطاقة",
        breaking=True,
        sections=[Section(paragraphs=["التفاصيل بعد قليل.."])],
        url=URL,
    )
    assert [[b.text for b in row] for row in format_alert(flash).keyboard] == [["المصدر"]]
    assert format_alert(flash.model_copy(update={"url": None})).keyboard == ()
    # The story's update is sent with the button: now the full text has more than the alert.
    update = format_update(flash, "أقرت الحكومة الخطة بالإجماع في جلستها المسائية.")
    assert update.keyboard[0][0].text == "اقرأ الخبر كاملاً"
    # A correction that adds the text brings the button back to the alert itself.
    fuller = flash.model_copy(
        update={"sections": [Section(paragraphs=["التفاصيل بعد قليل..", SECOND])]}
    )
    assert format_alert(fuller, corrected=True).keyboard[0][0].text == "اقرأ الخبر كاملاً"


def test_a_lead_cut_short_or_a_second_paragraph_keeps_the_read_button() -> None:
    cut = _article(" ".join([FIRST] * 20))
    assert format_alert(cut).keyboard[0][0].text == "اقرأ الخبر كاملاً"
    assert format_notification(_article(FIRST)).keyboard[0][0].text == "اقرأ الخبر كاملاً"
