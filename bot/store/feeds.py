"""Per-feed state in Redis: HTTP validators, error streak, seen entries, known feeds."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bot.store.keys import Keys

#: Seen entries that have not been in the feed for this long are forgotten (bounded memory);
#: should one come back, the store's URL/content idempotency still prevents a duplicate.
SEEN_RETENTION_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class TakenItem:
    """A feed entry taken in: the article it became and the digest of its content then."""

    article_id: str
    digest: str


@dataclass(frozen=True)
class FeedState:
    """What newsbot remembers about one feed between polls (and across restarts)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    errors: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    last_ok_at: float | None = None
    last_poll_at: float | None = None

    @property
    def failing(self) -> bool:
        """Whether the most recent poll(s) failed."""
        return self.errors > 0


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _float(value: str | None) -> float | None:
    return float(value) if value else None


def _state(url: str, stored: Mapping[bytes | str, bytes | str]) -> FeedState:
    raw = {_text(k): _text(v) for k, v in stored.items()}
    return FeedState(
        url=url,
        etag=raw.get("etag") or None,
        last_modified=raw.get("last_modified") or None,
        title=raw.get("title") or None,
        errors=int(raw.get("errors") or 0),
        last_error=raw.get("last_error") or None,
        last_error_at=_float(raw.get("last_error_at")),
        last_ok_at=_float(raw.get("last_ok_at")),
        last_poll_at=_float(raw.get("last_poll_at")),
    )


class FeedStore:
    """Reads and writes feed state; the only code that touches the feed keys."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def get(self, url: str) -> FeedState:
        """The stored state of a feed (empty for a feed never polled)."""
        return _state(url, await self._redis.hgetall(self._keys.feed_state(url)))

    async def get_many(self, urls: Sequence[str]) -> list[FeedState]:
        """The states of several feeds, in order (one round trip)."""
        if not urls:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for url in urls:
                pipe.hgetall(self._keys.feed_state(url))
            stored = await pipe.execute()
        return [_state(url, raw) for url, raw in zip(urls, stored, strict=True)]

    async def record_success(
        self,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        title: str | None,
        now: float | None = None,
    ) -> None:
        """A poll that got the feed (200 or 304): validators kept, error streak reset."""
        now = time.time() if now is None else now
        key = self._keys.feed_state(url)
        mapping: dict[FieldT, EncodableT] = {"errors": 0, "last_ok_at": now, "last_poll_at": now}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=mapping)
            if etag is not None or last_modified is not None:
                # A 200 without validators must clear old ones, or every poll would be a 304
                # against a stale ETag; a 304 passes the ones it was asked with.
                pipe.hset(key, mapping={"etag": etag or "", "last_modified": last_modified or ""})
            else:
                pipe.hdel(key, "etag", "last_modified")
            if title:
                pipe.hset(key, "title", title)
            await pipe.execute()

    async def record_error(self, url: str, message: str, *, now: float | None = None) -> int:
        """A failed poll; returns the length of the error streak."""
        now = time.time() if now is None else now
        key = self._keys.feed_state(url)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "errors", 1)
            pipe.hset(
                key, mapping={"last_error": message, "last_error_at": now, "last_poll_at": now}
            )
            errors, _ = await pipe.execute()
        return int(errors)

    async def unseen(self, url: str, entry_keys: list[str]) -> list[str]:
        """The entry keys not yet taken from this feed, in the given order."""
        if not entry_keys:
            return []
        scores = await self._redis.zmscore(self._keys.feed_seen(url), entry_keys)
        return [k for k, score in zip(entry_keys, scores, strict=True) if score is None]

    async def mark_seen(self, url: str, entry_keys: list[str], *, now: float | None = None) -> None:
        """Remember entries as taken (or refresh their last-seen time)."""
        if entry_keys:
            now = time.time() if now is None else now
            await self._redis.zadd(self._keys.feed_seen(url), dict.fromkeys(entry_keys, now))

    async def prune_seen(self, url: str, *, now: float | None = None) -> int:
        """Forget entries (and what they became) not in the feed for the retention period."""
        cutoff = (time.time() if now is None else now) - SEEN_RETENTION_SECONDS
        seen = self._keys.feed_seen(url)
        gone = [_text(k) for k in await self._redis.zrangebyscore(seen, "-inf", cutoff)]
        if not gone:
            return 0
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(seen, *gone)
            pipe.hdel(self._keys.feed_items(url), *gone)
            removed, _ = await pipe.execute()
        return int(removed)

    async def taken_items(self, url: str, entry_keys: list[str]) -> dict[str, TakenItem]:
        """What the given entries became when taken in (entries without a record left out)."""
        if not entry_keys:
            return {}
        raws = await self._redis.hmget(self._keys.feed_items(url), entry_keys)
        out: dict[str, TakenItem] = {}
        for key, raw in zip(entry_keys, raws, strict=True):
            article_id, _, digest = _text(raw).partition(" ") if raw is not None else ("", "", "")
            if article_id and digest:
                out[key] = TakenItem(article_id, digest)
        return out

    async def remember_item(self, url: str, entry_key: str, item: TakenItem) -> None:
        """Record the article an entry became and the digest of its content now."""
        value = f"{item.article_id} {item.digest}"
        await self._redis.hset(self._keys.feed_items(url), entry_key, value)

    async def seen_count(self, url: str) -> int:
        """How many entries of this feed are remembered."""
        return int(await self._redis.zcard(self._keys.feed_seen(url)))

    async def is_known(self, url: str) -> bool:
        """Whether this feed has been read successfully before (its old items are recorded)."""
        return bool(await self._redis.sismember(self._keys.feeds_known, url))

    async def mark_known(self, url: str) -> None:
        """Record that the feed's existing items have been taken in."""
        await self._redis.sadd(self._keys.feeds_known, url)
