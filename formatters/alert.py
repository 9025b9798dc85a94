"""Push messages: the short breaking alert and the routine "new article" notification."""

from __future__ import annotations

from bot.models import Article
from formatters import callback_data
from formatters.html import escape
from formatters.labels import (
    BREAKING_MARKER,
    CORRECTED_MARK,
    NEWS_MARKER,
    READ_FULL_LABEL,
    RETRACTED_TEXT,
    RETRACTION_REASON_LABEL,
    SOURCE_LABEL,
    UPDATE_MARKER,
)
from formatters.message import InlineButton, OutgoingMessage
from formatters.rtl import RLM, contains_rtl, line_is_rtl, needs_rlm
from formatters.segment import lead_excerpt, shorten_units

#: Default size of the lead excerpt in an alert, in UTF-16 units (characters, for Arabic text).
DEFAULT_LEAD_CHARS = 300
#: Caps in UTF-16 units, Telegram's own measure (an emoji counts 2): marker, headline, blank
#: line, lead and two RLMs stay below the 4096-unit limit whatever the article holds.
MAX_HEADLINE_UNITS = 1000
MAX_LEAD_UNITS = 2500


def _line(prefix: str, body_html: str, body_plain: str, *, rtl_context: bool) -> str:
    """One RTL-safe line: ``prefix`` then ``body_html``; the RLM is decided on plain text."""
    plain = f"{prefix} {body_plain}" if prefix else body_plain
    rtl = line_is_rtl(plain, default_rtl=rtl_context)
    mark = RLM if needs_rlm(plain, rtl=rtl) else ""
    return f"{mark}{escape(prefix)} {body_html}" if prefix else f"{mark}{body_html}"


#: An update's headline is shortened further: the update is what the reader came for.
MAX_UPDATE_HEADLINE_UNITS = 200


def _keyboard(article: Article, *, read: bool = True) -> tuple[tuple[InlineButton, ...], ...]:
    if not article.id:
        raise ValueError("an alert needs article.id for its 'read more' button")
    data = callback_data.read_article(article.id)
    if len(data.encode("utf-8")) > callback_data.MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long for article id {article.id!r}")
    keyboard: list[tuple[InlineButton, ...]] = []
    if read:
        keyboard.append((InlineButton(READ_FULL_LABEL, callback_data=data),))
    if article.url:
        keyboard.append((InlineButton(SOURCE_LABEL, url=article.url),))
    return tuple(keyboard)


def has_more_to_read(article: Article, lead: str) -> bool:
    """Whether the full text says more than an alert showing ``lead``: a body-less flash
    («التفاصيل بعد قليل..») gets no «اقرأ الخبر كاملاً», which would open the same text."""
    if any(section.heading for section in article.sections) or len(article.paragraphs()) > 1:
        return True
    return lead != " ".join(article.lead().split())


def _push(article: Article, marker: str, lead_chars: int, *, corrected: bool) -> OutgoingMessage:
    title = shorten_units(article.title, MAX_HEADLINE_UNITS)
    target = max(2, min(lead_chars, MAX_LEAD_UNITS))
    lead = lead_excerpt(article.lead(), target, max_limit=MAX_LEAD_UNITS, units=True)
    # A headline cut short also leaves more to read.
    more = has_more_to_read(article, lead) or title != " ".join(article.title.split())
    keyboard = _keyboard(article, read=more)
    rtl_context = contains_rtl(f"{title} {lead}")
    lines = [_line(marker, f"<b>{escape(title)}</b>", title, rtl_context=rtl_context)]
    if lead:
        lines.append(_line("", escape(lead), lead, rtl_context=rtl_context))
    if corrected:
        lines.append(
            _line("", f"<i>{escape(CORRECTED_MARK)}</i>", CORRECTED_MARK, rtl_context=True)
        )
    return OutgoingMessage(text="\n\n".join(lines), keyboard=keyboard, disable_link_preview=True)


def format_alert(
    article: Article, *, lead_chars: int = DEFAULT_LEAD_CHARS, corrected: bool = False
) -> OutgoingMessage:
    """The breaking alert: red marker, bold headline, the lead cut at a sentence, buttons.

    «اقرأ الخبر كاملاً» only when the full text says more (see :func:`has_more_to_read`); an
    update of the story is sent with it (:func:`format_update`), and so is a correction that
    adds text. ``corrected``: the alert of a corrected article ends with a discreet «✏️ تصحيح».
    """
    return _push(article, BREAKING_MARKER, lead_chars, corrected=corrected)


def format_notification(
    article: Article, *, lead_chars: int = DEFAULT_LEAD_CHARS, corrected: bool = False
) -> OutgoingMessage:
    """A routine push for "all news" subscribers: like the alert but with the 📰 marker."""
    return _push(article, NEWS_MARKER, lead_chars, corrected=corrected)


def format_retraction(reason: str | None) -> OutgoingMessage:
    """The notice a retracted article's alerts are edited to (no buttons: nothing to read)."""
    lines = [_line("", f"<b>{escape(RETRACTED_TEXT)}</b>", RETRACTED_TEXT, rtl_context=True)]
    if reason:
        shown = shorten_units(reason, MAX_LEAD_UNITS)
        body = f"{escape(RETRACTION_REASON_LABEL)} {escape(shown)}"
        lines.append(_line("", body, f"{RETRACTION_REASON_LABEL} {shown}", rtl_context=True))
    return OutgoingMessage(text="\n".join(lines), disable_link_preview=True)


def format_update(article: Article, text: str) -> OutgoingMessage:
    """An update of the story, sent as a reply under the alert: marker, headline, the update."""
    keyboard = _keyboard(article)
    title = shorten_units(article.title, MAX_UPDATE_HEADLINE_UNITS)
    body = shorten_units(text, MAX_LEAD_UNITS)
    rtl_context = contains_rtl(f"{title} {body}")
    lines = [_line(UPDATE_MARKER, f"<b>{escape(title)}</b>", title, rtl_context=rtl_context)]
    lines += [_line("", escape(line), line, rtl_context=rtl_context) for line in body.splitlines()]
    return OutgoingMessage(text="\n\n".join(lines), keyboard=keyboard, disable_link_preview=True)
