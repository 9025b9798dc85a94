"""Publishing an alert: one Redis script creates the alert record and queues its job, once."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from bot.delivery.config import Priority
from bot.delivery.counters import Counter
from bot.delivery.keys import DeliveryKeys
from bot.models import Article, Audience

logger = logging.getLogger(__name__)

# Creating the record and queueing the job in one script means a crash can never leave an
# alert recorded but not queued (or queued twice): a second publish of the article is a no-op.
# KEYS: alert hash, alerts by time, jobs stream, counters ; ARGV: alert id, article id, audience,
# priority, the stats field counting alerts.  Returns 1 when queued now, 0 when it existed.
_PUBLISH = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.replicate_commands()
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
redis.call('HSET', KEYS[1], 'article_id', ARGV[2], 'audience', ARGV[3], 'priority', ARGV[4],
  'state', 'queued', 'published_at', now, 'expanded', '0', 'queued', '0', 'sent', '0',
  'blocked', '0', 'failed', '0', 'bad_request', '0', 'skipped', '0')
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('XADD', KEYS[3], '*', 'alert', ARGV[1])
redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
return 1
"""


def alert_route(article: Article) -> tuple[Priority, Audience]:
    """Breaking articles go to every active subscriber first; others to "all news" readers."""
    if article.breaking:
        return Priority.BREAKING, Audience.BREAKING
    return Priority.ROUTINE, Audience.ALL_NEWS


class DeliveryPublisher:
    """The ``AlertPublisher`` of the delivery engine: the alert id is the article id."""

    def __init__(self, redis: Redis, keys: DeliveryKeys) -> None:
        self._keys = keys
        self._publish = redis.register_script(_PUBLISH)

    async def publish(self, article: Article) -> str | None:
        """Queue the push of a stored article once; a repeat returns the same alert id."""
        if not article.id:
            return None
        priority, audience = alert_route(article)
        keys = self._keys
        created = await self._publish(
            keys=[
                keys.alert(article.id),
                keys.alerts_by_time,
                keys.jobs_stream(priority.value),
                keys.counters,
            ],
            args=[
                article.id,
                article.id,
                audience.value,
                priority.value,
                Counter.ALERTS_PUBLISHED.value,
            ],
        )
        if created:
            logger.info("alert %s queued (%s, audience %s)", article.id, priority, audience)
        return article.id
