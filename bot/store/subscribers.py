"""Subscribers in Redis: subscribe, leave, preferences, and streaming iteration by chat id."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from redis.asyncio import Redis

# SubscribeResult and Audience live in bot.models (formatters use them without Redis).
from bot.models import Audience, ChatKind, Preference, Subscriber, SubscribeResult
from bot.store.keys import Keys

# KEYS: sub hash, active zset, all-news zset ; ARGV: chat id, kind, now
# Returns 1 for a new subscriber, 2 for a reactivated one, 0 when already active.
_SUBSCRIBE_SCRIPT = """
local active = redis.call('HGET', KEYS[1], 'active')
local pref = redis.call('HGET', KEYS[1], 'pref') or 'breaking'
redis.call('HSET', KEYS[1], 'kind', ARGV[2], 'active', '1', 'pref', pref)
redis.call('HDEL', KEYS[1], 'reason')
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
if pref == 'all' then redis.call('ZADD', KEYS[3], ARGV[1], ARGV[1]) end
if active == '1' then return 0 end
if not active then
  redis.call('HSET', KEYS[1], 'since', ARGV[3])
  return 1
end
return 2
"""

# KEYS: sub hash, active zset, all-news zset, reasons hash ; ARGV: chat id, reason
# Returns 1 when the chat was active and is now inactive, 0 otherwise.
_DEACTIVATE_SCRIPT = """
if redis.call('HGET', KEYS[1], 'active') ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'active', '0', 'reason', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[4], ARGV[2], 1)
return 1
"""

# KEYS: sub hash, all-news zset ; ARGV: chat id, preference
_PREFERENCE_SCRIPT = """
if not redis.call('HGET', KEYS[1], 'active') then return 0 end
redis.call('HSET', KEYS[1], 'pref', ARGV[2])
if ARGV[2] == 'all' and redis.call('HGET', KEYS[1], 'active') == '1' then
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""

PAGE_SIZE = 1000


class SubscriberStore:
    """Stores the chats that receive news and their preferences."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._subscribe = redis.register_script(_SUBSCRIBE_SCRIPT)
        self._deactivate = redis.register_script(_DEACTIVATE_SCRIPT)
        self._preference = redis.register_script(_PREFERENCE_SCRIPT)

    async def subscribe(self, chat_id: int, kind: ChatKind = ChatKind.PRIVATE) -> SubscribeResult:
        """Add or reactivate a chat (idempotent); its preference is kept across leave/rejoin."""
        code = await self._subscribe(
            keys=[
                self._keys.subscriber(chat_id),
                self._keys.subscribers_active,
                self._keys.subscribers_all_news,
            ],
            args=[chat_id, kind.value, f"{time.time():.3f}"],
        )
        return {1: SubscribeResult.NEW, 2: SubscribeResult.REACTIVATED}.get(
            int(code), SubscribeResult.ALREADY
        )

    async def unsubscribe(self, chat_id: int) -> bool:
        """Stop sending to a chat at its own request; ``False`` if it was not subscribed."""
        return await self.deactivate(chat_id, "unsubscribed")

    async def deactivate(self, chat_id: int, reason: str) -> bool:
        """Mark a chat inactive (left, blocked the bot, deleted...); ``False`` if already so."""
        code = await self._deactivate(
            keys=[
                self._keys.subscriber(chat_id),
                self._keys.subscribers_active,
                self._keys.subscribers_all_news,
                self._keys.subscribers_inactive,
            ],
            args=[chat_id, reason],
        )
        return bool(code)

    async def set_preference(self, chat_id: int, preference: Preference) -> bool:
        """Choose breaking-only or all news; ``False`` for a chat that never subscribed."""
        code = await self._preference(
            keys=[self._keys.subscriber(chat_id), self._keys.subscribers_all_news],
            args=[chat_id, preference.value],
        )
        return bool(code)

    async def get(self, chat_id: int) -> Subscriber | None:
        """One subscriber (active or not), or ``None`` for a chat never seen."""
        raw = await self._redis.hgetall(self._keys.subscriber(chat_id))
        data = {str(k): str(v) for k, v in raw.items()}
        if not data:
            return None
        since = data.get("since")
        return Subscriber(
            chat_id=chat_id,
            kind=ChatKind(data.get("kind", ChatKind.PRIVATE.value)),
            preference=Preference(data.get("pref", Preference.BREAKING.value)),
            active=data.get("active") == "1",
            subscribed_at=datetime.fromtimestamp(float(since), UTC) if since else None,
            inactive_reason=data.get("reason"),
        )

    async def kinds(self, chat_ids: list[int]) -> dict[int, ChatKind]:
        """The chat kind of each chat id (private when unknown), in one round trip."""
        if not chat_ids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for chat_id in chat_ids:
                pipe.hget(self._keys.subscriber(chat_id), "kind")
            values = await pipe.execute()
        return {
            chat_id: ChatKind(value) if value else ChatKind.PRIVATE
            for chat_id, value in zip(chat_ids, values, strict=True)
        }

    async def count(self, audience: Audience = Audience.BREAKING) -> int:
        """How many active chats are in an audience."""
        return int(await self._redis.zcard(self._zset(audience)))

    async def inactive_reasons(self) -> dict[str, int]:
        """How many chats became inactive, by reason (counted when it happened)."""
        raw = await self._redis.hgetall(self._keys.subscribers_inactive)
        return {str(reason): int(n) for reason, n in raw.items()}

    async def page(
        self, audience: Audience, *, after: int | None = None, count: int = PAGE_SIZE
    ) -> list[int]:
        """Up to ``count`` active chat ids above ``after``, ascending: a resumable cursor."""
        low = "-inf" if after is None else f"({after}"
        ids = await self._redis.zrangebyscore(self._zset(audience), low, "+inf", start=0, num=count)
        return [int(str(i)) for i in ids]

    async def members(self, audience: Audience, chat_ids: list[int]) -> list[bool]:
        """Whether each chat is in the audience now, in one round trip."""
        if not chat_ids:
            return []
        scores = await self._redis.zmscore(self._zset(audience), [str(c) for c in chat_ids])
        return [score is not None for score in scores]

    async def reachable(self, chat_ids: list[int]) -> list[bool]:
        """Whether the bot may still write to each chat (for corrections of what it received).

        Active chats, and chats that left with ``/stop`` (they still have the alert on their
        screen, so its correction must reach them); not chats that blocked the bot, were
        deactivated or removed it. One round trip.
        """
        if not chat_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for chat_id in chat_ids:
                pipe.hmget(self._keys.subscriber(chat_id), ["active", "reason"])
            rows = await pipe.execute()
        return [
            active is None or str(active) == "1" or str(reason) == "unsubscribed"
            for active, reason in rows
        ]

    async def iterate(
        self, audience: Audience = Audience.BREAKING, *, page_size: int = PAGE_SIZE
    ) -> AsyncIterator[list[int]]:
        """Stream the audience page by page; memory stays flat however many subscribers exist."""
        after: int | None = None
        while True:
            ids = await self.page(audience, after=after, count=page_size)
            if not ids:
                return
            yield ids
            after = ids[-1]

    def _zset(self, audience: Audience) -> str:
        if audience is Audience.ALL_NEWS:
            return self._keys.subscribers_all_news
        return self._keys.subscribers_active
