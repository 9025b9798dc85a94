"""The headline list shown by /latest and /search: numbered titles and one button per article."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.models import Article
from formatters import callback_data
from formatters.html import escape, utf16_len
from formatters.labels import NO_NEWS_TEXT, arabic_number
from formatters.message import InlineButton, OutgoingMessage
from formatters.rtl import RLM, contains_rtl, line_is_rtl, needs_rlm
from formatters.segment import shorten, shorten_units

logger = logging.getLogger(__name__)

#: The most articles one list shows (keeps text and keyboard well inside Telegram's limits).
MAX_HEADLINES = 20
#: Button labels are shortened to about this many characters.
BUTTON_CHARS = 40
MAX_HEADING_CHARS = 200
MAX_TITLE_CHARS = 300
_LIMIT = 4096


def _rtl_safe(plain: str, html: str, *, rtl_context: bool) -> str:
    rtl = line_is_rtl(plain, default_rtl=rtl_context)
    return (RLM if needs_rlm(plain, rtl=rtl) else "") + html


def format_headlines(articles: Sequence[Article], *, heading: str) -> OutgoingMessage:
    """A numbered list of headlines under a bold ``heading``, one "read" button per article."""
    items = list(articles)
    if len(items) > MAX_HEADLINES:
        logger.debug("headline list truncated from %d to %d", len(items), MAX_HEADLINES)
        items = items[:MAX_HEADLINES]
    missing = [a.title for a in items if not a.id]
    if missing:
        raise ValueError(f"articles without id cannot get a button: {missing[0]!r}")
    title_text = shorten(heading, MAX_HEADING_CHARS)
    rtl_context = contains_rtl(title_text + " ".join(a.title for a in items)) or not items
    lines = [_rtl_safe(title_text, f"<b>{escape(title_text)}</b>", rtl_context=rtl_context)]
    if not items:
        lines.append(_rtl_safe(NO_NEWS_TEXT, escape(NO_NEWS_TEXT), rtl_context=True))
    else:
        # Share what is left of the limit fairly, so 20 long titles still fit one message.
        used = utf16_len(title_text) + 3 + len(items) * 8  # heading, RLMs, numbers, newlines
        per_title = min(MAX_TITLE_CHARS, (_LIMIT - used) // len(items))
        for number, article in enumerate(items, start=1):
            plain = f"{arabic_number(number)}. {shorten_units(article.title, per_title)}"
            lines.append(_rtl_safe(plain, escape(plain), rtl_context=rtl_context))
    keyboard = tuple(
        (
            InlineButton(
                shorten(article.title, BUTTON_CHARS),
                callback_data=callback_data.read_article(str(article.id)),
            ),
        )
        for article in items
    )
    text = lines[0] + "\n\n" + "\n".join(lines[1:])
    return OutgoingMessage(text=text, keyboard=keyboard, disable_link_preview=True)
