"""A running delivery engine on the Telegram sandbox, for the ingestion end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from bot.delivery.config import DeliveryConfig
from bot.delivery.metrics import DeliveryMetrics, Listener
from bot.ops.metrics import Metrics
from bot.store import Store
from sandbox import SandboxServer
from tests.constants import BOT_TOKEN
from tests.delivery_support import delivery_reader, engine

READERS = (2001, 2002)


@dataclass(frozen=True)
class DeliveryStack:
    """The sandbox (simulated Telegram), two subscribed readers and a running worker."""

    sandbox: SandboxServer
    metrics: Metrics

    def messages(self, chat_id: int) -> list[str]:
        """The visible text of every message the bot sent to a reader."""
        return [m.visible_text for m in self.sandbox.state.bot_messages(chat_id)]


@contextlib.asynccontextmanager
async def delivery_stack(
    store: Store,
    metrics: Metrics,
    *,
    listeners: Iterable[Listener] = (),
    **config: Any,
) -> AsyncIterator[DeliveryStack]:
    """Start the sandbox, subscribe the readers and run one delivery worker against it.

    ``listeners`` also hear the engine's events; ``config`` overrides ``DeliveryConfig`` fields.
    """
    sandbox = SandboxServer()
    await sandbox.start()
    stop = asyncio.Event()
    task: asyncio.Task[None] | None = None
    try:
        for chat_id in READERS:
            sandbox.state.add_user(chat_id, f"قارئ {chat_id}")
            await store.subscribers.subscribe(chat_id)
        counters = DeliveryMetrics()
        metrics.follow(counters)
        for listener in listeners:
            counters.add_listener(listener)
        settings = {"claim_idle": 5.0, **config}
        delivery = DeliveryConfig(api_url=sandbox.api_url, token=BOT_TOKEN, **settings)
        service = engine(store, delivery, workers=1, metrics=counters)
        task = asyncio.create_task(service.run(stop))
        yield DeliveryStack(sandbox, metrics)
    finally:
        stop.set()
        if task is not None:
            await asyncio.wait_for(task, 10)
        await sandbox.stop()


async def deliveries_settled(store: Store) -> bool:
    """Every alert published so far is done (each chat has its one outcome), no work waits.

    Once this holds nothing more can be sent until something new is published: the point at
    which a test may check that a duplicate did *not* happen.
    """
    reader = delivery_reader(store)
    alerts = await reader.recent_alerts(1000)
    if not all(a.state == "done" and a.pending == 0 for a in alerts):
        return False
    return not any((await reader.queue_depths()).values())
