"""Telegram HTML validation: what the sandbox accepts, what it rejects and how it words it."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.errors import ApiError
from sandbox.html_check import parse_html, utf16_len
from sandbox.message_rules import check_inline_keyboard, incoming_entities, outgoing_text


def error_of(text: str, *, strict: bool = True) -> str:
    with pytest.raises(ApiError) as info:
        parse_html(text, strict=strict)
    assert info.value.status == 400
    return info.value.description


def test_supported_tags_become_entities_with_utf16_offsets() -> None:
    parsed = parse_html('😀 <b>عاجل</b> <a href="https://example.com/a?x=1&amp;y=2">هنا</a>')
    assert parsed.text == "😀 عاجل هنا"
    bold, link = parsed.entities
    # The emoji is two UTF-16 code units, so "عاجل" starts at 3, not 2.
    assert bold == {"type": "bold", "offset": 3, "length": 4}
    assert link == {
        "type": "text_link",
        "offset": 8,
        "length": 3,
        "url": "https://example.com/a?x=1&y=2",
    }


def test_every_documented_formatting_tag_is_accepted() -> None:
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        "<strike>k</strike><del>d</del><tg-spoiler>p</tg-spoiler>"
        '<span class="tg-spoiler">q</span><code>c</code>'
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote>quote</blockquote><blockquote expandable>more</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    types = [e["type"] for e in parse_html(text).entities]
    assert types.count("bold") == 2 and types.count("strikethrough") == 3
    assert "expandable_blockquote" in types and "custom_emoji" in types
    pre = next(e for e in parse_html(text).entities if e["type"] == "pre")
    assert pre["language"] == "python"


def test_entities_and_numeric_references_are_decoded() -> None:
    assert parse_html("&lt;b&gt; &quot;x&quot; &#1593;&#x0644;").text == '<b> "x" عل'


@pytest.mark.parametrize(
    ("markup", "wording"),
    [
        ("<p>فقرة</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("خبر <br> آخر", 'Unsupported start tag "br" at byte offset 7'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>عاجل", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<a href="https://x.com"', "Unclosed start tag at byte offset 0"),
        ('<span class="other">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("AT&T", 'Character "&" must be escaped as "&amp;" at byte offset 2'),
        ('<a href="javascript:alert(1)">x</a>', "Wrong URL"),
    ],
)
def test_invalid_markup_is_rejected_like_telegram(markup: str, wording: str) -> None:
    description = error_of(markup)
    assert description.startswith("Bad Request: can't parse entities: ")
    assert wording in description


def test_lenient_mode_accepts_what_telegram_silently_accepts() -> None:
    assert parse_html("AT&T &copy;", strict=False).text == "AT&T &copy;"
    dropped = parse_html('<a href="ftp://x">x</a>', strict=False)
    assert dropped.text == "x" and dropped.entities == ()


def test_outer_whitespace_is_trimmed_and_entities_follow() -> None:
    parsed = parse_html("\n  <b>x</b> \n")
    assert parsed.text == "x"
    assert parsed.entities == ({"type": "bold", "offset": 0, "length": 1},)


def test_text_limits_count_visible_utf16_units() -> None:
    # 4096 visible characters are fine even though the markup makes the string longer.
    ok = outgoing_text("<b>" + "ا" * 4096 + "</b>", "HTML", None, strict=True)
    assert utf16_len(ok.text) == 4096
    with pytest.raises(ApiError, match="message is too long"):
        outgoing_text("😀" * 2049, None, None, strict=True)  # 4098 UTF-16 units
    with pytest.raises(ApiError, match="message text is empty"):
        outgoing_text("<b> </b>", "HTML", None, strict=True)
    with pytest.raises(ApiError, match="too many entities"):
        outgoing_text("<b>x</b> " * 101, "HTML", None, strict=True)
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        outgoing_text("x", "XML", None, strict=True)


def test_keyboard_rules() -> None:
    check_inline_keyboard({"inline_keyboard": [[{"text": "ok", "callback_data": "x" * 64}]]})
    cases = [
        ({"text": "x", "callback_data": "ب" * 33}, "BUTTON_DATA_INVALID"),  # 66 bytes
        ({"text": "x", "url": "javascript:1"}, "BUTTON_URL_INVALID"),
        ({"text": "x"}, "text buttons are unallowed"),
    ]
    for button, wording in cases:
        with pytest.raises(ApiError, match=wording):
            check_inline_keyboard({"inline_keyboard": [[button]]})


def test_incoming_commands_get_bot_command_entities() -> None:
    entities = incoming_entities("/start@newsbot_sandbox_bot a_123 https://x.com/y")
    assert entities[0] == {"type": "bot_command", "offset": 0, "length": 26}
    assert entities[1]["type"] == "url"


@given(st.text(max_size=300))
def test_any_escaped_text_round_trips(raw: str) -> None:
    """Whatever a bot escapes with html.escape is accepted and shown exactly (minus trimming)."""
    parsed = parse_html(f"<b>{html.escape(raw)}</b>")
    assert parsed.text == raw.strip(" \t\n\r\x0b\x0c")
    for entity in parsed.entities:
        assert entity["offset"] + entity["length"] <= utf16_len(parsed.text)
