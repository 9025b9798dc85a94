"""One alert to ever larger audiences: Redis memory per subscriber, engine RSS over time.

Against the instant stub at a raised rate (the engine's own ceiling), for each size in
``--sizes``: the database emptied, the audience subscribed, one breaking alert sent.  Memory
per subscriber is Redis' ``used_memory`` after subscribing over the audience; during the alert
the outcomes (one hash field per chat, kept 7 days for idempotent replays) add to it.  The
engine's RSS is sampled every second from the publish to the last outcome.  The time at
1,000 msg/s is the audience over the limiter's spacing (1,000 × 0.97 msg/s), valid when the
measured rate is above it.  The baseline is the smallest size: RSS growth at 100,000 or
1,000,000 is compared with it.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.harness import (
    TOKEN,
    Sampler,
    alert_status,
    bench_article,
    cpu_seconds,
    megabytes,
    sandbox_process,
    seed,
)
from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.service import DeliveryService
from bot.store import Store

PAID_RATE = 1000.0


async def scale_mode(args: argparse.Namespace, store: Store, redis_pid: int | None) -> None:
    """Every size in turn; one Markdown row each."""
    print(
        "\n| subscribers | subscribe time | Redis per subscriber | Redis during / after alert |"
        " engine msg/s | expanded after | engine CPU / 1,000 | Redis CPU / 1,000 |"
        " engine RSS at publish → peak (growth) | RSS every second (MB) | time at 1,000 msg/s |"
        "\n|---|---|---|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    async with sandbox_process(latency_ms=args.latency_ms, flood=False, stub=True) as box:
        for size in args.sizes:
            await store.redis.flushdb()
            await box.control("POST", "reset")
            print(await _one(args, store, box.api_url, size, redis_pid), flush=True)


async def _used(store: Store) -> int:
    return int((await store.redis.info("memory"))["used_memory"])


async def _one(
    args: argparse.Namespace, store: Store, api_url: str, size: int, redis_pid: int | None
) -> str:
    empty = await _used(store)
    started = time.monotonic()
    await seed(store, size)
    seeded = time.monotonic() - started
    subscribed = await _used(store)
    per_sub = (subscribed - empty) / size
    config = DeliveryConfig(api_url=api_url, token=TOKEN, rate=args.rate)
    if args.in_flight is not None:
        config = config.with_overrides(max_in_flight=args.in_flight)
    keys = DeliveryKeys(store.keys.ns)
    article = (await store.articles.save(bench_article(f" {size}"))).article
    service = DeliveryService(store.redis, keys, store, config)
    stop = asyncio.Event()
    redis_peak = subscribed
    with Sampler(every=1.0) as rss:
        task = asyncio.create_task(service.run(stop))
        await asyncio.sleep(0.5)  # the worker is up and idle
        rss.reset()
        cpu0, redis_cpu0 = time.process_time(), cpu_seconds(redis_pid)
        alert_id = await DeliveryPublisher(store.redis, keys).publish(article)
        assert alert_id is not None
        published = time.monotonic()
        expanded_after: float | None = None
        while True:
            status = await alert_status(store, alert_id)
            assert status is not None
            redis_peak = max(redis_peak, await _used(store))
            if expanded_after is None and status.expanded:
                expanded_after = time.monotonic() - published
            if status.state == "done":
                break
            await asyncio.sleep(0.25)
        cpu = time.process_time() - cpu0
        redis_cpu = cpu_seconds(redis_pid) - redis_cpu0
        stop.set()
        await task
    after = await _used(store)
    span = (status.last_delivery_latency or 0) - (status.first_delivery_latency or 0)
    rate = (status.sent - 1) / span if span > 0 else float("nan")
    series = " ".join(f"{rss_bytes / 1_048_576:.0f}" for _, rss_bytes in rss.series)
    at_paid = size / (PAID_RATE * config.rate_safety)
    expansion = f"{expanded_after:.1f} s" if expanded_after is not None else "—"
    return (
        f"| {size:,} | {seeded:.1f} s | {per_sub:.0f} B |"
        f" +{megabytes(redis_peak - subscribed)} / +{megabytes(after - subscribed)} |"
        f" {rate:,.0f} | {expansion} | {cpu / max(status.sent, 1) * 1000:.3f} s |"
        f" {redis_cpu / max(status.sent, 1) * 1000:.3f} s |"
        f" {megabytes(rss.start)} → {rss.describe()} | {series} | {_duration(at_paid)} |"
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"
