"""Plain-text rendering of outgoing messages, as a reader would see them (for the CLI preview)."""

from __future__ import annotations

from collections.abc import Sequence

from formatters.html import visible_text
from formatters.message import PARSE_MODE_HTML, OutgoingMessage

#: Printed between two consecutive messages.
SEPARATOR = "─" * 40


def _message_text(message: OutgoingMessage) -> str:
    lines = [visible_text(message.text) if message.parse_mode == PARSE_MODE_HTML else message.text]
    for row in message.keyboard:
        for button in row:
            label = f"[ {button.text} ]"
            lines.append(f"{label} → {button.url}" if button.url else label)
    return "\n".join(lines)


def render_plain(messages: Sequence[OutgoingMessage]) -> str:
    """The messages' visible text, buttons as ``[ label ]`` lines, a separator line between them."""
    return f"\n{SEPARATOR}\n".join(_message_text(message) for message in messages)
