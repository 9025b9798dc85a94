"""What the bot says when nothing else applies: errors, unknown commands, stale buttons."""

from __future__ import annotations

from formatters.message import OutgoingMessage
from formatters.replies.base import command, lines_message


def something_went_wrong() -> OutgoingMessage:
    """The only thing a reader sees when a handler fails unexpectedly."""
    return lines_message("⚠️ حدث خطأ غير متوقع، يرجى المحاولة مرة أخرى بعد قليل.")


def service_unavailable() -> OutgoingMessage:
    """The news store cannot be reached for a moment (Redis restarting, network trouble)."""
    return lines_message("⏳ الخدمة غير متاحة مؤقتاً، يرجى المحاولة مرة أخرى بعد دقيقة.")


def unknown_command() -> OutgoingMessage:
    """A command newsbot does not know (private chats only)."""
    return lines_message(f"لا أعرف هذا الأمر. اكتب {command('help')} لقائمة الأوامر.")


def plain_text_hint() -> OutgoingMessage:
    """Free text in a private chat: point to search and the menu."""
    return lines_message(
        f"للبحث في الأخبار اكتب: {command('search', 'كلمات البحث')}",
        f"ولقائمة الأوامر: {command('help')}",
    )


def notice_invalid_button() -> str:
    """Callback data that newsbot never produced (forged, or from an older version)."""
    return f"هذا الزر لم يعد صالحاً. جرّب {command('latest')} لأحدث العناوين."
