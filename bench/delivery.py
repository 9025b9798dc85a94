"""Delivery benchmark: the engine against a local Bot API, next to a plain PTB send loop.

    python -m bench.delivery --subscribers 10000 [--latency-ms 50] [--rate 100000]
    python -m bench.delivery --mode limit            # 60 s at 30 msg/s, sandbox flood limits on
    python -m bench.delivery --mode second --subscribers 2004   # a 2nd alert while the 1st runs
    python -m bench.delivery --mode latency [--latencies 50,200,400]  # far from the Bot API
    python -m bench.delivery --mode cpu        # engine CPU per 1,000 messages at 50 ms
    python -m bench.delivery --mode first      # publish → first delivery p50 / p95
    python -m bench.delivery --mode crash      # kill -9 of a worker mid-alert, restart
    python -m bench.delivery --mode readers    # /latest answer time during a broadcast
    python -m bench.delivery --mode scale [--sizes 10000,100000,1000000]
    python -m bench.delivery --mode stories    # message-id ledger bytes, a correction's fan-out

Every mode prints its baseline measured in the same run (see bench/RESULTS.md).

The sandbox runs in its own process (``python -m sandbox``) so that its CPU is not charged to
the engine; Redis is an embedded server in a temporary directory.  Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from bench import crash, distance, readers, scale, stories
from bench.harness import (
    FIRST_CHAT,
    TOKEN,
    alert_status,
    bench_article,
    cpu_seconds,
    finished,
    print_table,
    run_baseline,
    run_engine,
    sandbox_process,
    seed,
)
from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.service import DeliveryService
from bot.delivery.status import AlertStatus
from bot.redis_conn import EmbeddedRedis, client_options
from bot.store import Store


async def throughput(args: argparse.Namespace, store: Store, redis_pid: int | None) -> None:
    """One alert to N subscribers at a raised rate limit, then the PTB loop on a sample."""
    article = bench_article()
    stub = args.api == "stub"
    async with sandbox_process(latency_ms=args.latency_ms, flood=False, stub=stub) as box:
        config = DeliveryConfig(api_url=box.api_url, token=TOKEN, rate=args.rate)
        if args.in_flight is not None:
            config = config.with_overrides(max_in_flight=args.in_flight)
        await seed(store, args.subscribers)
        redis_cpu0, api_cpu0 = cpu_seconds(redis_pid), cpu_seconds(box.process.pid)
        status, cpu, rss = await run_engine(store, config, article)
        redis_cpu = cpu_seconds(redis_pid) - redis_cpu0
        api_cpu = cpu_seconds(box.process.pid) - api_cpu0
        sample = list(range(FIRST_CHAT, FIRST_CHAT + min(args.subscribers, args.baseline_sample)))
        baseline, _ = await run_baseline(box.api_url, sample, article, args.rate)
        stats = await box.control("GET", "stats")
    span = (status.last_delivery_latency or 0) - (status.first_delivery_latency or 0)
    engine_rate = (status.sent - 1) / span if span > 0 else float("nan")
    total = status.last_delivery_latency or float("nan")
    sampled = len(sample) < args.subscribers
    extrapolated = f" (sample of {len(sample):,}, extrapolated)" if sampled else ""
    first_ms = (status.first_delivery_latency or 0) * 1000
    rows = [
        ("subscribers", f"{args.subscribers:,}"),
        ("Bot API", f"{args.api}, {args.latency_ms:g} ms added latency, separate process"),
        ("rate limit", f"{args.rate:g} msg/s, in-flight cap {config.max_in_flight}"),
        ("delivered", f"{status.sent:,} sent, {status.failed} failed"),
        ("engine: messages per second", f"{engine_rate:,.0f}"),
        ("engine: publish → last delivery", f"{total:.2f} s"),
        ("engine: publish → first delivery", f"{first_ms:.0f} ms"),
        ("engine CPU per 1,000 messages", f"{cpu / max(status.sent, 1) * 1000:.3f} s"),
        ("Redis CPU per 1,000 messages", f"{redis_cpu / max(status.sent, 1) * 1000:.3f} s"),
        ("Bot API process CPU per 1,000", f"{api_cpu / max(status.sent, 1) * 1000:.3f} s"),
        ("engine RSS: peak while sending (growth)", rss.describe()),
        ("PTB send_message loop + AIORateLimiter", f"{baseline:,.0f} msg/s{extrapolated}"),
        ("PTB loop time for all subscribers", f"{args.subscribers / baseline:,.1f} s"),
        ("speed-up", f"{engine_rate / baseline:,.1f}×"),
        (
            "sandbox answers",
            json.dumps({k: stats[k] for k in ("sent_ok", "errors_429")}),  # type: ignore[index]
        ),
    ]
    print_table(rows)


async def limit_mode(args: argparse.Namespace, store: Store) -> None:
    """60 s at 30 msg/s against Telegram-like flood limits: achieved rate and 429s."""
    duration = args.duration
    async with sandbox_process(latency_ms=args.latency_ms, flood=True) as box:
        config = DeliveryConfig(api_url=box.api_url, token=TOKEN, rate=30.0)
        await seed(store, int(30 * duration * 1.3))
        status, cpu, rss = await run_engine(store, config, bench_article(), deadline=duration)
        stats = await box.control("GET", "stats")
    span = (status.last_delivery_latency or 0) - (status.first_delivery_latency or 0)
    achieved = (status.sent - 1) / span
    rows = [
        ("rate limit", "30 msg/s (sandbox: 30/s global, 1/s per chat)"),
        ("measured for", f"{span:.1f} s"),
        ("delivered", f"{status.sent:,}"),
        ("achieved rate", f"{achieved:.2f} msg/s ({achieved / 30:.1%} of the limit)"),
        ("429 answers", str(stats["errors_429"])),  # type: ignore[index]
        ("engine CPU per 1,000 messages", f"{cpu / max(status.sent, 1) * 1000:.3f} s"),
        ("engine RSS: peak while sending (growth)", rss.describe()),
    ]
    print_table(rows)


async def second_alert(args: argparse.Namespace, store: Store) -> None:
    """Two breaking alerts to the same audience, the second published while the first is sent.

    Measures how long the second one waits for its first delivery (sandbox flood limits on).
    """
    rate = args.rate
    async with sandbox_process(latency_ms=args.latency_ms, flood=True) as box:
        config = DeliveryConfig(api_url=box.api_url, token=TOKEN, rate=rate)
        await seed(store, args.subscribers)
        first = (await store.articles.save(bench_article())).article
        second_article = bench_article().model_copy(
            update={
                "title": "عاجل: هزة ارتدادية بقوة 4.2 درجات في الجنوب",
                "url": "https://example.com/news/aftershock",
            }
        )
        second = (await store.articles.save(second_article)).article
        publisher = DeliveryPublisher(store.redis, DeliveryKeys(store.keys.ns))
        service = DeliveryService(store.redis, DeliveryKeys(store.keys.ns), store, config)
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        try:
            await asyncio.sleep(0.5)  # the worker is up and idle, like a running bot
            first_id = await publisher.publish(first)
            await asyncio.sleep(args.second_after)
            second_id = await publisher.publish(second)
            assert first_id is not None and second_id is not None
            published = time.monotonic()
            while not (await finished(store, first_id) and await finished(store, second_id)):
                if time.monotonic() - published > args.subscribers:  # far slower than 2/s
                    raise RuntimeError("the alerts did not finish")
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await task
        stats = await box.control("GET", "stats")
    a, b = await alert_status(store, first_id), await alert_status(store, second_id)
    assert a is not None and b is not None
    rows = [
        ("subscribers", f"{args.subscribers:,}"),
        ("rate limit", f"{rate:g} msg/s (sandbox flood limits on)"),
        ("second alert published", f"{args.second_after:g} s after the first"),
        ("first alert: publish → first / last delivery", _latencies(a)),
        ("second alert: publish → first / last delivery", _latencies(b)),
        ("delivered", f"{a.sent:,} + {b.sent:,} sent, {a.failed + b.failed} failed"),
        ("429 answers", str(stats["errors_429"])),  # type: ignore[index]
    ]
    print_table(rows)


def _latencies(status: AlertStatus) -> str:
    first, last = status.first_delivery_latency, status.last_delivery_latency
    return f"{first or 0:.2f} s / {last or 0:.2f} s"


#: Per mode: default subscribers and rate (msg/s).
DEFAULTS: dict[str, tuple[int, float]] = {
    "throughput": (10_000, 100_000.0),
    "limit": (0, 30.0),
    "second": (10_000, 30.0),
    "latency": (5_000, 1000.0),
    "cpu": (10_000, 1000.0),
    "first": (100, 1000.0),
    "crash": (5_000, 1000.0),
    "readers": (8_000, 1000.0),
    "scale": (0, 100_000.0),
    "stories": (10_000, 1000.0),
}


async def main_async(args: argparse.Namespace) -> None:
    """Start Redis, run the chosen mode, clean up."""
    with tempfile.TemporaryDirectory() as tmp:
        embedded = EmbeddedRedis(Path(tmp))
        socket_file = await asyncio.to_thread(embedded.start)
        redis = Redis(unix_socket_path=socket_file, **client_options())
        redis_pid = int((await redis.info("server"))["process_id"])
        try:
            await redis.flushdb()
            store = Store.create(redis, "bench")
            if args.mode == "limit":
                await limit_mode(args, store)
            elif args.mode == "second":
                await second_alert(args, store)
            elif args.mode in ("latency", "cpu"):
                await distance.latency_mode(args, store)
            elif args.mode == "first":
                await distance.first_mode(args, store)
            elif args.mode == "crash":
                await crash.crash_mode(args, store, socket_file)
            elif args.mode == "readers":
                await readers.readers_mode(args, store, socket_file)
            elif args.mode == "scale":
                await scale.scale_mode(args, store, redis_pid)
            elif args.mode == "stories":
                await stories.stories_mode(args, store)
            else:
                await throughput(args, store, redis_pid)
        finally:
            await redis.aclose()
            await asyncio.to_thread(embedded.stop)


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def _ints(text: str) -> list[int]:
    return [int(float(part)) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.delivery",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mode", choices=tuple(DEFAULTS), default="throughput")
    parser.add_argument("--subscribers", type=int, default=None, help="default: per mode")
    parser.add_argument("--latency-ms", type=float, default=None, help="default: 0 (first: 50)")
    parser.add_argument(
        "--latencies", type=_floats, default=None, help="latency mode: delays in ms (50,200,400)"
    )
    parser.add_argument("--rate", type=float, default=None, help="msg/s; default: per mode")
    parser.add_argument(
        "--api",
        choices=("sandbox", "stub"),
        default="sandbox",
        help="throughput mode: the spec-checking sandbox, or an instant stub (engine ceiling)",
    )
    parser.add_argument(
        "--in-flight", type=int, default=None, help="the in-flight cap (default: the engine's)"
    )
    parser.add_argument("--baseline-sample", type=int, default=2000)
    parser.add_argument(
        "--baseline-seconds", type=float, default=3.0, help="latency: PTB loop sample length"
    )
    parser.add_argument("--duration", type=float, default=60.0, help="limit mode: seconds")
    parser.add_argument(
        "--second-after", type=float, default=5.0, help="second mode: seconds between alerts"
    )
    parser.add_argument("--alerts", type=int, default=20, help="first mode: alerts published")
    parser.add_argument(
        "--kill-at", type=float, default=0.8, help="crash: kill after this share was sent"
    )
    parser.add_argument(
        "--claim-idle", type=float, default=None, help="crash: NEWSBOT_CLAIM_IDLE_SECONDS"
    )
    parser.add_argument(
        "--no-idle-baseline", action="store_true", help="crash: skip the idle-timeout round"
    )
    parser.add_argument("--readers", type=int, default=10, help="readers: chats asking /latest")
    parser.add_argument(
        "--idle-seconds", type=float, default=6.0, help="readers: the idle (baseline) phase"
    )
    parser.add_argument(
        "--sizes", type=_ints, default=None, help="scale: audiences (10000,100000[,1000000])"
    )
    parser.add_argument(
        "--ledger-chats", type=int, default=100_000, help="stories: chats of the ledger alert"
    )
    args = parser.parse_args(argv)
    subscribers, rate = DEFAULTS[args.mode]
    args.subscribers = subscribers if args.subscribers is None else args.subscribers
    args.rate = rate if args.rate is None else args.rate
    if args.latency_ms is None:
        args.latency_ms = 50.0 if args.mode in ("first", "crash", "stories") else 0.0
    if args.latencies is None:
        args.latencies = [50.0] if args.mode == "cpu" else [50.0, 200.0, 400.0]
    if args.sizes is None:
        args.sizes = [10_000, 100_000]
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
