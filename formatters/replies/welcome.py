"""Greeting, help and subscription answers: ``/start``, ``/help``, ``/subscribe``, ``/stop``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import ChatKind, SubscribeResult
from formatters.labels import arabic_number
from formatters.message import OutgoingMessage
from formatters.replies.base import chat_who, command, echo, lines_message
from formatters.replies.reading import MAX_LATEST

# Commands -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandInfo:
    """A command and its Arabic description, as registered with ``setMyCommands``."""

    name: str
    description: str


def public_commands() -> list[CommandInfo]:
    """The commands every reader sees in Telegram's menu (descriptions at most 256 chars)."""
    return [
        CommandInfo("start", "الاشتراك في الأخبار العاجلة وبدء الاستخدام"),
        CommandInfo("latest", "أحدث العناوين"),
        CommandInfo("search", "البحث في الأخبار بكلمات من العنوان أو النص"),
        CommandInfo("article", "قراءة خبر كامل برمزه"),
        CommandInfo("settings", "اختيار ما يصلك: العاجل فقط أو كل الأخبار"),
        CommandInfo("stop", "إيقاف التنبيهات"),
        CommandInfo("subscribe", "استئناف التنبيهات"),
        CommandInfo("help", "المساعدة وقائمة الأوامر"),
    ]


def admin_commands() -> list[CommandInfo]:
    """The public commands plus the editors' ones, shown to admins only."""
    return [
        *public_commands(),
        CommandInfo("publish", "نشر خبر (بالرد على رسالة أو بكتابة النص بعد الأمر)"),
        CommandInfo("stats", "إحصاءات المشتركين والأخبار والتنبيهات"),
        CommandInfo("correct", "تصحيح خبر منشور في كل المحادثات (بالرد على تنبيهه)"),
        CommandInfo("update", "إضافة تحديث يصل ردّاً تحت تنبيه الخبر"),
        CommandInfo("retract", "سحب خبر منشور مع ذكر السبب"),
    ]


def _command_lines() -> list[str]:
    return [
        f"• أحدث العناوين: {command('latest')}",
        f"• عدد محدد من العناوين (حتى {arabic_number(MAX_LATEST)}): "
        f"{command('latest', arabic_number(10))}",
        f"• البحث في الأخبار: {command('search', 'كلمات البحث')}",
        f"• قراءة خبر كامل: {command('article', 'رمز_الخبر')}",
        f"• العاجل فقط أو كل الأخبار: {command('settings')}",
        f"• إيقاف التنبيهات: {command('stop')}",
        f"• استئناف التنبيهات: {command('subscribe')}",
        f"• المساعدة: {command('help')}",
    ]


# Greeting, help, subscription -----------------------------------------------------------------


def greeting(
    result: SubscribeResult, *, kind: ChatKind = ChatKind.PRIVATE, name: str | None = None
) -> OutgoingMessage:
    """The ``/start`` answer: who the bot is, the subscription state and the commands."""
    hello = f"أهلاً {echo(name)} 👋" if name and name.strip() else "أهلاً بك 👋"
    if kind is ChatKind.PRIVATE:
        state = {
            SubscribeResult.NEW: "✅ تم اشتراكك في التنبيهات العاجلة.",
            SubscribeResult.REACTIVATED: "✅ عدت إلى قائمة المشتركين، ستصلك التنبيهات من جديد.",
            SubscribeResult.ALREADY: "✅ أنت مشترك بالفعل في التنبيهات العاجلة.",
        }[result]
    else:
        where = chat_who(kind)
        state = {
            SubscribeResult.NEW: f"✅ تم اشتراك {where} في التنبيهات العاجلة.",
            SubscribeResult.REACTIVATED: f"✅ عادت {where} إلى قائمة المشتركين.",
            SubscribeResult.ALREADY: f"✅ {where} مشتركة بالفعل في التنبيهات العاجلة.",
        }[result]
    return lines_message(
        hello,
        "أنا بوت الأخبار العاجلة: أرسل الخبر العاجل لحظة نشره، "
        "ويمكن قراءة أي خبر كاملاً هنا داخل المحادثة.",
        "",
        state,
        "",
        "<b>الأوامر:</b>",
        *_command_lines(),
    )


def help_message(*, is_admin: bool = False) -> OutgoingMessage:
    """The ``/help`` answer: what the bot does and every command."""
    lines = [
        "<b>بوت الأخبار العاجلة</b>",
        "تصلك الأخبار العاجلة فور نشرها مع زر «اقرأ الخبر كاملاً» لقراءة النص كله هنا.",
        "",
        "<b>الأوامر:</b>",
        *_command_lines(),
        f"• بدء الاشتراك والترحيب: {command('start')}",
    ]
    if is_admin:
        lines += [
            "",
            "<b>أوامر المحررين:</b>",
            f"• نشر خبر: ردّ على رسالة الخبر بالأمر {command('publish')}، "
            "أو اكتب النص في الأسطر التالية للأمر.",
            f"• الإحصاءات: {command('stats')}",
            f"• تصحيح خبر: ردّ على تنبيهه بالأمر {command('correct')} ثم النص المصحح كاملاً.",
            f"• تحديث خبر: ردّ على تنبيهه بالأمر {command('update')} ثم نص التحديث.",
            f"• سحب خبر: ردّ على تنبيهه بالأمر {command('retract')} ومعه السبب.",
            "يُعرض عليك ما سيحدث أولاً، ولا يُنفَّذ إلا بزر «تأكيد».",
        ]
    return lines_message(*lines)


def subscribed(result: SubscribeResult, *, kind: ChatKind = ChatKind.PRIVATE) -> OutgoingMessage:
    """The ``/subscribe`` answer (a different text when already subscribed)."""
    where = chat_who(kind)
    if result is SubscribeResult.ALREADY:
        if kind is ChatKind.PRIVATE:
            return lines_message("أنت مشترك بالفعل، وستصلك الأخبار العاجلة فور نشرها. 👍")
        return lines_message(f"{where} مشتركة بالفعل، وستصلها الأخبار العاجلة فور نشرها. 👍")
    if kind is ChatKind.PRIVATE:
        text = "✅ تم تفعيل اشتراكك، ستصلك الأخبار العاجلة فور نشرها."
    else:
        text = f"✅ تم تفعيل اشتراك {where}، ستصلها الأخبار العاجلة فور نشرها."
    return lines_message(text, f"للإيقاف في أي وقت: {command('stop')}")


def unsubscribed(changed: bool, *, kind: ChatKind = ChatKind.PRIVATE) -> OutgoingMessage:
    """The ``/stop`` answer (a different text when there was nothing to stop)."""
    if not changed:
        if kind is ChatKind.PRIVATE:
            return lines_message(
                "أنت غير مشترك حالياً، فلن تصلك أي تنبيهات.",
                f"للاشتراك: {command('subscribe')}",
            )
        return lines_message(
            f"{chat_who(kind)} غير مشتركة حالياً.", f"للاشتراك: {command('subscribe')}"
        )
    text = (
        "🔕 تم إيقاف التنبيهات، لن تصلك الأخبار بعد الآن."
        if kind is ChatKind.PRIVATE
        else f"🔕 تم إيقاف التنبيهات في {chat_who(kind)}."
    )
    return lines_message(text, f"للعودة في أي وقت: {command('subscribe')}")


def admins_only(kind: ChatKind) -> OutgoingMessage:
    """A member who is no admin tried to (un)subscribe a group or channel."""
    return lines_message(
        f"عذراً، إيقاف التنبيهات وتفعيلها وإعدادات {chat_who(kind)} من صلاحيات مشرفيها فقط. 🙏"
    )
