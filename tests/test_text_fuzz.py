"""Property tests (issue 9): the parser and the formatters on arbitrary Unicode text.

Whatever a newsroom or a scraper sends (lone surrogates, bidi controls, combining marks, emoji
sequences, NUL, markup-looking text, very long lines), the parser either refuses it with
:class:`ParseError` or returns an article, and every message made from that article is one
Telegram accepts: strictly valid HTML, at most 4096 UTF-16 units of visible text after HTML
parsing, at most 100 entities, valid UTF-8, callback data within 64 bytes. The full article
loses none of the article's words. Checked with the independent oracle in tests/html_oracle.py.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Article
from bot.parser import ParseError, parse_bytes, parse_json, parse_text
from formatters import (
    article_page,
    format_alert,
    format_article,
    format_headlines,
    format_notification,
)
from formatters.callback_data import MAX_CALLBACK_BYTES
from formatters.message import OutgoingMessage
from tests.html_oracle import RLM, article_words, check_html, strip_known_decorations, utf16_units

TELEGRAM_LIMIT = 4096
TELEGRAM_MAX_ENTITIES = 100
ARTICLE_ID = "a" * 12

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Pieces that have broken text pipelines: bidi controls, combining marks, emoji sequences,
#: invisibles, markup and entities, breaking labels, a brace opening, line breaks of all kinds.
PIECES = [
    "\u202e", "\u202b", "\u202c", "\u2066", "\u2067", "\u2069", "\u200e", "\u200f", "\u061c",
    "\u0651", "\u064b", "\u0301" * 5, "ـ", "e\u0301", "👨\u200d👩\u200d👧", "🇵🇸", "👍🏻", "❤️",
    "\u200b", "\u200c", "\u200d", "\ufeff", "\ufffd", "\x00", "\x07", "\ud800", "\udfff",
    "<b>", "</b>", "<a href='x'>", "&amp;", "&lt;", "&notanentity;", "&#0;", "&#x110000;",
    "&nbsp;", "&", "<", ">", "عاجل | ", "عاجل:", "{الشرق الأوسط} ", '{"', "\n", "\r\n",
    "\u2028", "\u2029", "\x85", "\t", " ", "  ", "الأخبار", "Reuters", "٣٤٥", "؟", "…",
]  # fmt: skip

_char = st.characters(exclude_categories=())  # every code point, lone surrogates included
_piece = st.one_of(_char, _char, st.sampled_from(PIECES))
_line = st.lists(_piece, max_size=40).map("".join)
_long_line = st.tuples(st.sampled_from(["كلمة ", "😀", "x", "\u0651ب", "e\u0301"]),
                       st.integers(500, 3000)).map(lambda t: t[0] * t[1])  # fmt: skip
unicode_text = st.lists(st.one_of(_line, _line, _line, _long_line), min_size=1, max_size=12).map(
    "\n".join
)


def assert_sendable(message: OutgoingMessage) -> str:
    """Fail unless Telegram would take ``message``; returns its visible text."""
    message.text.encode("utf-8")  # a lone surrogate would fail here, or at Telegram
    checked = check_html(message.text)
    assert utf16_units(checked.text) <= TELEGRAM_LIMIT
    assert checked.entities <= TELEGRAM_MAX_ENTITIES
    assert checked.text.strip(), "Telegram refuses an empty message"
    for row in message.keyboard:
        for button in row:
            button.text.encode("utf-8")
            assert button.text.strip()
            if button.callback_data is not None:
                assert len(button.callback_data.encode("utf-8")) <= MAX_CALLBACK_BYTES
    return checked.text


def assert_every_message_sendable(article: Article) -> None:
    """Every message the bot can make of ``article`` is sendable; the full text loses no word."""
    stored = article.model_copy(update={"id": ARTICLE_ID})
    messages = format_article(stored)
    visible = [assert_sendable(message) for message in messages]
    bodies = strip_known_decorations(visible, breaking=stored.breaking, url=bool(stored.url))
    # The formatters add RLMs of their own for direction, so RLMs are not counted as words.
    got = "".join(word for body in bodies for word in body.split()).replace(RLM, "")
    assert got == "".join(article_words(stored)).replace(RLM, ""), "words lost or added"
    for page in article_page(messages, ARTICLE_ID), article_page(messages, ARTICLE_ID, 1):
        for message in page:
            assert_sendable(message)
    assert_sendable(format_alert(stored))
    assert_sendable(format_notification(stored))
    assert_sendable(format_headlines([stored] * 20, heading="آخر الأخبار"))


@PROPERTY
@given(text=unicode_text, breaking=st.sampled_from([None, True, False]))
def test_any_text_is_refused_cleanly_or_becomes_sendable_messages(
    text: str, breaking: bool | None
) -> None:
    try:
        article = parse_text(text, breaking=breaking)
    except ParseError as refusal:
        assert refusal.message and refusal.arabic
        return
    assert_every_message_sendable(article)


@PROPERTY
@given(
    data=st.one_of(
        st.binary(max_size=300),
        unicode_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
        unicode_text.map(lambda text: text.encode("utf-16", "surrogatepass")),
    ),
    content_type=st.sampled_from([None, "text/plain", "application/json"]),
)
def test_any_bytes_are_refused_cleanly_or_become_sendable_messages(
    data: bytes, content_type: str | None
) -> None:
    try:
        article = parse_bytes(data, max_bytes=1_000_000, content_type=content_type)
    except ParseError as refusal:
        assert refusal.message and refusal.arabic
        return
    assert_every_message_sendable(article)


_json_text = st.one_of(unicode_text, st.text(_char, max_size=30))
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_json_text, inner, max_size=4),
    max_leaves=10,
)
_article_field = st.sampled_from(
    ["title", "body", "sections", "breaking", "url", "source", "tags", "published_at", "id"]
)
json_articles = st.fixed_dictionaries(
    {"title": _json_text, "body": _json_text},
).flatmap(
    lambda base: st.dictionaries(_article_field | _json_text, _json_value, max_size=4).map(
        lambda extra: {**base, **extra}
    )
)


@PROPERTY
@given(payload=json_articles, as_text=st.booleans())
def test_any_json_article_is_refused_cleanly_or_becomes_sendable_messages(
    payload: dict[str, object], as_text: bool
) -> None:
    data: str | dict[str, object] = payload
    if as_text:  # the JSON text itself, with \ud800 escapes where a surrogate was drawn
        data = json.dumps(payload)
    try:
        article = parse_json(data)
    except ParseError as refusal:
        assert refusal.message and refusal.arabic
        return
    assert_every_message_sendable(article)
