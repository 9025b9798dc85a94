"""Wiring: the one place that builds Redis, the store, the pipeline and the services."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.pipeline import AlertPublisher, Ingestor
from bot.redis_conn import open_redis
from bot.store import Store
from config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What every entry point needs: the store, the alert publisher and the ingestor."""

    settings: Settings
    store: Store
    publisher: AlertPublisher
    ingestor: Ingestor


@contextlib.asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """Connect to Redis (external or embedded) and yield the store."""
    async with open_redis(settings) as redis:
        yield Store.create(redis, settings.redis_namespace)


def build_services(settings: Settings, store: Store) -> Services:
    """Build the publisher and the ingestor over a store."""
    from bot.delivery.publisher import DeliveryPublisher

    publisher = DeliveryPublisher(store)
    ingestor = Ingestor(store, publisher, max_bytes=settings.max_article_bytes)
    return Services(settings=settings, store=store, publisher=publisher, ingestor=ingestor)


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Connect to Redis and yield the wired services."""
    async with open_store(settings) as store:
        yield build_services(settings, store)
