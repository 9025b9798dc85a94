"""Transport-neutral outgoing messages: what the formatters produce and the senders send."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PARSE_MODE_HTML = "HTML"


@dataclass(frozen=True)
class InlineButton:
    """One inline-keyboard button: either a callback button or a URL button."""

    text: str
    callback_data: str | None = None
    url: str | None = None

    def to_api(self) -> dict[str, str]:
        """The Bot API ``InlineKeyboardButton`` JSON object."""
        out = {"text": self.text}
        if self.callback_data is not None:
            out["callback_data"] = self.callback_data
        if self.url is not None:
            out["url"] = self.url
        return out


@dataclass(frozen=True)
class OutgoingMessage:
    """A ``sendMessage`` call without its ``chat_id``: text, parse mode, keyboard, preview flag."""

    text: str
    parse_mode: str | None = PARSE_MODE_HTML
    keyboard: tuple[tuple[InlineButton, ...], ...] = ()
    disable_link_preview: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def reply_markup(self) -> dict[str, Any] | None:
        """The Bot API ``InlineKeyboardMarkup`` JSON object, or ``None`` without buttons."""
        if not self.keyboard:
            return None
        return {"inline_keyboard": [[b.to_api() for b in row] for row in self.keyboard]}

    def to_payload(self, chat_id: int | str | None = None) -> dict[str, Any]:
        """The ``sendMessage`` request body exactly as it goes to Telegram."""
        payload: dict[str, Any] = {}
        if chat_id is not None:
            payload["chat_id"] = chat_id
        payload["text"] = self.text
        if self.parse_mode:
            payload["parse_mode"] = self.parse_mode
        markup = self.reply_markup()
        if markup is not None:
            payload["reply_markup"] = markup
        if self.disable_link_preview:
            payload["link_preview_options"] = {"is_disabled": True}
        payload.update(self.extra)
        return payload
