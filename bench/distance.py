"""Delivery at a distance from the Bot API: throughput, CPU and first-delivery latency.

Each figure of the engine is printed next to baselines measured in the same run, against the
same stub (``bench/stub_api.py``, a fixed delay added to every request):

* a raw aiohttp client with 256 connections and no rate limit (what the network allows);
* a plain PTB loop, ``await bot.send_message`` with ``AIORateLimiter`` (how most bots send),
  run on a sample of a few seconds and extrapolated.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import statistics
import time

import aiohttp

from bench.harness import (
    FIRST_CHAT,
    TOKEN,
    alert_status,
    bench_article,
    finished,
    poll,
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
from bot.models import Article
from bot.store import Store
from formatters.alert import format_alert

RAW_CONNECTIONS = 256
#: Seconds between one alert's end and the next publish in first mode.
CHAT_SPACING_PAST = 1.1


def engine_config(args: argparse.Namespace, api_url: str) -> DeliveryConfig:
    """The engine as an operator runs it: paid broadcast, the default in-flight cap."""
    config = DeliveryConfig(api_url=api_url, token=TOKEN, rate=args.rate, paid_broadcast=True)
    if args.in_flight is not None:
        config = config.with_overrides(max_in_flight=args.in_flight)
    return config


def alert_body(article: Article) -> dict[str, object]:
    """The sendMessage body the engine sends for ``article`` (without the chat id)."""
    payload = format_alert(article.model_copy(update={"id": "bench"})).to_payload()
    payload["allow_paid_broadcast"] = True
    return payload


async def raw_client(api_url: str, chats: list[int], article: Article) -> tuple[float, float]:
    """POST every chat's message over 256 pooled connections, no rate limit: (msg/s, CPU s)."""
    body = alert_body(article)
    url = f"{api_url}{TOKEN}/sendMessage"
    pending = iter(chats)
    connector = aiohttp.TCPConnector(limit=RAW_CONNECTIONS, limit_per_host=RAW_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def sender() -> None:
            for chat in pending:
                data = json.dumps({"chat_id": chat, **body}, ensure_ascii=False).encode()
                headers = {"Content-Type": "application/json"}
                async with session.post(url, data=data, headers=headers) as resp:
                    await resp.read()

        cpu0, started = time.process_time(), time.monotonic()
        await asyncio.gather(*(sender() for _ in range(RAW_CONNECTIONS)))
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu0
    return len(chats) / elapsed, cpu


async def ptb_loop(
    api_url: str, chats: list[int], article: Article, rate: float
) -> tuple[float, float]:
    """The PTB send_message loop on ``chats``: (msg/s, CPU s)."""
    return await run_baseline(api_url, chats, article, rate)


def _per_1000(cpu: float, messages: int) -> str:
    return f"{cpu / max(messages, 1) * 1000:.3f} s"


async def latency_mode(args: argparse.Namespace, store: Store) -> None:
    """One paid broadcast per added delay: newsbot vs the raw client vs the PTB loop."""
    await seed(store, args.subscribers)
    chats = list(range(FIRST_CHAT, FIRST_CHAT + args.subscribers))
    print(
        f"\n{args.subscribers:,} subscribers, NEWSBOT_RATE_LIMIT={args.rate:g}, paid broadcast, "
        f"in-flight cap {engine_config(args, '').max_in_flight}; stub in a separate process\n"
    )
    print(
        "| added delay per request | newsbot msg/s (% of rate) | most in any sliding second |"
        " newsbot CPU / 1,000 | publish → first delivery | raw aiohttp, 256 conns, msg/s |"
        " raw CPU / 1,000 | PTB loop msg/s | PTB CPU / 1,000 |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    for ms in args.latencies:
        async with sandbox_process(
            latency_ms=ms, flood=False, stub=True, limit=int(args.rate)
        ) as b:
            article = bench_article(f" {ms:g}")
            status, cpu, _ = await run_engine(store, engine_config(args, b.api_url), article)
            stats = await b.control("GET", "stats")
            assert isinstance(stats, dict)
            over, peak = stats["over_limit"], stats["peak_second"]
            raw, raw_cpu = await raw_client(b.api_url, chats, article)
            sample = max(5, math.ceil(args.baseline_seconds / (ms / 1000 + 0.005)))
            ptb, ptb_cpu = await ptb_loop(b.api_url, chats[:sample], article, args.rate)
        span = (status.last_delivery_latency or 0) - (status.first_delivery_latency or 0)
        rate = (status.sent - 1) / span if span > 0 else float("nan")
        first = (status.first_delivery_latency or 0) * 1000
        print(
            f"| {ms:g} ms | {rate:,.0f} ({rate / args.rate:.1%}) | {peak:,} ({over} over) |"
            f" {_per_1000(cpu, status.sent)} | {first:.0f} ms | {raw:,.0f} |"
            f" {_per_1000(raw_cpu, len(chats))} | {ptb:,.1f} (sample of {sample}) |"
            f" {_per_1000(ptb_cpu, sample)} |",
            flush=True,
        )


async def first_mode(args: argparse.Namespace, store: Store) -> None:
    """Publish → first delivery over several small alerts, next to one raw round trip."""
    await seed(store, args.subscribers)
    async with sandbox_process(latency_ms=args.latency_ms, flood=False, stub=True) as box:
        config = engine_config(args, box.api_url)
        keys = DeliveryKeys(store.keys.ns)
        service = DeliveryService(store.redis, keys, store, config)
        publisher = DeliveryPublisher(store.redis, keys)
        articles = [
            (await store.articles.save(bench_article(f" #{n}"))).article for n in range(args.alerts)
        ]
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        firsts: list[float] = []
        try:
            await asyncio.sleep(1.0)  # the worker is up and idle, like a running bot
            for n, article in enumerate(articles):
                alert_id = await publisher.publish(article)
                assert alert_id is not None
                done = functools.partial(finished, store, alert_id)
                await poll(done, every=0.02, within=120, what="the alert's end")
                status = await alert_status(store, alert_id)
                assert status is not None and status.first_delivery_latency is not None
                firsts.append(status.first_delivery_latency)
                # Past every chat's 1-per-second spacing (the same chats get every alert: an
                # earlier publish would wait for it), at another moment of the worker's loop.
                await asyncio.sleep(CHAT_SPACING_PAST + 0.23 * (n % 5))
        finally:
            stop.set()
            await task
        trips = await _round_trips(box.api_url, articles[0], args.alerts)
    print_table(
        [
            ("subscribers per alert", f"{args.subscribers:,}"),
            ("alerts (one at a time, worker idle before each)", str(args.alerts)),
            ("added delay per request", f"{args.latency_ms:g} ms"),
            ("newsbot publish → first delivery p50 / p95", _p50_p95(firsts)),
            ("baseline: one warm raw sendMessage round trip p50 / p95", _p50_p95(trips)),
            (
                "newsbot, every alert (ms, sorted)",
                " ".join(f"{v * 1000:.0f}" for v in sorted(firsts)),
            ),
        ]
    )


async def _round_trips(api_url: str, article: Article, count: int) -> list[float]:
    """``count`` sendMessage round trips over one warm connection (the network floor)."""
    body = json.dumps({"chat_id": FIRST_CHAT, **alert_body(article)}, ensure_ascii=False)
    url = f"{api_url}{TOKEN}/sendMessage"
    times: list[float] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(count + 1):
            started = time.monotonic()
            async with session.post(url, data=body.encode()) as resp:
                await resp.read()
            times.append(time.monotonic() - started)
    return times[1:]  # the first one opened the connection


def _p50_p95(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return f"{statistics.median(ordered) * 1000:.0f} ms / {p95 * 1000:.0f} ms"
