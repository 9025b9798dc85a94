"""Every Arabic text the bot says outside the news itself: greetings, help, answers, errors.

Pure functions: they take plain values and return ``OutgoingMessage`` objects (or short plain
strings for callback-query notices), so the handlers stay thin and the wording is tested in one
place. Right-to-left safety: every line opens with an Arabic letter (or an RLM), and every
``/command`` is preceded by a LEFT-TO-RIGHT MARK so that its slash stays on the left of the Latin
word inside the Arabic sentence instead of jumping to its right end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.models import ChatKind, Preference
from bot.store import SubscribeResult
from formatters.callback_data import set_preference
from formatters.html import escape
from formatters.message import InlineButton, OutgoingMessage
from formatters.rtl import rtl_line
from formatters.segment import shorten

#: U+200E LEFT-TO-RIGHT MARK: keeps ``/command`` glued together in an RTL paragraph.
LRM = "\u200e"

#: ``/latest`` without a number, and its ceiling.
DEFAULT_LATEST = 5
MAX_LATEST = 20

#: The longest search query echoed back to the reader.
MAX_ECHO_CHARS = 60

#: The longest headline repeated in a /publish confirmation.
MAX_TITLE_ECHO_CHARS = 300

#: Telegram shows at most 200 characters in a callback-query notice.
MAX_NOTICE_CHARS = 200


def command(name: str, argument: str | None = None) -> str:
    """A command as written inside Arabic text: ``‎/name`` and its (Arabic) argument."""
    text = f"{LRM}/{name}"
    return f"{text} {argument}" if argument else text


def _message(*lines: str, keyboard: tuple[tuple[InlineButton, ...], ...] = ()) -> OutgoingMessage:
    """An HTML message from lines, each made safe to render right-to-left."""
    text = "\n".join(rtl_line(line) if line else line for line in lines)
    return OutgoingMessage(text=text, keyboard=keyboard)


def _echo_plain(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """User text shown back: whitespace collapsed, cut at a word or between graphemes."""
    return shorten(text, limit)


def _echo(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """:func:`_echo_plain`, HTML-escaped for a message."""
    return escape(_echo_plain(text, limit))


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
    ]


def _command_lines() -> list[str]:
    return [
        f"• أحدث العناوين: {command('latest')}",
        f"• عدد محدد من العناوين (حتى {MAX_LATEST}): {command('latest', '10')}",
        f"• البحث في الأخبار: {command('search', 'كلمات البحث')}",
        f"• قراءة خبر كامل: {command('article', 'رمز_الخبر')}",
        f"• العاجل فقط أو كل الأخبار: {command('settings')}",
        f"• إيقاف التنبيهات: {command('stop')}",
        f"• استئناف التنبيهات: {command('subscribe')}",
        f"• المساعدة: {command('help')}",
    ]


# Greeting, help, subscription -----------------------------------------------------------------


def _who(kind: ChatKind) -> str:
    if kind is ChatKind.CHANNEL:
        return "هذه القناة"
    if kind.is_group_like:
        return "هذه المجموعة"
    return "أنت"


def greeting(
    result: SubscribeResult, *, kind: ChatKind = ChatKind.PRIVATE, name: str | None = None
) -> OutgoingMessage:
    """The ``/start`` answer: who the bot is, the subscription state and the commands."""
    hello = f"أهلاً {_echo(name)} 👋" if name and name.strip() else "أهلاً بك 👋"
    if kind is ChatKind.PRIVATE:
        state = {
            SubscribeResult.NEW: "✅ تم اشتراكك في التنبيهات العاجلة.",
            SubscribeResult.REACTIVATED: "✅ عدت إلى قائمة المشتركين، ستصلك التنبيهات من جديد.",
            SubscribeResult.ALREADY: "✅ أنت مشترك بالفعل في التنبيهات العاجلة.",
        }[result]
    else:
        where = _who(kind)
        state = {
            SubscribeResult.NEW: f"✅ تم اشتراك {where} في التنبيهات العاجلة.",
            SubscribeResult.REACTIVATED: f"✅ عادت {where} إلى قائمة المشتركين.",
            SubscribeResult.ALREADY: f"✅ {where} مشتركة بالفعل في التنبيهات العاجلة.",
        }[result]
    return _message(
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
        ]
    return _message(*lines)


def subscribed(result: SubscribeResult, *, kind: ChatKind = ChatKind.PRIVATE) -> OutgoingMessage:
    """The ``/subscribe`` answer (a different text when already subscribed)."""
    where = _who(kind)
    if result is SubscribeResult.ALREADY:
        if kind is ChatKind.PRIVATE:
            return _message("أنت مشترك بالفعل، وستصلك الأخبار العاجلة فور نشرها. 👍")
        return _message(f"{where} مشتركة بالفعل، وستصلها الأخبار العاجلة فور نشرها. 👍")
    if kind is ChatKind.PRIVATE:
        text = "✅ تم تفعيل اشتراكك، ستصلك الأخبار العاجلة فور نشرها."
    else:
        text = f"✅ تم تفعيل اشتراك {where}، ستصلها الأخبار العاجلة فور نشرها."
    return _message(text, f"للإيقاف في أي وقت: {command('stop')}")


def unsubscribed(changed: bool, *, kind: ChatKind = ChatKind.PRIVATE) -> OutgoingMessage:
    """The ``/stop`` answer (a different text when there was nothing to stop)."""
    if not changed:
        if kind is ChatKind.PRIVATE:
            return _message(
                "أنت غير مشترك حالياً، فلن تصلك أي تنبيهات.",
                f"للاشتراك: {command('subscribe')}",
            )
        return _message(f"{_who(kind)} غير مشتركة حالياً.", f"للاشتراك: {command('subscribe')}")
    text = (
        "🔕 تم إيقاف التنبيهات، لن تصلك الأخبار بعد الآن."
        if kind is ChatKind.PRIVATE
        else f"🔕 تم إيقاف التنبيهات في {_who(kind)}."
    )
    return _message(text, f"للعودة في أي وقت: {command('subscribe')}")


# Reading --------------------------------------------------------------------------------------


def latest_heading(count: int) -> str:
    """The heading above the ``/latest`` headline buttons (plain text)."""
    return "📰 آخر الأخبار" if count != 1 else "📰 آخر خبر"


def latest_usage() -> OutgoingMessage:
    """``/latest`` with something that is not a positive number."""
    return _message(
        f"اكتب {command('latest')} لأحدث {DEFAULT_LATEST} عناوين، "
        f"أو أضف عدداً من 1 إلى {MAX_LATEST}، مثلاً: {command('latest', '10')}"
    )


def latest_clamped(asked: int) -> OutgoingMessage:
    """The note sent when ``/latest`` asks for more than the maximum."""
    del asked  # the ceiling is what matters to the reader
    return _message(f"ℹ️ أقصى عدد هو {MAX_LATEST} عنواناً، وإليك آخر {MAX_LATEST}.")


def no_articles_yet() -> OutgoingMessage:
    """``/latest`` before anything was published."""
    return _message("لا توجد أخبار منشورة بعد. ستصلك الأخبار العاجلة هنا فور نشرها.")


def article_usage() -> OutgoingMessage:
    """``/article`` without an id (or with more than one word)."""
    return _message(
        f"اكتب رمز الخبر بعد الأمر، مثلاً: {command('article', 'رمز_الخبر')}",
        f"تجد الرموز والأزرار في {command('latest')}، أو ابحث بكلمات الخبر: "
        f"{command('search', 'كلمات البحث')}",
    )


def article_not_found(article_id: str) -> OutgoingMessage:
    """An id that is malformed, unknown, or of a deleted article."""
    return _message(
        f"لم أجد خبراً بالرمز «{_echo(article_id)}»، ربما حُذف أو أن الرمز غير صحيح.",
        f"جرّب {command('latest')} لأحدث العناوين، أو {command('search', 'كلمات البحث')}.",
    )


def search_usage() -> OutgoingMessage:
    """``/search`` without words."""
    return _message(
        f"اكتب كلمات البحث بعد الأمر، مثلاً: {command('search', 'غزة')}",
        "أبحث في عناوين الأخبار ونصوصها، ولا يهم اختلاف الهمزات أو التاء المربوطة.",
    )


def search_heading(query: str, count: int) -> str:
    """The heading above the search-result buttons (plain text, not HTML)."""
    noun = "نتيجة" if count == 1 else "نتائج"
    return f"🔎 {noun} البحث عن «{_echo_plain(query)}»"


def search_no_results(query: str) -> OutgoingMessage:
    """A search that matched nothing."""
    return _message(
        f"🔎 لم أجد أخباراً تحتوي على «{_echo(query)}».",
        "جرّب كلمات أقل أو مختلفة، أو تصفّح " + command("latest") + ".",
    )


# Settings -------------------------------------------------------------------------------------

_PREFERENCE_LABELS = {
    Preference.BREAKING: "العاجل فقط",
    Preference.ALL: "كل الأخبار",
}


def preference_label(preference: Preference) -> str:
    """The Arabic name of a preference."""
    return _PREFERENCE_LABELS[preference]


def settings_menu(preference: Preference, *, subscribed: bool = True) -> OutgoingMessage:
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
    return _message(*lines, keyboard=buttons)


def preference_saved(preference: Preference) -> str:
    """The callback notice after choosing a preference (plain text)."""
    return f"✅ تم الحفظ: {_PREFERENCE_LABELS[preference]}"


def preference_unchanged(preference: Preference) -> str:
    """The callback notice when the chosen preference was already the current one."""
    return f"اختيارك الحالي هو {_PREFERENCE_LABELS[preference]} بالفعل."


def settings_need_subscription() -> str:
    """A settings button pressed in a chat that never subscribed (plain text)."""
    return f"اشترك أولاً بالأمر {command('start')} ثم اختر إعداداتك."


# Callback notices (plain text, at most 200 characters) ------------------------------------------


def notice_article_gone() -> str:
    """A read button whose article no longer exists."""
    return "هذا الخبر لم يعد متاحاً."


def notice_invalid_button() -> str:
    """Callback data that newsbot never produced (forged, or from an older version)."""
    return f"هذا الزر لم يعد صالحاً. جرّب {command('latest')} لأحدث العناوين."


def notice_sent_privately() -> str:
    """A read button pressed in a group: the text went to the presser's private chat."""
    return "📩 أرسلت إليك الخبر كاملاً في المحادثة الخاصة."


