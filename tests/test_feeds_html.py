"""Feed HTML → clean paragraphs, and feed entries → articles (keys, dates, bodies, sources)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ingest.feed_entries import (
    entry_digest,
    entry_key,
    entry_paragraphs,
    entry_published,
    entry_title,
    entry_to_article,
    feed_source,
)
from bot.ingest.html_text import html_to_inline, html_to_paragraphs, text_to_paragraphs
from bot.parser import ParseError, parse_text


@pytest.mark.parametrize(
    ("markup", "paragraphs"),
    [
        ("<p>أ</p><p>ب</p>", ["أ", "ب"]),
        ("سطر أول<br>سطر ثان<br/>ثالث", ["سطر أول", "سطر ثان", "ثالث"]),
        ("<div>قسم<div>داخلي</div>بعده</div>", ["قسم", "داخلي", "بعده"]),
        ("<h2>عنوان فرعي</h2><p>نص</p>", ["عنوان فرعي", "نص"]),
        ("<ul><li>واحد</li><li>اثنان</li><li> </li></ul>", ["• واحد", "• اثنان"]),
        ("<p>قبل<script>var x = '<p>';</script>بعد</p>", ["قبلبعد"]),
        ("<style>p{}</style><p>نص</p><noscript>فعّل</noscript>", ["نص"]),
        ("<p>الأسعار &amp; الأجور &quot;ترتفع&quot; &#171;اليوم&#187;</p>",
         ['الأسعار & الأجور "ترتفع" «اليوم»']),
        ("<p>مسافة&nbsp;غير\u00a0منكسرة   ومسافات\n\tكثيرة</p>",
         ["مسافة غير منكسرة ومسافات كثيرة"]),
        ('<p>رابط <a href="https://x.example">مهم</a> و<b>غامق</b></p>', ["رابط مهم وغامق"]),
        ("<p><img src='x.png' alt='صورة'>نص</p>", ["نص"]),
        ("فقرة أولى\n\nفقرة ثانية\nفقرة ثالثة", ["فقرة أولى", "فقرة ثانية", "فقرة ثالثة"]),
        ("نص <b>مع وسم</b>\nسطر آخر", ["نص مع وسم", "سطر آخر"]),
        ("", []),
        ("   \n ", []),
        ("<p></p><br><br>", []),
        ("x < y و y > z", ["x < y و y > z"]),
    ],
)  # fmt: skip
def test_html_to_paragraphs(markup: str, paragraphs: list[str]) -> None:
    assert html_to_paragraphs(markup) == paragraphs


def test_unclosed_script_drops_the_rest_not_the_start() -> None:
    assert html_to_paragraphs("<p>نص</p><script>evil(") == ["نص"]


_WORD = st.text(
    alphabet=st.sampled_from("ابتثجحخدذرزسشصضطظعغفقكلمنهوي٠١٢abc123.,؟!«»"),
    min_size=1,
    max_size=12,
)
_PARAGRAPH = st.lists(_WORD, min_size=1, max_size=8).map(" ".join)


@given(st.lists(_PARAGRAPH, min_size=1, max_size=6), st.sampled_from(["p", "div", "li", "h3"]))
def test_block_wrapped_paragraphs_come_back_unchanged(paragraphs: list[str], tag: str) -> None:
    markup = "".join(f"<{tag}>{p}</{tag}>" for p in paragraphs)
    expected = [f"• {p}" if tag == "li" else p for p in paragraphs]
    assert html_to_paragraphs(markup) == expected


@given(st.text(max_size=300))
def test_output_is_always_trimmed_non_empty_single_lines(markup: str) -> None:
    for paragraph in html_to_paragraphs(markup):
        assert paragraph and paragraph == paragraph.strip()
        assert "\n" not in paragraph and "  " not in paragraph


def test_text_paragraphs_and_inline_titles() -> None:
    assert text_to_paragraphs("أ\n\n\nب  ج\n") == ["أ", "ب ج"]
    assert html_to_inline("عنوان <b>غامق</b>\nعلى سطرين &amp; رمز") == "عنوان غامق على سطرين & رمز"
    # A title split into blocks still reads as one line, its parts one space apart.
    assert html_to_inline("<p>عنوان</p><div>فرعي</div>") == "عنوان فرعي"


# Entries ------------------------------------------------------------------------------------
def entry(**fields: Any) -> dict[str, Any]:
    return fields


def test_entry_key_prefers_guid_then_link_then_title_hash() -> None:
    assert entry_key(entry(id="g1", link="https://x/1", title="t")) == "g1"
    assert entry_key(entry(id=" ", link="https://x/1", title="t")) == "https://x/1"
    by_title = entry_key(entry(title="عنوان  الخبر"))
    assert by_title is not None and by_title.startswith("title:")
    assert by_title == entry_key(entry(title=" عنوان الخبر "))  # whitespace-insensitive
    assert by_title != entry_key(entry(title="عنوان آخر"))
    assert entry_key(entry()) is None


def test_entry_dates_are_utc_and_future_dates_are_clamped() -> None:
    struct = time.struct_time((2024, 5, 2, 8, 30, 0, 3, 123, 0))
    published = entry_published(entry(published_parsed=struct))
    assert published is not None and published.isoformat() == "2024-05-02T08:30:00+00:00"
    assert entry_published(entry(updated_parsed=struct)) == published
    assert entry_published(entry()) is None
    future = time.gmtime(time.time() + 10 * 86400)
    now = time.time()
    clamped = entry_published(entry(published_parsed=future), now=now)
    assert clamped is not None and abs(clamped.timestamp() - now) < 1


def test_richest_body_wins_and_wordpress_footer_is_dropped() -> None:
    item = entry(
        summary="ملخص قصير […] The post عنوان appeared first on موقع المثال.",
        summary_detail={"type": "text/html"},
        content=[{"type": "text/html", "value": "<p>النص الكامل للخبر.</p><p>فقرة ثانية.</p>"}],
    )
    assert entry_paragraphs(item) == ["النص الكامل للخبر.", "فقرة ثانية."]
    only_summary = entry(summary="ملخص قصير […] The post عنوان appeared first on موقع المثال.")
    assert entry_paragraphs(only_summary) == ["ملخص قصير […]"]
    plain = entry(summary="سطر <1>\nسطر 2", summary_detail={"type": "text/plain"})
    assert entry_paragraphs(plain) == ["سطر <1>", "سطر 2"]


def test_a_footer_in_a_paragraph_of_its_own_is_dropped_and_every_paragraph_before_kept() -> None:
    footer = "<p>The post عنوان appeared first on موقع المثال.</p>"
    item = entry(summary=f"<p>أولى.</p><p>ثانية.</p><p>ثالثة.</p>{footer}")
    assert entry_paragraphs(item) == ["أولى.", "ثانية.", "ثالثة."]


def test_an_edit_of_the_full_text_or_the_link_alone_is_seen_as_a_change() -> None:
    # The digest is how a poll notices an edited item: a correction made only in the full text
    # (content:encoded) or only in the link must reach the stored article too.
    def item(text: str, link: str) -> dict[str, Any]:
        return entry(
            title="عنوان", summary="ملخص", link=link, content=[{"type": "text/html", "value": text}]
        )

    first = entry_digest(item("<p>قتل 3</p>", "https://news.example/1"))
    assert first == entry_digest(item("<p>قتل 3</p>", "https://news.example/1"))
    assert first != entry_digest(item("<p>قتل 30</p>", "https://news.example/1"))
    assert first != entry_digest(item("<p>قتل 3</p>", "https://news.example/2"))


def test_entry_to_article_uses_the_parser_for_labels_and_keeps_metadata() -> None:
    article = entry_to_article(
        entry(
            title="عاجل: سقوط أمطار غزيرة",
            title_detail={"type": "text/plain"},
            link="https://rain.example/1",
            summary="<p>تسببت الأمطار في إغلاق طرق عدة.</p>",
        ),
        source="المصدر",
    )
    assert article.breaking and article.title == "سقوط أمطار غزيرة"
    assert article.url == "https://rain.example/1" and article.source == "المصدر"
    assert article.paragraphs() == ["تسببت الأمطار في إغلاق طرق عدة."]


def test_entry_with_a_non_http_link_keeps_no_url() -> None:
    article = entry_to_article(
        entry(title="خبر", link="javascript:alert(1)", summary="نص الخبر هنا."), source="s"
    )
    assert article.url is None


def test_entries_without_title_or_body_are_refused() -> None:
    with pytest.raises(ParseError) as no_title:
        entry_to_article(entry(summary="نص بلا عنوان."), source="s")
    assert no_title.value.code == "empty"
    with pytest.raises(ParseError) as no_body:
        entry_to_article(entry(title="عنوان فقط"), source="s")
    assert no_body.value.code == "no_body"
    flash = entry_to_article(entry(title="عاجل | عنوان فقط"), source="s")
    assert flash.breaking and not flash.has_body()


def test_html_titles_are_de_tagged_and_plain_ones_kept() -> None:
    assert entry_title(entry(title="أ <b>ب</b>", title_detail={"type": "text/html"})) == "أ ب"
    assert entry_title(entry(title="x <b> y", title_detail={"type": "text/plain"})) == "x <b> y"


def test_feed_source_is_the_feed_title_or_the_host() -> None:
    assert feed_source({"title": " قناة  المثال "}, "https://www.x.example/rss") == "قناة المثال"
    assert feed_source({}, "https://www.x.example/rss") == "x.example"
    assert feed_source({"title": ""}, "https://news.example:8443/rss") == "news.example"


# Entities: decoded once, only complete known ones, exactly as the text parser does ----------
ENTITY_TEXT = "سعر &notanentity; و&notice و&amp; و&not; و&quot;نص&quot; &#171;و&#187; &lol9;"


def test_html_fields_decode_only_complete_known_entities() -> None:
    decoded = 'سعر &notanentity; و&notice و& و¬ و"نص" «و» &lol9;'
    assert html_to_paragraphs(f"<p>{ENTITY_TEXT}</p>") == [decoded]
    assert html_to_inline(ENTITY_TEXT) == decoded


def test_a_feed_item_reads_as_the_same_text_posted_to_the_parser() -> None:
    posted = parse_text(f"عنوان {ENTITY_TEXT}\nالفقرة {ENTITY_TEXT}")
    html_item = entry_to_article(
        entry(
            title=f"عنوان {ENTITY_TEXT}",
            title_detail={"type": "text/html"},
            summary=f"<p>الفقرة {ENTITY_TEXT}</p>",
        ),
        source="s",
    )
    assert (html_item.title, html_item.paragraphs()) == (posted.title, posted.paragraphs())


def test_decoded_feed_text_is_never_decoded_a_second_time() -> None:
    # The HTML "&amp;quot;" and the plain text "&quot;" both read "&quot;": one decoding.
    item = entry_to_article(
        entry(
            title="شركة AT&T &quot;تعلن&quot;",
            title_detail={"type": "text/plain"},
            summary="<p>قال &amp;quot;نعم&amp;quot; &amp;amp; مضى</p>",
        ),
        source="أخبار &amp; تقارير",
    )
    assert item.title == "شركة AT&T &quot;تعلن&quot;"
    assert item.paragraphs() == ["قال &quot;نعم&quot; &amp; مضى"]
    assert item.source == "أخبار &amp; تقارير"
