"""formatters.html: escaping, Telegram's visible text and length, entity counting, validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formatters.html import (
    HtmlError,
    count_entities,
    escape,
    parse_html,
    utf16_len,
    validate_html,
    visible_len,
    visible_text,
)
from tests.html_oracle import check_html, utf16_units


def test_escape_makes_article_text_inert() -> None:
    text = 'قال: "x < y && y > z" <b>ليس وسماً</b>'
    html = escape(text)
    assert "<" not in html and ">" not in html and '"' not in html
    assert visible_text(html) == text
    assert count_entities(html) == 0


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_escaped_text_reads_back_unchanged_and_counts_like_utf16(text: str) -> None:
    html = escape(text)
    assert visible_text(html) == text
    if text:
        assert check_html(html).text == text
    assert utf16_len(text) == utf16_units(text)


def test_utf16_length_counts_emoji_outside_the_bmp_twice() -> None:
    assert utf16_len("عاجل") == 4
    assert utf16_len("😀") == 2
    assert utf16_len("🇧🇭") == 4
    assert utf16_len("\u200f") == 1
    assert visible_len("<b>😀</b> &amp;") == 4


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("&lt;&gt;&amp;&quot;", '<>&"'),
        ("&#1593;&#x639;", "عع"),
        ("&amp", "&"),  # Telegram accepts a named reference without ';'
        ("&nbsp;", "&nbsp;"),  # unsupported named entity stays literal
        ("&copy; &#0; &#;", "&copy; &#0; &#;"),
        ('<a href="https://e.x/?a=1&amp;b=2">رابط</a>', "رابط"),
        ("<b>1<i>2</i></b>3", "123"),
    ],
)
def test_visible_text_decodes_only_what_telegram_decodes(html: str, text: str) -> None:
    assert visible_text(html) == text


def test_entities_are_counted_per_non_empty_tag_and_pre_code_counts_once() -> None:
    assert count_entities("<b>عنوان</b>\n<b>فرعي</b> <a href='https://x.y'>المصدر</a>") == 3
    assert count_entities("<b></b>نص") == 0  # Telegram drops empty entities
    assert count_entities('<pre><code class="language-python">x = 1</code></pre>') == 1
    parsed = parse_html('<b>a</b> <a href="https://x.y/?q=&quot;1&quot;">b</a>')
    assert [(e.tag, e.offset, e.length, e.href) for e in parsed.entities] == [
        ("b", 0, 1, None),
        ("a", 2, 1, 'https://x.y/?q="1"'),
    ]


def test_entity_offsets_are_in_utf16_units() -> None:
    parsed = parse_html("😀 <b>ب</b>")
    assert parsed.entities[0].offset == 3


@pytest.mark.parametrize(
    "bad",
    [
        "<b>غير مغلق",
        "<b>x</i>",
        "</b>",
        "<script>x</script>",
        "<p>فقرة</p>",
        "a <b",
        '<span class="x">y</span>',
        "<b>x</b",
    ],
)
def test_html_that_telegram_rejects_is_rejected(bad: str) -> None:
    with pytest.raises(HtmlError):
        validate_html(bad, strict=False)


@pytest.mark.parametrize("sloppy", ["a > b", "fish & chips", "<b></b>x"])
def test_strict_mode_also_rejects_sloppy_escaping(sloppy: str) -> None:
    validate_html(sloppy, strict=False)  # Telegram would take it ...
    with pytest.raises(HtmlError):
        validate_html(sloppy)  # ... but the formatters never produce it


def test_supported_tags_and_attributes_pass() -> None:
    validate_html(
        "<b>b</b><strong>s</strong><i>i</i><u>u</u><s>s</s><code>c</code><pre>p</pre>"
        '<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>'
        '<blockquote expandable>q</blockquote><a href="https://e.x">l</a>'
    )
