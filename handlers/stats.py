"""Gathering ``/stats``: subscriber and article counts, counters, recent alert delivery."""

from __future__ import annotations

from bot.models import Audience
from bot.services import Services
from formatters.replies.stats import AlertSummary, StatsSnapshot

#: Recent alerts listed by ``/stats``.
RECENT_ALERTS = 5


async def recent_alert_summaries(
    services: Services, count: int = RECENT_ALERTS
) -> list[AlertSummary]:
    """The latest alerts' delivery progress, from the delivery engine's read API."""
    statuses = await services.delivery.recent_alerts(count)
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


async def gather_stats(services: Services) -> StatsSnapshot:
    """Everything ``/stats`` shows: the store's numbers and the delivery engine's."""
    store = services.store
    counters = {**await store.stats.all(), **await services.delivery.counters()}
    return StatsSnapshot(
        active_subscribers=await store.subscribers.count(Audience.BREAKING),
        all_news_subscribers=await store.subscribers.count(Audience.ALL_NEWS),
        articles=await store.articles.count(),
        inactive=await store.subscribers.inactive_reasons(),
        counters=counters,
        recent_alerts=await recent_alert_summaries(services),
    )
