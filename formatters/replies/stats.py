"""The ``/stats`` answer: subscribers, articles and the delivery of recent alerts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from formatters.html import escape
from formatters.labels import arabic_number
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
    "migrated": "مجموعات انتقلت إلى معرّف جديد",
}

_COUNTER_LABELS = {
    "articles_ingested": "أخبار أُدخلت",
    "alerts_published": "تنبيهات نُشرت",
    "messages_sent": "رسائل أُرسلت",
    "messages_failed": "رسائل فشلت",
}

#: The states the delivery engine writes (bot/delivery/queue.py and outcomes.py): queued until
#: a worker takes the alert, expanding while the audience is split into batches, sending while
#: batches remain, done when every chat has an outcome.
_ALERT_STATES = {
    "queued": "في الانتظار",
    "expanding": "جارٍ تجهيز قائمة المشتركين",
    "sending": "جارٍ الإرسال",
    "done": "اكتمل",
}


def stats_message(stats: StatsSnapshot) -> OutgoingMessage:
    """The ``/stats`` answer: subscribers, articles and alert delivery, in Arabic."""
    n = arabic_number
    lines = [
        "<b>📊 الإحصاءات</b>",
        "",
        "<b>المشتركون</b>",
        f"• النشطون: {n(stats.active_subscribers)}",
        f"• منهم مشتركو «كل الأخبار»: {n(stats.all_news_subscribers)}",
    ]
    for reason, count in sorted(stats.inactive.items()):
        label = _INACTIVE_LABELS.get(reason, f"غير نشطين ({escape(reason)})")
        lines.append(f"• {label}: {n(count)}")
    lines += ["", "<b>الأخبار</b>", f"• المخزنة: {n(stats.articles)}"]
    for name, label in _COUNTER_LABELS.items():
        if name in stats.counters:
            lines.append(f"• {label}: {n(stats.counters[name])}")
    lines += ["", "<b>آخر التنبيهات</b>"]
    if not stats.recent_alerts:
        lines.append("• لا توجد تنبيهات بعد.")
    for alert in stats.recent_alerts:
        state = _ALERT_STATES.get(alert.state, escape(alert.state))
        lines.append(
            f"• {echo(alert.title)} — {state}: "
            f"وصل {n(alert.sent)}، حُظر {n(alert.blocked)}، فشل {n(alert.failed)}، "
            f"متبقٍّ {n(alert.pending)}"
        )
    return lines_message(*lines)
