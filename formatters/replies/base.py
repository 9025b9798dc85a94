"""Shared pieces of the bot's replies: commands inside Arabic text, RTL-safe lines, echoes.

Right-to-left safety: every line opens with an Arabic letter (or an RLM), and every ``/command``
is preceded by a LEFT-TO-RIGHT MARK so that its slash stays on the left of the Latin word inside
the Arabic sentence instead of jumping to its right end.
"""

from __future__ import annotations

from bot.models import ChatKind
from formatters.html import escape
from formatters.message import InlineButton, OutgoingMessage
from formatters.rtl import rtl_line
from formatters.segment import shorten

#: U+200E LEFT-TO-RIGHT MARK: keeps ``/command`` glued together in an RTL paragraph.
LRM = "\u200e"

#: The longest search query echoed back to the reader.
MAX_ECHO_CHARS = 60

#: Telegram shows at most 200 characters in a callback-query notice.
MAX_NOTICE_CHARS = 200


def command(name: str, argument: str | None = None) -> str:
    """A command as written inside Arabic text: ``‎/name`` and its (Arabic) argument."""
    text = f"{LRM}/{name}"
    return f"{text} {argument}" if argument else text


def lines_message(
    *lines: str, keyboard: tuple[tuple[InlineButton, ...], ...] = ()
) -> OutgoingMessage:
    """An HTML message from lines, each made safe to render right-to-left."""
    text = "\n".join(rtl_line(line) if line else line for line in lines)
    return OutgoingMessage(text=text, keyboard=keyboard)


def echo_plain(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """User text shown back: whitespace collapsed, cut at a word or between graphemes."""
    return shorten(text, limit)


def echo(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """:func:`echo_plain`, HTML-escaped for a message."""
    return escape(echo_plain(text, limit))


def chat_who(kind: ChatKind) -> str:
    """The chat as the subject of a sentence: "you", "this group" or "this channel"."""
    if kind is ChatKind.CHANNEL:
        return "هذه القناة"
    if kind.is_group_like:
        return "هذه المجموعة"
    return "أنت"
