"""Answers of the editors' ``/publish`` command, and the refusal of editors' commands."""

from __future__ import annotations

from formatters.html import escape
from formatters.message import OutgoingMessage
from formatters.replies.base import command, echo, lines_message

#: The longest headline repeated in a /publish confirmation.
MAX_TITLE_ECHO_CHARS = 300
#: The longest field name repeated in a refusal (names come from the editor's JSON).
MAX_FIELD_ECHO_CHARS = 40


def admin_only() -> OutgoingMessage:
    """A non-admin tried an editors' command."""
    return lines_message("عذراً، هذا الأمر مخصص لمحرري الأخبار فقط. 🙏")


def publish_usage() -> OutgoingMessage:
    """``/publish`` with nothing to publish."""
    return lines_message(
        f"لنشر خبر: ردّ على رسالة نص الخبر بالأمر {command('publish')}،",
        "أو اكتب الأمر ثم نص الخبر في الأسطر التالية:",
        "السطر الأول العنوان، ثم سطر فارغ، ثم الفقرات.",
        "ليكون الخبر عاجلاً ابدأ العنوان بكلمة «عاجل|».",
    )


def publish_done(
    article_id: str, title: str, *, created: bool, alert_queued: bool, breaking: bool
) -> OutgoingMessage:
    """Confirmation of ``/publish``: the id, and whether an alert went out."""
    first = "✅ تم نشر الخبر." if created else "ℹ️ هذا الخبر منشور من قبل، لم يُنشر مرة ثانية."
    if alert_queued and not created:
        # A repeat never pushes again: the alert is the one queued the first time.
        alert = "🔔 تنبيهه أُرسل إلى قائمة الإرسال في المرة الأولى، ولن يُرسل مرة أخرى."
    elif alert_queued:
        alert = (
            "🔔 أُرسل التنبيه العاجل إلى قائمة الإرسال."
            if breaking
            else "🔔 أُرسل الخبر إلى قائمة الإرسال لمشتركي «كل الأخبار»."
        )
    else:
        alert = "🔕 لم يُرسل أي تنبيه."
    return lines_message(
        first,
        f"العنوان: {echo(title, MAX_TITLE_ECHO_CHARS)}",
        f"الرمز: <code>{escape(article_id)}</code>",
        alert,
        f"للمعاينة: {command('article', escape(article_id))}",
    )


def publish_failed(arabic_reason: str, *, invalid_field: str | None = None) -> OutgoingMessage:
    """``/publish`` text the parser refused: its Arabic explanation, or the rejected field.

    ``invalid_field`` names a field whose value was refused; the parser's detail about it is
    English (pydantic's), so the editor gets the field's name in an Arabic sentence instead.
    """
    if invalid_field is not None:
        field = echo(invalid_field, MAX_FIELD_ECHO_CHARS)
        reason = f"مقال غير صالح: قيمة الحقل «{field}» غير مقبولة."
    else:
        reason = escape(arabic_reason)
    return lines_message("❌ لم يُنشر الخبر.", reason)
