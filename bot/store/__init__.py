"""The Redis store: the only place that knows Redis keys; returns models, never bytes."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.models import Audience, SubscribeResult  # re-exported: callers import them from here
from bot.store.articles import ArticleStore, SaveResult
from bot.store.feeds import FeedState, FeedStore
from bot.store.keys import Keys
from bot.store.pending import PendingStore, Taken
from bot.store.stats import StatsStore
from bot.store.stories import ArticleView, StoryError, StoryStore
from bot.store.subscribers import SubscriberStore


@dataclass(frozen=True)
class Store:
    """All stores over one Redis client and namespace."""

    redis: Redis
    keys: Keys
    articles: ArticleStore
    stories: StoryStore
    subscribers: SubscriberStore
    stats: StatsStore
    feeds: FeedStore
    pending: PendingStore

    @classmethod
    def create(cls, redis: Redis, namespace: str = "newsbot") -> Store:
        """Build every store over one client."""
        keys = Keys(namespace)
        articles = ArticleStore(redis, keys)
        return cls(
            redis=redis,
            keys=keys,
            articles=articles,
            stories=StoryStore(redis, keys, articles),
            subscribers=SubscriberStore(redis, keys),
            stats=StatsStore(redis, keys),
            feeds=FeedStore(redis, keys),
            pending=PendingStore(redis, keys),
        )


__all__ = [
    "ArticleStore",
    "ArticleView",
    "Audience",
    "FeedState",
    "FeedStore",
    "Keys",
    "PendingStore",
    "SaveResult",
    "StatsStore",
    "Store",
    "StoryError",
    "StoryStore",
    "SubscribeResult",
    "SubscriberStore",
    "Taken",
]
