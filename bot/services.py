"""What every entry point needs, as one value: settings, store, ingestor and the delivery views.

Built by the composition root (``bot.runtime``) only; handlers, the newsroom API and the CLI
receive it. This module imports no entry point, so anything may import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.delivery.reader import DeliveryReader
from bot.newsroom import StoryDesk
from bot.pipeline import AlertPublisher, Ingestor
from bot.store import Store
from config import Settings


@dataclass(frozen=True)
class Services:
    """The store, the ingestion pipeline, the alert publisher, the delivery read API and the
    story desk (corrections, updates, retractions)."""

    settings: Settings
    store: Store
    publisher: AlertPublisher
    ingestor: Ingestor
    delivery: DeliveryReader
    stories: StoryDesk
