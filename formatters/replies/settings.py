"""The ``/settings`` menu and the notices of its buttons."""

from __future__ import annotations

from bot.models import ChatKind, Preference
from formatters.callback_data import set_preference
from formatters.message import InlineButton, OutgoingMessage
from formatters.replies.base import chat_who, command, lines_message

_PREFERENCE_LABELS = {
    Preference.BREAKING: "العاجل فقط",
    Preference.ALL: "كل الأخبار",
}


def settings_menu(
    preference: Preference, *, subscribed: bool = True, kind: ChatKind = ChatKind.PRIVATE
) -> OutgoingMessage:
    """The ``/settings`` message: one button per choice, the current one marked ✅."""
    buttons = tuple(
        (
            InlineButton(
                ("✅ " if p is preference else "") + _PREFERENCE_LABELS[p],
                callback_data=set_preference(p),
            ),
        )
        for p in Preference
    )
    lines = [
        "<b>⚙️ الإعدادات</b>",
        "اختر ما يصلك من أخبار:",
        "• العاجل فقط: تنبيه لكل خبر عاجل.",
        "• كل الأخبار: كل خبر يُنشر، عاجلاً كان أو لا.",
        "",
        f"اختيارك الحالي: <b>{_PREFERENCE_LABELS[preference]}</b>",
    ]
    if not subscribed:
        lines.append(f"⚠️ التنبيهات متوقفة حالياً، فعّلها بالأمر {command('subscribe')}")
    if kind.is_group_like:
        lines.append(f"ℹ️ تغيير الإعدادات من صلاحيات مشرفي {chat_who(kind)} فقط.")
    return lines_message(*lines, keyboard=buttons)


def preference_saved(preference: Preference) -> str:
    """The callback notice after choosing a preference (plain text)."""
    return f"✅ تم الحفظ: {_PREFERENCE_LABELS[preference]}"


def preference_unchanged(preference: Preference) -> str:
    """The callback notice when the chosen preference was already the current one."""
    return f"اختيارك الحالي هو {_PREFERENCE_LABELS[preference]} بالفعل."


def settings_need_subscription() -> str:
    """A settings button pressed in a chat that never subscribed (plain text)."""
    return f"اشترك أولاً بالأمر {command('start')} ثم اختر إعداداتك."


def notice_admins_only(kind: ChatKind) -> str:
    """A settings button pressed by a member who is no admin of the group (plain text)."""
    return f"عذراً، تغيير إعدادات {chat_who(kind)} من صلاحيات مشرفيها فقط."
