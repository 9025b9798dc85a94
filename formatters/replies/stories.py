"""Answers of the editors' ``/correct``, ``/update`` and ``/retract``: preview, result, refusals.

Every change reaches readers' chats, so the editor first gets a preview of what will happen
(how many chats, the new headline) with «تأكيد» and «إلغاء»; only the confirmation runs it.
"""

from __future__ import annotations

from typing import Literal

from formatters import callback_data
from formatters.html import escape
from formatters.labels import CANCEL_LABEL, CONFIRM_LABEL, RETRACTED_TEXT, arabic_number
from formatters.message import InlineButton, OutgoingMessage
from formatters.replies.base import command, echo, lines_message

Kind = Literal["correct", "update", "retract"]

#: The longest headline, update or reason repeated in a preview or a result.
MAX_ECHO_CHARS = 300

_FIELDS = {
    "title": "العنوان",
    "lead": "الفقرة الأولى",
    "body": "النص",
    "url": "الرابط",
    "source": "المصدر",
    "tags": "الوسوم",
}
_NOT_DONE = {
    "correct": "❌ لم يُصحَّح الخبر.",
    "update": "❌ لم يُضف التحديث.",
    "retract": "❌ لم يُسحب الخبر.",
}


def _code(article_id: str) -> str:
    return f"<code>{escape(article_id)}</code>"


def _chats(count: int) -> str:
    return f"عدد المحادثات: {arabic_number(count)}"


def _usage_lines(kind: Kind) -> tuple[str, ...]:
    if kind == "correct":
        return (
            f"لتصحيح خبر: ردّ على تنبيهه بالأمر {command('correct')} "
            "واكتب الخبر المصحح كاملاً في الأسطر التالية للأمر، كما في "
            f"{command('publish')}: السطر الأول العنوان، ثم سطر فارغ، ثم الفقرات.",
            f"أو اكتب رمز الخبر بعد الأمر: {command('correct', 'رمز_الخبر')} ثم النص.",
        )
    if kind == "update":
        return (
            f"لإضافة تحديث إلى خبر: ردّ على تنبيهه بالأمر {command('update')} ثم نص التحديث،",
            f"أو اكتب رمز الخبر بعد الأمر: {command('update', 'رمز_الخبر نص التحديث')}",
        )
    return (
        f"لسحب خبر: ردّ على تنبيهه بالأمر {command('retract')} ومعه السبب إن شئت،",
        f"أو اكتب رمز الخبر بعد الأمر: {command('retract', 'رمز_الخبر السبب')}",
    )


def story_usage(kind: Kind) -> OutgoingMessage:
    """The command without an article to change, or without the text it needs."""
    return lines_message(*_usage_lines(kind))


def story_refused(kind: Kind, code: str, article_id: str, *, limit: int = 0) -> OutgoingMessage:
    """A change the desk refused (``StoryError.code``), in the editor's terms."""
    if code == "not_found":
        return lines_message(_NOT_DONE[kind], f"لا يوجد خبر بالرمز {_code(article_id)}.")
    if code == "retracted":
        if kind == "retract":
            return lines_message(f"ℹ️ الخبر {_code(article_id)} مسحوب من قبل، لم يتغير شيء.")
        return lines_message(
            _NOT_DONE[kind], f"{RETRACTED_TEXT} ({_code(article_id)})، فلا يقبل تصحيحاً ولا تحديثاً."
        )
    if code == "empty":
        return story_usage(kind)
    if code == "too_long":
        what = "نص التحديث" if kind == "update" else "السبب"
        return lines_message(
            _NOT_DONE[kind], f"{what} أطول من المسموح (حتى {arabic_number(limit)} حرف)."
        )
    if code == "unchanged":
        return lines_message(
            "ℹ️ النص الجديد مطابق للخبر المنشور، فلا شيء يُصحَّح.", f"الرمز: {_code(article_id)}"
        )
    if code == "busy":
        return lines_message(_NOT_DONE[kind], "الخبر يتغير الآن، حاول مرة أخرى بعد قليل.")
    return lines_message(_NOT_DONE[kind], "تعذّر تنفيذ الطلب، حاول مرة أخرى.")


def story_parse_failed(arabic_reason: str, *, invalid_field: str | None = None) -> OutgoingMessage:
    """The corrected text the parser refused (the same explanation as for ``/publish``)."""
    if invalid_field is not None:
        reason = f"مقال غير صالح: قيمة الحقل «{echo(invalid_field, 40)}» غير مقبولة."
    else:
        reason = escape(arabic_reason)
    return lines_message(_NOT_DONE["correct"], reason)


def no_article_in_reply(kind: Kind) -> OutgoingMessage:
    """The replied-to message is no alert of the bot (and no id was given)."""
    return lines_message(
        "لم أجد الخبر: الرسالة التي رددت عليها ليست تنبيهاً بخبر واحد.", *_usage_lines(kind)
    )


