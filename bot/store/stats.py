"""Global counters (articles ingested, alerts published, messages sent...)."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.store.keys import Keys


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
