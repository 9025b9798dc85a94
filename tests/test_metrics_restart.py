"""A restarted API over the same Redis shows the same cluster totals on /metrics."""

from __future__ import annotations

import aiohttp
from redis.asyncio import Redis

from bot.ops.metrics import Metrics
from bot.store import Store
from tests.constants import AUTH
from tests.delivery_e2e_support import READERS, deliveries_settled, delivery_stack
from tests.ingest_support import live_api, metric_value
from tests.waiting import wait_for

TEXT = {**AUTH, "Content-Type": "text/plain"}
ROUTINE = "افتتاح حديقة عامة جديدة\n\nافتتحت البلدية حديقة عامة على مساحة واسعة.".encode()

#: Totals kept in Redis (series, labels): what every API process reads at scrape time.
CLUSTER_TOTALS: list[tuple[str, dict[str, str] | None]] = [
    ("newsbot_articles_stored", None),
    ("newsbot_articles_ingested_total", {"source": "api"}),
    ("newsbot_alerts_published_total", None),
    ("newsbot_messages_sent_total", None),
    ("newsbot_messages_failed_total", {"reason": "blocked"}),
    ("newsbot_telegram_rate_limited_total", None),
    ("newsbot_subscribers_active", None),
]


async def scrape(http: aiohttp.ClientSession, url: str) -> str:
    """GET /metrics of a running API."""
    async with http.get(f"{url}/metrics") as resp:
        assert resp.status == 200
        return await resp.text()


async def test_cluster_totals_survive_an_api_restart(
    redis_url: str, redis: Redis, store: Store, seed_text: str
) -> None:
    async with (
        delivery_stack(store, Metrics()) as stack,
        aiohttp.ClientSession() as http,
    ):
        stack.sandbox.state.block(READERS[1])  # one 403: a failure the totals must keep
        stack.sandbox.state.inject_429(count=1, retry_after=1)
        async with live_api(redis_url) as api:
            for data in (seed_text.encode(), ROUTINE):
                async with http.post(f"{api.url}/api/articles", data=data, headers=TEXT) as resp:
                    assert resp.status == 201
            await wait_for(lambda: deliveries_settled(store), within=20)
            before = await scrape(http, api.url)
        async with live_api(redis_url) as restarted:
            after = await scrape(http, restarted.url)
    values = {name: metric_value(before, name, labels) for name, labels in CLUSTER_TOTALS}
    assert values == {
        "newsbot_articles_stored": 2,
        "newsbot_articles_ingested_total": 2,
        "newsbot_alerts_published_total": 2,
        "newsbot_messages_sent_total": 1,  # the breaking alert, to the reader who did not block
        "newsbot_messages_failed_total": 1,
        "newsbot_telegram_rate_limited_total": 1,
        "newsbot_subscribers_active": 1,
    }
    assert {name: metric_value(after, name, labels) for name, labels in CLUSTER_TOTALS} == values
    # What the old process counted itself (its requests) starts again from zero, by design.
    route = {"method": "POST", "route": "/api/articles", "status": "201"}
    assert metric_value(before, "newsbot_api_requests_total", route) == 2
    assert metric_value(after, "newsbot_api_requests_total", route) is None
