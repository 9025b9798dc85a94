"""The ``/stats`` answer: subscribers, articles and the delivery of recent alerts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from formatters.html import escape
from formatters.message import OutgoingMessage
from formatters.replies.base import echo, lines_message


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
            f"• {echo(alert.title)} — {state}: "
            f"وصل {alert.sent}، حُظر {alert.blocked}، فشل {alert.failed}، متبقٍّ {alert.pending}"
        )
    return lines_message(*lines)
