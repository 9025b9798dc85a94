"""Gathering ``/stats``: subscriber and article counts, counters, recent alert delivery."""

from __future__ import annotations

from bot.delivery.status import recent_alerts
from bot.models import Audience
from bot.store import Store
from formatters.replies.stats import AlertSummary, StatsSnapshot

#: Recent alerts listed by ``/stats``.
RECENT_ALERTS = 5


async def recent_alert_summaries(store: Store, count: int = RECENT_ALERTS) -> list[AlertSummary]:
    """The latest alerts' delivery progress, from the delivery engine's status functions."""
    statuses = await recent_alerts(store, count)
    return [
        AlertSummary(
            alert_id=s.alert_id,
            title=s.title or s.article_id,
            state=str(s.state),
            sent=s.sent,
            blocked=s.blocked,
            failed=s.failed + s.bad_request,
            pending=s.pending,
        )
        for s in statuses
    ]


async def gather_stats(store: Store) -> StatsSnapshot:
    """Everything ``/stats`` shows, read from the store."""
    return StatsSnapshot(
        active_subscribers=await store.subscribers.count(Audience.BREAKING),
        all_news_subscribers=await store.subscribers.count(Audience.ALL_NEWS),
        articles=await store.articles.count(),
        inactive=await store.subscribers.inactive_reasons(),
        counters=await store.stats.all(),
        recent_alerts=await recent_alert_summaries(store),
    )
