"""Telegram's limits on outgoing text and keyboards, and the entities it adds to incoming text."""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import bad_request
from sandbox.html_check import ParsedText, parse_html, utf16_len

MAX_TEXT_UTF16 = 4096
MAX_ENTITIES = 100
MAX_CALLBACK_BYTES = 64
MAX_ANSWER_TEXT = 200
BUTTON_URL_SCHEMES = ("http://", "https://", "tg://")
# Button kinds: exactly one of these must accompany "text" in an inline keyboard button.
_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_URL = re.compile(r"\bhttps?://[^\s<>\"]+")


def outgoing_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None, *, strict: bool
) -> ParsedText:
    """Check a bot's message text as Telegram does; the visible text and its entities."""
    mode = (parse_mode or "").lower()
    if entities is not None:
        # Explicit entities win over parse_mode, as in Telegram.
        parsed = _explicit(text, entities)
    elif mode == "html":
        parsed = parse_html(text, strict=strict)
    elif mode in ("", "markdown", "markdownv2"):
        # Markdown is not interpreted by the sandbox: the bot only uses HTML.
        parsed = ParsedText(text.strip(" \t\n\r"), ())
    else:
        raise bad_request("unsupported parse_mode")
    if not parsed.text:
        raise bad_request("message text is empty")
    if utf16_len(parsed.text) > MAX_TEXT_UTF16:
        raise bad_request("message is too long")
    if len(parsed.entities) > MAX_ENTITIES:
        raise bad_request("too many entities")
    return parsed


def _explicit(text: str, entities: list[dict[str, Any]]) -> ParsedText:
    """Entities given as a list: each must lie inside the text."""
    total = utf16_len(text)
    for entity in entities:
        start, length = entity["offset"], entity["length"]
        if start < 0 or length <= 0 or start + length > total:
            raise bad_request("can't parse entities: entity is out of the text bounds")
    return ParsedText(text, tuple(entities))


def check_inline_keyboard(markup: object) -> None:
    """Telegram's checks on inline keyboard buttons (data size, URL scheme, one action each)."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return
    for row in markup["inline_keyboard"]:
        for button in row:
            if not button.get("text"):
                raise bad_request("BUTTON_TEXT_INVALID")
            actions = _BUTTON_ACTIONS & button.keys()
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad_request(f"inline keyboard button has several kinds: {sorted(actions)}")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not url.lower().startswith(BUTTON_URL_SCHEMES):
                raise bad_request("BUTTON_URL_INVALID")


def incoming_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram detects in a user's plain text: bot commands and URLs."""
    found: list[dict[str, Any]] = []
    for kind, pattern in (("bot_command", _COMMAND), ("url", _URL)):
        for m in pattern.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: m.start()]),
                    "length": utf16_len(m.group()),
                }
            )
    found.sort(key=lambda e: e["offset"])
    return found
