"""What a reader is told when they send faster than the bot may answer them."""

from __future__ import annotations

from formatters.message import OutgoingMessage
from formatters.replies.base import lines_message


def slow_down() -> OutgoingMessage:
    """Sent once per burst when a chat's commands arrive faster than they can be answered."""
    return lines_message(
        "⏳ وصلتني أوامر كثيرة في وقت قصير، فتجاهلت بعضها.",
        "انتظر حتى تصل الردود، ثم أعد إرسال ما تحتاجه.",
    )


def notice_slow_down() -> str:
    """A button pressed while the chat's earlier requests are still being answered."""
    return "⏳ طلبات كثيرة، انتظر وصول الردود ثم حاول مرة أخرى."