def story_preview(
    kind: Kind,
    article_id: str,
    token: str,
    *,
    title: str,
    reached: int | None,
    sending: bool = False,
    new_title: str | None = None,
    changed: list[str] | None = None,
    text: str | None = None,
    ttl_minutes: int = 10,
) -> OutgoingMessage:
    """What the change will do, with «تأكيد» and «إلغاء» (``reached``: ``None`` if not alerted)."""
    lines: list[str] = []
    if kind == "correct":
        fields = "، ".join(_FIELDS.get(f, f) for f in changed or [])
        lines += [
            f"✏️ <b>تصحيح الخبر</b> {_code(article_id)}",
            f"العنوان الآن: {echo(title, MAX_ECHO_CHARS)}",
            f"العنوان بعد التصحيح: {echo(new_title or title, MAX_ECHO_CHARS)}",
            f"ما يتغير: {fields}",
        ]
        if reached is None:
            lines.append("🔕 لم يُرسل تنبيه بهذا الخبر: يتغير النص المحفوظ فقط.")
        else:
            lines.append(f"📣 سيُعدَّل التنبيه في كل محادثة وصلها. {_chats(reached)}.")
            if sending:
                lines.append("ومن لم يصله التنبيه بعد يصله النص المصحح مباشرة.")
    elif kind == "update":
        lines += [
            f"🔄 <b>تحديث للخبر</b> {_code(article_id)}",
            f"العنوان: {echo(title, MAX_ECHO_CHARS)}",
            f"نص التحديث: {echo(text or '', MAX_ECHO_CHARS)}",
        ]
        if reached is None:
            lines.append("🔕 لم يُرسل تنبيه بهذا الخبر: يُضاف التحديث إلى نص الخبر فقط.")
        else:
            lines.append(f"📣 سيصل التحديث ردّاً تحت التنبيه في كل محادثة وصلها. {_chats(reached)}.")
    else:
        reason = echo(text, MAX_ECHO_CHARS) if text else "بلا سبب مذكور"
        lines += [
            f"⛔ <b>سحب الخبر</b> {_code(article_id)}",
            f"العنوان: {echo(title, MAX_ECHO_CHARS)}",
            f"السبب: {reason}",
        ]
        if reached is None:
            lines.append("🔕 لم يُرسل تنبيه بهذا الخبر: يُسحب من الأخبار والبحث فقط.")
        else:
            lines.append(
                f"📣 سيُستبدل التنبيه في كل محادثة وصلها بإشعار «سُحب هذا الخبر». {_chats(reached)}."
            )
    lines.append(
        f"اضغط «{CONFIRM_LABEL}» للتنفيذ أو «{CANCEL_LABEL}»؛ "
        f"ينتهي الطلب بعد {arabic_number(ttl_minutes)} دقائق."
    )
    keyboard = (
        (
            InlineButton(CONFIRM_LABEL, callback_data=callback_data.confirm_change(token)),
            InlineButton(CANCEL_LABEL, callback_data=callback_data.cancel_change(token)),
        ),
    )
    return lines_message(*lines, keyboard=keyboard)


def correction_done(article_id: str, version: int, *, changed: bool, edits: int) -> OutgoingMessage:
    """The correction ran: the article's version now and the edits queued."""
    if not changed and not edits:
        return lines_message(f"ℹ️ الخبر {_code(article_id)} مصحح بهذا النص من قبل، لم يتغير شيء.")
    lines = [f"✅ صُحّح الخبر {_code(article_id)}، الإصدار {arabic_number(version)}."]
    if edits:
        lines.append(f"✏️ تعديل التنبيه في قائمة الإرسال. {_chats(edits)}.")
    return lines_message(*lines)


def update_done(article_id: str, number: int, *, created: bool, replies: int) -> OutgoingMessage:
    """The update ran: its number and the replies queued."""
    if not created:
        return lines_message(
            f"ℹ️ هذا التحديث منشور من قبل في الخبر {_code(article_id)}، لم يُرسل ثانية."
        )
    lines = [f"✅ أُضيف التحديث رقم {arabic_number(number)} إلى الخبر {_code(article_id)}."]
    if replies:
        lines.append(f"🔄 الرد تحت التنبيه في قائمة الإرسال. {_chats(replies)}.")
    return lines_message(*lines)


def retraction_done(article_id: str, *, created: bool, edits: int) -> OutgoingMessage:
    """The retraction ran: the notice edits queued."""
    if not created:
        return lines_message(f"ℹ️ الخبر {_code(article_id)} مسحوب من قبل، لم يتغير شيء.")
    lines = [f"✅ سُحب الخبر {_code(article_id)} من الأخبار والبحث."]
    if edits:
        lines.append(f"⛔ إشعار السحب في قائمة الإرسال. {_chats(edits)}.")
    return lines_message(*lines)


def change_cancelled() -> OutgoingMessage:
    """The preview after «إلغاء»."""
    return lines_message("✖️ أُلغي الطلب، لم يتغير شيء.")


def notice_change_done() -> str:
    """Callback answer: the change ran."""
    return "تم التنفيذ ✅"


def notice_change_cancelled() -> str:
    """Callback answer: the change was dropped."""
    return "أُلغي الطلب، لم يتغير شيء."


def notice_change_missing() -> str:
    """Callback answer: expired, already run or cancelled, or never issued."""
    return "انتهت صلاحية هذا الطلب أو نُفّذ أو أُلغي من قبل؛ لم يتغير شيء."


def notice_change_not_yours() -> str:
    """Callback answer: another editor's confirmation."""
    return "هذا الطلب لمحرر آخر، ولا يُنفَّذ إلا بتأكيده."


def notice_editors_only() -> str:
    """Callback answer: a non-editor pressed an editor's button."""
    return "هذا الزر مخصص لمحرري الأخبار فقط."
