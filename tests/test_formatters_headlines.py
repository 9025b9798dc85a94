"""The /latest and /search list, and the plain-text preview of any messages."""

from __future__ import annotations

import pytest

from bot.models import Article, Section
from formatters import format_alert, format_article, format_headlines, render_plain
from formatters.callback_data import MAX_CALLBACK_BYTES, ReadArticle, parse_callback
from formatters.html import visible_text
from formatters.preview import SEPARATOR
from tests.html_oracle import check_html, utf16_units

RLM = "\u200f"


def _articles(count: int, title: str = "الحكومة تعلن خطة جديدة لدعم الاقتصاد") -> list[Article]:
    return [Article(id=f"id{n}", title=f"{title} {n}") for n in range(1, count + 1)]


def test_list_has_bold_heading_numbered_titles_and_one_button_per_row() -> None:
    message = format_headlines(_articles(3), heading="آخر الأخبار")
    assert message.text == (
        "<b>آخر الأخبار</b>\n\n"
        f"{RLM}١. الحكومة تعلن خطة جديدة لدعم الاقتصاد 1\n"
        f"{RLM}٢. الحكومة تعلن خطة جديدة لدعم الاقتصاد 2\n"
        f"{RLM}٣. الحكومة تعلن خطة جديدة لدعم الاقتصاد 3"
    )
    assert [len(row) for row in message.keyboard] == [1, 1, 1]
    assert [parse_callback(row[0].callback_data) for row in message.keyboard] == [
        ReadArticle("id1"),
        ReadArticle("id2"),
        ReadArticle("id3"),
    ]
    assert message.disable_link_preview is True


def test_button_labels_are_shortened_at_a_word_with_ellipsis() -> None:
    title = "وزير الخارجية يبحث مع نظيره الفرنسي تطورات الأوضاع في المنطقة والعلاقات الثنائية"
    [[button]] = format_headlines([Article(id="x", title=title)], heading="بحث").keyboard
    assert button.text.endswith("…")
    assert len(button.text) <= 41
    assert title.startswith(button.text.removesuffix("…"))
    assert title[len(button.text) - 1] == " "


def test_twenty_very_long_titles_stay_within_telegram_limits() -> None:
    long_title = "عنوان طويل جداً 😀 " * 40  # ~760 characters, emoji count double
    message = format_headlines(_articles(20, long_title), heading="نتائج البحث عن: " + "x" * 500)
    checked = check_html(message.text)
    assert utf16_units(checked.text) <= 4096
    assert len(message.keyboard) == 20
    for [button] in message.keyboard:
        assert button.callback_data is not None
        assert len(button.callback_data.encode("utf-8")) <= MAX_CALLBACK_BYTES
        assert len(button.text) <= 41
    assert "٢٠. " in checked.text


def test_more_than_twenty_articles_are_cut_to_twenty() -> None:
    message = format_headlines(_articles(25), heading="آخر الأخبار")
    assert len(message.keyboard) == 20
    assert "٢١." not in message.text


def test_titles_are_escaped_and_latin_first_titles_are_rtl_safe() -> None:
    articles = [Article(id="a", title="<b>Apple</b> & سامسونغ")]
    message = format_headlines(articles, heading="بحث: <script>")
    checked = check_html(message.text)
    assert checked.text == f"بحث: <script>\n\n{RLM}١. <b>Apple</b> & سامسونغ"


def test_empty_list_says_so() -> None:
    message = format_headlines([], heading="نتائج البحث")
    assert visible_text(message.text) == "نتائج البحث\n\nلا توجد أخبار لعرضها حالياً."
    assert message.keyboard == ()


def test_articles_without_id_cannot_be_listed() -> None:
    with pytest.raises(ValueError, match="id"):
        format_headlines([Article(title="بلا رمز")], heading="آخر الأخبار")


def test_render_plain_shows_visible_text_separators_and_buttons() -> None:
    article = Article(
        id="s1",
        title="عنوان & <تفاصيل>",
        breaking=True,
        sections=[Section(heading="خلفية", paragraphs=["جملة قصيرة. " * 40])],
        url="https://x.example/a?b=1&c=2",
    )
    parts = format_article(article, limit=300)
    shown = render_plain([*parts, format_alert(article)])
    assert "<b>" not in shown and "&amp;" not in shown
    assert "عنوان & <تفاصيل>" in shown
    assert shown.count(SEPARATOR) == len(parts)
    assert "[ اقرأ الخبر كاملاً ]" in shown.splitlines()
    assert "[ المصدر ] → https://x.example/a?b=1&c=2" in shown.splitlines()
    assert shown.split(f"\n{SEPARATOR}\n")[0] == visible_text(parts[0].text)
