"""Callback-data and deep-link payloads: built by the formatters, parsed by the handlers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.models import ARTICLE_ID_RE, Preference

#: Telegram refuses callback data over 64 bytes.
MAX_CALLBACK_BYTES = 64

_READ_PREFIX = "a:"
_PREF_PREFIX = "p:"
_MORE_PREFIX = "m:"
#: The highest part index a «more» button may carry (a 1 MB article has about 120 parts).
MAX_PART = 99_999
_DEEP_LINK_PREFIX = "a_"
_CONFIRM_PREFIX = "c:"
_CANCEL_PREFIX = "x:"
#: A pending change's token (``bot.store.pending``: URL-safe base64 of random bytes).
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,43}$")


@dataclass(frozen=True)
class ReadArticle:
    """The reader asked for the full text of an article."""

    article_id: str
    kind: Literal["read"] = "read"


@dataclass(frozen=True)
class SetPreference:
    """The reader chose what to receive."""

    preference: Preference
    kind: Literal["pref"] = "pref"


@dataclass(frozen=True)
class MoreOfArticle:
    """The reader asked for the next messages of a long article, from part ``part`` (0-based)."""

    article_id: str
    part: int
    kind: Literal["more"] = "more"


@dataclass(frozen=True)
class ConfirmChange:
    """An editor confirmed the correction, update or retraction held under ``token``."""

    token: str
    kind: Literal["confirm"] = "confirm"


@dataclass(frozen=True)
class CancelChange:
    """An editor cancelled the change held under ``token``."""

    token: str
    kind: Literal["cancel"] = "cancel"


CallbackAction = ReadArticle | SetPreference | MoreOfArticle | ConfirmChange | CancelChange


def read_article(article_id: str) -> str:
    """Callback data for a "read the full article" button."""
    return _READ_PREFIX + article_id


def more_of_article(article_id: str, part: int) -> str:
    """Callback data for the «more» button: continue the article at message ``part``."""
    return f"{_MORE_PREFIX}{article_id}:{part}"


def set_preference(preference: Preference) -> str:
    """Callback data for a settings button."""
    return _PREF_PREFIX + preference.value


def confirm_change(token: str) -> str:
    """Callback data of the «تأكيد» button of an editor's change."""
    return _CONFIRM_PREFIX + token


def cancel_change(token: str) -> str:
    """Callback data of the «إلغاء» button of an editor's change."""
    return _CANCEL_PREFIX + token


def deep_link_payload(article_id: str) -> str:
    """The ``/start`` payload that opens an article (``t.me/<bot>?start=a_<id>``)."""
    return _DEEP_LINK_PREFIX + article_id


def deep_link_url(bot_username: str, article_id: str) -> str:
    """The ``t.me`` link that opens a private chat with the bot and then the article."""
    return f"https://t.me/{bot_username}?start={deep_link_payload(article_id)}"


def parse_callback(data: str | None) -> CallbackAction | None:
    """Decode callback data; ``None`` for anything forged, stale or malformed."""
    if not data or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return None
    if data.startswith(_READ_PREFIX):
        article_id = data[len(_READ_PREFIX) :]
        return ReadArticle(article_id) if ARTICLE_ID_RE.match(article_id) else None
    if data.startswith(_MORE_PREFIX):
        article_id, _, part = data[len(_MORE_PREFIX) :].partition(":")
        # ASCII digits only (``int`` would also take "٣", "+3" or " 3"), no leading zeros.
        if not ARTICLE_ID_RE.match(article_id) or not _is_part(part):
            return None
        return MoreOfArticle(article_id, int(part))
    for prefix, action in ((_CONFIRM_PREFIX, ConfirmChange), (_CANCEL_PREFIX, CancelChange)):
        if data.startswith(prefix):
            token = data[len(prefix) :]
            return action(token) if _TOKEN_RE.match(token) else None
    if data.startswith(_PREF_PREFIX):
        try:
            return SetPreference(Preference(data[len(_PREF_PREFIX) :]))
        except ValueError:
            return None
    return None


def _is_part(text: str) -> bool:
    if not text or not text.isascii() or not text.isdigit() or text != str(int(text)):
        return False
    return 0 < int(text) <= MAX_PART


def parse_deep_link(payload: str | None) -> str | None:
    """The article id in a ``/start a_<id>`` payload, or ``None``."""
    if payload and payload.startswith(_DEEP_LINK_PREFIX):
        article_id = payload[len(_DEEP_LINK_PREFIX) :]
        if ARTICLE_ID_RE.match(article_id):
            return article_id
    return None
