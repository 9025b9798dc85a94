"""/metrics and /readyz report the truth: numbers checked after real actions against Redis."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.delivery.config import DeliveryConfig
from bot.delivery.metrics import token_listener
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.queue import Queues
from bot.ingest.feeds import FeedOptions, FeedPoller
from bot.models import Article
from bot.ops.health import ReadinessProbe
from bot.ops.metrics import Metrics
from bot.store import Store
from tests.constants import AUTH, BOT_TOKEN
from tests.delivery_e2e_support import READERS, deliveries_settled, delivery_stack
from tests.delivery_support import DKEYS, delivery_reader
from tests.ingest_support import ApiHarness, FeedServer, api_harness, make_settings, metric_value
from tests.waiting import wait_for

TEXT = {**AUTH, "Content-Type": "text/plain"}
ROUTINE = "افتتاح حديقة عامة جديدة\n\nافتتحت البلدية حديقة عامة على مساحة واسعة.".encode()


async def scrape(api: ApiHarness) -> str:
    resp = await api.client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == CONTENT_TYPE_LATEST
    return await resp.text()


@pytest.fixture
async def api(store: Store) -> AsyncIterator[ApiHarness]:
    async with api_harness(store) as harness:
        yield harness


async def test_metrics_count_api_ingestion_alerts_and_queues(
    api: ApiHarness, seed_text: str
) -> None:
    for data in (seed_text.encode(), ROUTINE, seed_text.encode(), b""):
        await api.client.post("/api/articles", data=data, headers=TEXT)
    text = await scrape(api)
    assert metric_value(text, "newsbot_redis_up") == 1
    assert metric_value(text, "newsbot_articles_stored") == 2
    assert metric_value(text, "newsbot_articles_ingested_total", {"source": "api"}) == 2
    assert metric_value(text, "newsbot_articles_ingested_total", {"source": "feed"}) == 0
    assert metric_value(text, "newsbot_articles_ingested_total", {"source": "other"}) == 0
    assert metric_value(text, "newsbot_alerts_published_total") == 2
    assert metric_value(text, "newsbot_queue_depth", {"queue": "jobs:breaking"}) == 1
    assert metric_value(text, "newsbot_queue_depth", {"queue": "jobs:routine"}) == 1
    assert metric_value(text, "newsbot_queue_depth", {"queue": "batches:breaking"}) == 0
    route = {"method": "POST", "route": "/api/articles"}
    assert metric_value(text, "newsbot_api_requests_total", {**route, "status": "201"}) == 2
    assert metric_value(text, "newsbot_api_requests_total", {**route, "status": "200"}) == 1
    assert metric_value(text, "newsbot_api_requests_total", {**route, "status": "400"}) == 1
    assert metric_value(text, "newsbot_api_unhandled_errors_total") == 0


async def test_queue_depths_count_waiting_stream_entries(store: Store) -> None:
    await store.redis.xadd(DKEYS.batches_stream("routine"), {"alert": "x"})
    await store.redis.xadd(DKEYS.batches_stream("routine"), {"alert": "y"})
    assert await delivery_reader(store).queue_depths() == {
        "jobs:breaking": 0,
        "batches:breaking": 0,
        "jobs:routine": 0,
        "batches:routine": 2,
    }


async def test_queue_depths_count_the_batches_of_alerts_in_progress(store: Store) -> None:
    # Batches of an alert being sent live in the alert's own stream: the backlog must show
    # them, or newsbot_queue_depth reads 0 in the middle of a 100,000-reader alert.
    for chat in range(1, 26):
        await store.subscribers.subscribe(chat)
    article = (await store.articles.save(Article(title="عاجل: خبر", breaking=True))).article
    await DeliveryPublisher(store.redis, DKEYS).publish(article)
    config = DeliveryConfig(api_url="http://unused/bot", token="", batch_size=10)
    queues = Queues(store.redis, DKEYS, store.subscribers, config, "worker-a")
    await queues.ensure_groups()
    assert (await delivery_reader(store).queue_depths())["jobs:breaking"] == 1
    (job,) = await queues.read(queues.job_streams(), 1)
    while not (await queues.expand(job)).done:
        pass
    depths = await delivery_reader(store).queue_depths()
    assert depths["batches:breaking"] == 3  # 25 readers in batches of 10
    assert depths["jobs:breaking"] == 0


async def test_metrics_show_what_a_real_worker_did_from_another_process(
    store: Store, seed_text: str
) -> None:
    # The worker reports to its own Metrics, as a `newsbot worker` process would: the API's
    # cluster totals can only come from what the engine wrote to Redis, under its own names.
    worker_metrics = Metrics()
    async with delivery_stack(store, worker_metrics) as stack, api_harness(store) as api:
        reader, blocker = READERS
        stack.sandbox.state.block(blocker)  # the send to them answers 403: marked inactive
        stack.sandbox.state.inject_429(count=1, retry_after=1)  # one 429, then retried
        resp = await api.client.post("/api/articles", data=seed_text.encode(), headers=TEXT)
        assert resp.status == 201
        await stack.sandbox.state.wait_for_bot_messages(reader, 1, timeout=10)
        await wait_for(lambda: deliveries_settled(store), within=10)
        text = await scrape(api)
        assert metric_value(text, "newsbot_delivery_workers_alive") == 1  # a real heartbeat
    assert metric_value(text, "newsbot_alerts_published_total") == 1
    assert metric_value(text, "newsbot_messages_sent_total") == 1
    assert metric_value(text, "newsbot_messages_failed_total", {"reason": "blocked"}) == 1
    assert metric_value(text, "newsbot_messages_failed_total", {"reason": "sent"}) is None
    assert metric_value(text, "newsbot_messages_skipped_total") == 0
    assert metric_value(text, "newsbot_telegram_rate_limited_total") == 1
    assert metric_value(text, "newsbot_subscribers_active") == 1  # the blocker left
    assert metric_value(text, "newsbot_queue_depth", {"queue": "batches:breaking"}) == 0
    # Nothing was delivered by this process: its own delivery metrics stay empty.
    assert metric_value(text, "newsbot_delivery_latency_seconds_count") == 0
    assert metric_value(text, "newsbot_telegram_retry_after_seconds_count") == 0

    # The worker's process saw each event once, through the engine's listener and observer.
    own = worker_metrics.render().decode()
    assert metric_value(own, "newsbot_delivery_latency_seconds_count") == 1
    assert metric_value(own, "newsbot_telegram_retry_after_seconds_count") == 1
    assert metric_value(own, "newsbot_telegram_retry_after_seconds_sum") == 1.0
    failed = "newsbot_process_messages_failed_total"
    assert metric_value(own, failed, {"reason": "blocked"}) == 1
    events = "newsbot_process_delivery_events_total"
    assert metric_value(own, events, {"event": "sent"}) == 1
    assert metric_value(own, events, {"event": "retry_after"}) == 1
    assert metric_value(own, events, {"event": "blocked"}) == 1


async def test_rate_limited_is_exported_as_zero_before_the_first_429(api: ApiHarness) -> None:
    # An absent series cannot be alerted on ("rate(…) > 0" needs a 0 to start from).
    assert metric_value(await scrape(api), "newsbot_telegram_rate_limited_total") == 0


async def test_articles_ingested_without_a_known_source_count_as_other(api: ApiHarness) -> None:
    await api.services.ingestor.ingest_bytes(ROUTINE)  # e.g. an older tool: no source given
    text = await scrape(api)
    assert metric_value(text, "newsbot_articles_ingested_total", {"source": "other"}) == 1
    assert metric_value(text, "newsbot_articles_ingested_total", {"source": "api"}) == 0


FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>نشرة</title>'
    "<item><title>خبر عن السوق</title><guid>1</guid>"
    "<description>نص الخبر عن السوق.</description></item></channel></rss>"
).encode()


async def test_feed_polls_show_in_metrics_and_readiness(
    store: Store, feed_server: FeedServer
) -> None:
    good = feed_server.put("/good.xml", FEED)
    bad = feed_server.put("/bad.xml", b"", status=500)
    settings = make_settings(feeds=f"{good},{bad}")
    metrics = Metrics()  # shared by the poller and the app, as in `newsbot run`
    readiness = ReadinessProbe(store, feeds=settings.feeds, require_telegram=False, delivery=None)
    async with (
        api_harness(store, settings, readiness=readiness, metrics=metrics) as api,
        aiohttp.ClientSession() as http,
    ):
        poller = FeedPoller(settings, api.services, http, metrics, options=FeedOptions())
        await poller.poll_all()
        text = await scrape(api)
        polls = "newsbot_feed_polls_total"
        assert metric_value(text, polls, {"feed": good, "outcome": "ok"}) == 1
        assert metric_value(text, polls, {"feed": bad, "outcome": "error"}) == 1
        assert metric_value(text, "newsbot_feed_consecutive_errors", {"feed": bad}) == 1
        assert metric_value(text, "newsbot_feed_consecutive_errors", {"feed": good}) == 0
        entries = "newsbot_feed_entries_total"
        assert metric_value(text, entries, {"feed": good, "outcome": "recorded"}) == 1
        assert metric_value(text, "newsbot_articles_ingested_total", {"source": "feed"}) == 1
        assert metric_value(text, "newsbot_articles_stored") == 1

        resp = await api.client.get("/readyz", headers=AUTH)
        body = await resp.json()
        # A broken outside feed is listed but does not make newsbot unready.
        assert resp.status == 200 and body["status"] == "ready"
        failing = body["checks"]["feeds"]["failing"]
        assert [f["url"] for f in failing] == [bad]
        assert failing[0]["errors"] == 1 and "HTTP 500" in failing[0]["last_error"]
        assert body["checks"]["feeds"]["configured"] == 2 and "workers" not in body["checks"]

        # Without the token: the same verdict and counts, but no URL and no error text.
        resp = await api.client.get("/readyz")
        public = await resp.text()
        assert resp.status == 200 and json.loads(public)["status"] == "ready"
        feeds = json.loads(public)["checks"]["feeds"]
        assert feeds == {"ok": False, "configured": 2, "failing_count": 1}
        assert bad not in public and "HTTP 500" not in public


async def test_readiness_needs_telegram_and_a_live_worker(store: Store) -> None:
    # As in production: getMe and heartbeats required.
    readiness = ReadinessProbe(store, delivery=delivery_reader(store))
    async with api_harness(store, readiness=readiness) as api:

        async def readyz() -> tuple[int, dict[str, Any]]:
            resp = await api.client.get("/readyz", headers=AUTH)
            return resp.status, await resp.json()

        status, body = await readyz()
        assert status == 503 and body["status"] == "not_ready"
        assert body["checks"]["redis"] == {"ok": True}
        assert body["checks"]["telegram"]["ok"] is False
        assert body["checks"]["workers"] == {
            "ok": False,
            "alive": 0,
            "error": "no delivery worker has a fresh heartbeat",
        }

        readiness.telegram_ready("newsbot_test_bot")
        async with delivery_stack(store, Metrics()):  # a real worker and its heartbeat

            async def ready() -> bool:
                return (await readyz())[0] == 200

            await wait_for(ready)
            status, body = await readyz()
            assert body["status"] == "ready"
            assert body["checks"]["telegram"] == {"ok": True, "detail": "@newsbot_test_bot"}
            assert body["checks"]["workers"] == {"ok": True, "alive": 1}

            readiness.telegram_failed("Unauthorized: the token was revoked")
            status, body = await readyz()
            assert status == 503 and body["checks"]["telegram"]["detail"].startswith("Unauth")
            public = await api.client.get("/readyz")  # a probe: same verdict, no reason text
            assert public.status == 503
            assert (await public.json())["checks"]["telegram"] == {"ok": False}
            readiness.telegram_ready()
            assert (await readyz())[0] == 200

        # The worker stopped (and said so in Redis): not ready any more.
        status, body = await readyz()
        assert status == 503 and body["checks"]["workers"]["alive"] == 0


async def test_readyz_turns_unready_while_delivery_finds_the_token_rejected(
    store: Store, seed_text: str
) -> None:
    readiness = ReadinessProbe(store, delivery=None)
    readiness.telegram_ready("newsbot_sandbox_bot")
    # Wired as `newsbot run` wires it (bot.runtime.run_bot).
    token_ok = functools.partial(readiness.telegram_ready, "newsbot_sandbox_bot")
    listener = token_listener(readiness.telegram_failed, token_ok)
    async with (
        delivery_stack(store, Metrics(), listeners=[listener], invalid_token_pause=0.2) as stack,
        api_harness(store, readiness=readiness) as api,
    ):

        async def readyz_status() -> int:
            return (await api.client.get("/readyz")).status

        assert await readyz_status() == 200
        stack.sandbox.state.configure(rejected_tokens={BOT_TOKEN})  # revoked in @BotFather
        resp = await api.client.post("/api/articles", data=seed_text.encode(), headers=TEXT)
        assert resp.status == 201

        await wait_for(lambda: _is(readyz_status(), 503))
        body = await (await api.client.get("/readyz", headers=AUTH)).json()
        assert body["checks"]["telegram"]["ok"] is False
        assert "rejected the bot token" in body["checks"]["telegram"]["detail"]
        assert all(stack.messages(chat) == [] for chat in READERS)

        stack.sandbox.state.configure(rejected_tokens=set())  # a valid token again
        for chat in READERS:  # nothing was lost: the alert goes out after the pause
            await stack.sandbox.state.wait_for_bot_messages(chat, 1, timeout=10)
        await wait_for(lambda: _is(readyz_status(), 200))
        body = await (await api.client.get("/readyz", headers=AUTH)).json()
        assert body["checks"]["telegram"] == {"ok": True, "detail": "@newsbot_sandbox_bot"}


async def _is(status: Awaitable[int], wanted: int) -> bool:
    return await status == wanted


async def test_redis_down_shows_in_readyz_and_metrics() -> None:
    dead = Redis(
        host="127.0.0.1",
        port=9,  # nothing listens on the discard port
        socket_connect_timeout=0.2,
        decode_responses=True,
        retry=Retry(NoBackoff(), 0),
    )
    store = Store.create(dead)
    readiness = ReadinessProbe(store, require_telegram=False, timeout=1.0)
    try:
        async with api_harness(store, readiness=readiness) as api:
            assert (await api.client.get("/healthz")).status == 200  # alive, not ready
            resp = await api.client.get("/readyz", headers=AUTH)
            assert resp.status == 503
            checks = (await resp.json())["checks"]
            assert checks["redis"]["ok"] is False and checks["redis"]["error"]
            text = await scrape(api)
            assert metric_value(text, "newsbot_redis_up") == 0
            assert metric_value(text, "newsbot_articles_stored") is None  # no stale numbers
            # An outage is a 503 the client may retry, not a bug-500.
            resp = await api.client.get("/api/articles", headers=AUTH)
            assert resp.status == 503 and resp.headers["Retry-After"] == "5"
            assert json.loads(await resp.text())["code"] == "store_unavailable"
            resp = await api.client.post(
                "/api/articles", data=ROUTINE, headers={**AUTH, "Content-Type": "text/plain"}
            )
            assert resp.status == 503
            assert metric_value(await scrape(api), "newsbot_api_unhandled_errors_total") == 0
    finally:
        await dead.aclose()
