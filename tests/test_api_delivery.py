"""End to end: a CMS retrying the seed article → every subscriber gets exactly one alert."""

from __future__ import annotations

import asyncio

from bot.ops.health import ReadinessProbe
from bot.ops.metrics import Metrics
from bot.store import Store
from tests.constants import AUTH
from tests.delivery_e2e_support import READERS, deliveries_settled, delivery_stack
from tests.delivery_support import delivery_reader
from tests.ingest_support import api_harness, metric_value
from tests.waiting import wait_for

TEXT = {**AUTH, "Content-Type": "text/plain; charset=utf-8"}


async def test_retried_and_concurrent_posts_deliver_one_alert_per_subscriber(
    store: Store, seed_text: str
) -> None:
    metrics = Metrics()
    readiness = ReadinessProbe(store, delivery=delivery_reader(store))
    readiness.telegram_ready("newsbot_sandbox_bot")
    async with (
        delivery_stack(store, metrics) as stack,
        api_harness(store, metrics=metrics, readiness=readiness) as api,
    ):

        async def post() -> tuple[int, dict[str, object]]:
            resp = await api.client.post("/api/articles", data=seed_text.encode(), headers=TEXT)
            return resp.status, await resp.json()

        concurrent = await asyncio.gather(*(post() for _ in range(5)))
        retries = [await post() for _ in range(5)]
        statuses = sorted(status for status, _ in concurrent + retries)
        assert statuses == [200] * 9 + [201]
        ids = {body["id"] for _, body in concurrent + retries}
        alerts = {body["alert"] for _, body in concurrent + retries}
        assert len(ids) == 1 and alerts == ids
        alert_id = alerts.pop()

        for chat in READERS:
            await stack.sandbox.state.wait_for_bot_messages(chat, 1, timeout=10)
        # The alert is done (one outcome per reader) and no delivery work waits: nothing can
        # be sent any more, so a duplicate would be in the chats now.
        await wait_for(lambda: deliveries_settled(store), within=10)
        for chat in READERS:
            messages = stack.messages(chat)
            assert len(messages) == 1 and "بايدن يحذر نتنياهو" in messages[0]

        status = await (await api.client.get(f"/api/alerts/{alert_id}", headers=AUTH)).json()
        assert status["state"] == "done" and status["sent"] == len(READERS)
        assert status["queued"] == len(READERS) and status["pending"] == 0

        text = await (await api.client.get("/metrics")).text()
        assert metric_value(text, "newsbot_alerts_published_total") == 1
        assert metric_value(text, "newsbot_messages_sent_total") == len(READERS)
        assert metric_value(text, "newsbot_articles_ingested_total", {"source": "api"}) == 1
        assert metric_value(text, "newsbot_delivery_workers_alive") == 1
        assert metric_value(text, "newsbot_subscribers_active") == len(READERS)
        events = "newsbot_process_delivery_events_total"
        assert metric_value(text, events, {"event": "sent"}) == len(READERS)
        queue = "newsbot_queue_depth"
        assert metric_value(text, queue, {"queue": "jobs:breaking"}) == 0
        assert metric_value(text, queue, {"queue": "batches:breaking"}) == 0

        ready = await api.client.get("/readyz")
        assert ready.status == 200
        assert (await ready.json())["checks"]["workers"]["alive"] == 1