def notice_sending_article() -> str:
    """The short notice shown while the full text is being sent."""
    return "📖 إليك الخبر كاملاً"


# Admin ----------------------------------------------------------------------------------------


def admin_only() -> OutgoingMessage:
    """A non-admin tried an editors' command."""
    return _message("عذراً، هذا الأمر مخصص لمحرري الأخبار فقط. 🙏")


def publish_usage() -> OutgoingMessage:
    """``/publish`` with nothing to publish."""
    return _message(
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
    if alert_queued:
        alert = (
            "🔔 أُرسل التنبيه العاجل إلى قائمة الإرسال."
            if breaking
            else "🔔 أُرسل الخبر إلى قائمة الإرسال لمشتركي «كل الأخبار»."
        )
    else:
        alert = "🔕 لم يُرسل أي تنبيه."
    return _message(
        first,
        f"العنوان: {_echo(title, MAX_TITLE_ECHO_CHARS)}",
        f"الرمز: <code>{escape(article_id)}</code>",
        alert,
        f"للمعاينة: {command('article', escape(article_id))}",
    )


def publish_failed(arabic_reason: str) -> OutgoingMessage:
    """``/publish`` text the parser refused, with the parser's own Arabic explanation."""
    return _message("❌ لم يُنشر الخبر.", escape(arabic_reason))


@dataclass(frozen=True)
class AlertSummary:
    """One recent alert as shown in ``/stats``."""

    alert_id: str
    title: str
    state: str
    sent: int
    failed: int
    pending: int
    blocked: int = 0


@dataclass(frozen=True)
class StatsSnapshot:
    """Everything ``/stats`` shows, gathered by the handler from the store and delivery."""

    active_subscribers: int
    all_news_subscribers: int
    articles: int
    inactive: Mapping[str, int] = field(default_factory=dict)
    counters: Mapping[str, int] = field(default_factory=dict)
    recent_alerts: Sequence[AlertSummary] = ()


_INACTIVE_LABELS = {
    "unsubscribed": "ألغوا الاشتراك",
    "blocked": "حظروا البوت",
    "deactivated": "حسابات محذوفة",
    "kicked": "أُخرج البوت",
    "left": "غادر البوت",
    "chat_not_found": "محادثات غير موجودة",
    "forbidden": "رفضت رسائل البوت",
}

_COUNTER_LABELS = {
    "articles_ingested": "أخبار أُدخلت",
    "alerts_published": "تنبيهات نُشرت",
    "messages_sent": "رسائل أُرسلت",
    "messages_failed": "رسائل فشلت",
}

_ALERT_STATES = {
    "queued": "في الانتظار",
    "pending": "في الانتظار",
    "sending": "جارٍ الإرسال",
    "expanding": "جارٍ الإرسال",
    "running": "جارٍ الإرسال",
    "done": "اكتمل",
    "completed": "اكتمل",
    "finished": "اكتمل",
    "failed": "فشل",
}


def stats_message(stats: StatsSnapshot) -> OutgoingMessage:
    """The ``/stats`` answer: subscribers, articles and alert delivery, in Arabic."""
    lines = [
        "<b>📊 الإحصاءات</b>",
        "",
        "<b>المشتركون</b>",
        f"• النشطون: {stats.active_subscribers}",
        f"• منهم مشتركو «كل الأخبار»: {stats.all_news_subscribers}",
    ]
    for reason, n in sorted(stats.inactive.items()):
        label = _INACTIVE_LABELS.get(reason, f"غير نشطين ({escape(reason)})")
        lines.append(f"• {label}: {n}")
    lines += ["", "<b>الأخبار</b>", f"• المخزنة: {stats.articles}"]
    for name, label in _COUNTER_LABELS.items():
        if name in stats.counters:
            lines.append(f"• {label}: {stats.counters[name]}")
    lines += ["", "<b>آخر التنبيهات</b>"]
    if not stats.recent_alerts:
        lines.append("• لا توجد تنبيهات بعد.")
    for alert in stats.recent_alerts:
        state = _ALERT_STATES.get(alert.state, escape(alert.state))
        lines.append(
            f"• {_echo(alert.title)} — {state}: "
            f"وصل {alert.sent}، حُظر {alert.blocked}، فشل {alert.failed}، متبقٍّ {alert.pending}"
        )
    return _message(*lines)


# Errors and fallbacks ---------------------------------------------------------------------------


def something_went_wrong() -> OutgoingMessage:
    """The only thing a reader sees when a handler fails unexpectedly."""
    return _message("⚠️ حدث خطأ غير متوقع، يرجى المحاولة مرة أخرى بعد قليل.")


def unknown_command() -> OutgoingMessage:
    """A command newsbot does not know (private chats only)."""
    return _message(f"لا أعرف هذا الأمر. اكتب {command('help')} لقائمة الأوامر.")


def plain_text_hint() -> OutgoingMessage:
    """Free text in a private chat: point to search and the menu."""
    return _message(
        f"للبحث في الأخبار اكتب: {command('search', 'كلمات البحث')}",
        f"ولقائمة الأوامر: {command('help')}",
    )
