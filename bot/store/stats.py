"""The store's counters (articles ingested, per source) and their names.

The names of the ``stats`` hash fields are defined here only: the store's Lua scripts get them
as arguments, and whoever reads the counters (metrics, ``/stats``) uses the same constants and
helpers. The delivery engine keeps its own counters (``bot.delivery.counters``).
"""

from __future__ import annotations

from enum import StrEnum

from redis.asyncio import Redis

from bot.store.keys import Keys

#: Prefix of the per-source ingestion counters (``ingested:api``, ``ingested:feed``...).
INGESTED_PREFIX = "ingested:"


class StatField(StrEnum):
    """The fixed counters of the ``stats`` hash."""

    #: Articles created (all sources; a repeat of a stored article is not counted).
    ARTICLES_INGESTED = "articles_ingested"


def ingested_field(source: str) -> str:
    """The counter of articles created from ``source`` (api, feed, cli, telegram...)."""
    return f"{INGESTED_PREFIX}{source}"


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
