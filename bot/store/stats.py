"""Global counters (articles ingested, alerts published, messages sent...) and their names.

The names of the ``stats`` hash fields are defined here only: the store's and the delivery
engine's Lua scripts get them as arguments, and whoever reads the counters (metrics, ``/stats``)
uses the same constants and helpers.
"""

from __future__ import annotations

from enum import StrEnum

from redis.asyncio import Redis

from bot.store.keys import Keys

#: Prefix of the per-source ingestion counters (``ingested:api``, ``ingested:feed``...).
INGESTED_PREFIX = "ingested:"
#: Prefix of the per-outcome message counters (``messages_sent``, ``messages_blocked``...).
MESSAGES_PREFIX = "messages_"


class StatField(StrEnum):
    """The fixed counters of the ``stats`` hash."""

    #: Articles created (all sources; a repeat of a stored article is not counted).
    ARTICLES_INGESTED = "articles_ingested"
    #: Alerts queued (one per article at most).
    ALERTS_PUBLISHED = "alerts_published"
    #: 429 answers from Telegram to the delivery workers.
    RATE_LIMITED = "rate_limited"


def ingested_field(source: str) -> str:
    """The counter of articles created from ``source`` (api, feed, cli, telegram...)."""
    return f"{INGESTED_PREFIX}{source}"


def messages_field(outcome: str) -> str:
    """The counter of messages that ended with ``outcome`` (sent, blocked, failed...)."""
    return f"{MESSAGES_PREFIX}{outcome}"


def messages_outcome(field: str) -> str | None:
    """The outcome a ``messages_<outcome>`` counter counts, or ``None`` for other fields."""
    return field.removeprefix(MESSAGES_PREFIX) if field.startswith(MESSAGES_PREFIX) else None


class StatsStore:
    """Monotonic counters kept in one Redis hash."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def incr(self, name: str, amount: int = 1) -> int:
        """Add to a counter and return its new value."""
        return int(await self._redis.hincrby(self._keys.stats, name, amount))

    async def all(self) -> dict[str, int]:
        """Every counter."""
        raw = await self._redis.hgetall(self._keys.stats)
        return {str(name): int(value) for name, value in raw.items()}
