"""The one read API of the delivery engine: alert progress, queue depths, live workers, counters.

Whoever shows delivery state (``newsbot status``, ``/stats``, the newsroom API, ``/metrics``,
``/readyz``) reads it here, so the engine's keys and their meaning stay inside the engine.
"""

from __future__ import annotations

from redis.asyncio import Redis

from bot.delivery.codec import as_text, as_text_map
from bot.delivery.config import PRIORITIES
from bot.delivery.keys import DeliveryKeys
from bot.delivery.status import AlertStatus
from bot.store import ArticleStore


class DeliveryReader:
    """Read-only views of the engine's state in Redis."""

    def __init__(self, redis: Redis, keys: DeliveryKeys, articles: ArticleStore) -> None:
        self._redis = redis
        self._keys = keys
        self._articles = articles

    async def alert_status(self, alert_id: str) -> AlertStatus | None:
        """The progress of one alert (with its corrections, retraction and updates in
        ``actions``), or ``None`` for an unknown id."""
        data = as_text_map(await self._redis.hgetall(self._keys.alert(alert_id)))
        if not data:
            return None
        article = await self._articles.get(data.get("article_id", alert_id))
        status = AlertStatus.from_hash(alert_id, data, article.title if article else None)
        if status.kind != "alert":
            return status
        ids = [
            as_text(i) for i in await self._redis.lrange(self._keys.alert_actions(alert_id), 0, -1)
        ]
        if ids:
            async with self._redis.pipeline(transaction=False) as pipe:
                for action_id in ids:
                    pipe.hgetall(self._keys.alert(action_id))
                rows = await pipe.execute()
            status.actions = [
                AlertStatus.from_hash(action_id, as_text_map(row), status.title)
                for action_id, row in zip(ids, rows, strict=True)
                if row
            ]
        return status

    async def recent_alerts(self, n: int = 5) -> list[AlertStatus]:
        """The ``n`` most recently published alerts, newest first."""
        if n <= 0:
            return []
        ids = await self._redis.zrevrange(self._keys.alerts_by_time, 0, n - 1)
        statuses = [await self.alert_status(as_text(alert_id)) for alert_id in ids]
        return [s for s in statuses if s is not None]

    async def live_workers(self) -> list[str]:
        """Ids of the delivery workers whose heartbeat has not expired."""
        ids = await self._redis.zrange(self._keys.workers, 0, -1)
        if not ids:
            return []
        names = [as_text(i) for i in ids]
        alive = await self._redis.mget([self._keys.worker_heartbeat(n) for n in names])
        return [n for n, beat in zip(names, alive, strict=True) if beat is not None]

    async def live_worker_count(self) -> int:
        """How many delivery workers have a fresh heartbeat, in every process."""
        return len(await self.live_workers())

    async def token_rejected(self) -> str | None:
        """Why sending is paused for every worker (the bot token was rejected), or ``None``."""
        reason = await self._redis.get(self._keys.token_rejected)
        return None if reason is None else as_text(reason)

    async def counters(self) -> dict[str, int]:
        """The engine's counters: ``alerts_published``, ``messages_<outcome>``, ``rate_limited``."""
        raw = await self._redis.hgetall(self._keys.counters)
        return {as_text(name): int(value) for name, value in raw.items()}

    async def queue_depths(self) -> dict[str, int]:
        """Unfinished entries per delivery queue (``jobs:breaking``, ``batches:routine``, ...).

        Workers delete entries once done, so a stream's length is its backlog. Batches live in
        one stream per alert in progress (plus the shared stream of older versions): summed.
        """
        keys = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for priority in PRIORITIES:
                pipe.zrange(keys.active_alerts(priority.value), 0, -1)
            active = await pipe.execute()
        names: list[str] = []
        async with self._redis.pipeline(transaction=False) as pipe:
            for priority, alert_ids in zip(PRIORITIES, active, strict=True):
                names.append(f"jobs:{priority.value}")
                pipe.xlen(keys.jobs_stream(priority.value))
                names.append(f"batches:{priority.value}")
                pipe.xlen(keys.batches_stream(priority.value))
                for alert_id in alert_ids:
                    names.append(f"batches:{priority.value}")
                    pipe.xlen(keys.alert_batches(priority.value, as_text(alert_id)))
            lengths = await pipe.execute()
        depths: dict[str, int] = {}
        for name, length in zip(names, lengths, strict=True):
            depths[name] = depths.get(name, 0) + int(length)
        return depths
