"""Delivery benchmark: the engine against a local Bot API, next to a plain PTB send loop.

    python -m bench.delivery --subscribers 10000 [--latency-ms 50] [--rate 100000]
    python -m bench.delivery --mode limit            # 60 s at 30 msg/s, sandbox flood limits on
    python -m bench.delivery --mode second --subscribers 2004   # a 2nd alert while the 1st runs

The sandbox runs in its own process (``python -m sandbox``) so that its CPU is not charged to
the engine; Redis is an embedded server in a temporary directory.  Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil
from redis.asyncio import Redis

from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.service import DeliveryService
from bot.delivery.status import AlertStatus
from bot.models import Article, Section
from bot.redis_conn import EmbeddedRedis, client_options
from bot.store import Store

TOKEN = "123456789:bench-token-0123456789abcdefghijklmnop"
FIRST_CHAT = 10_000_000


async def _status(store: Store, alert_id: str) -> AlertStatus | None:
    """An alert's progress through the engine's read API."""
    keys = DeliveryKeys(store.keys.ns)
    return await DeliveryService(store.redis, keys, store, _READ_ONLY).reader.alert_status(alert_id)


#: The engine's configuration for reading only (no token: nothing is sent).
_READ_ONLY = DeliveryConfig(api_url="http://unused/bot", token="")


@dataclass
class Sandbox:
    """A ``python -m sandbox`` (or stub) child process."""

    process: asyncio.subprocess.Process
    base_url: str

    @property
    def api_url(self) -> str:
        """TELEGRAM_API_URL for this sandbox."""
        return f"{self.base_url}/bot"

    async def control(self, method: str, path: str, body: object | None = None) -> object:
        """Call the sandbox control API."""
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, f"{self.base_url}/sandbox/{path}", json=body) as resp,
        ):
            data = await resp.json()
        return data.get("result", data) if isinstance(data, dict) else data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def sandbox_process(
    *, latency_ms: float, flood: bool, stub: bool = False
) -> AsyncIterator[Sandbox]:
    """Start the sandbox (or the instant stub) in a child process; wait until it listens."""
    port = _free_port()
    if stub:
        args = [sys.executable, "-m", "bench.stub_api", str(port), str(latency_ms)]
    else:
        args = [sys.executable, "-m", "sandbox", "--port", str(port), "--no-history"]
        args += ["--latency-ms", str(latency_ms), "--log-level", "WARNING"]
    if flood:
        args.append("--flood")
    process = await asyncio.create_subprocess_exec(*args, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        while b"TELEGRAM_API_URL" not in (line := await process.stdout.readline()):
            if not line:
                raise RuntimeError("the sandbox did not start")
        box = Sandbox(process, f"http://127.0.0.1:{port}")
        # Every chat id is a reachable private chat: no need to register 100,000 users.
        if not stub:
            await box.control("POST", "config", {"auto_create_chats": True, "check_answers": False})
        yield box
    finally:
        process.terminate()
        await process.wait()


def bench_article() -> Article:
    """A realistic breaking article (the same for the engine and the baseline)."""
    return Article(
        title="عاجل: زلزال بقوة 6.1 درجات يضرب جنوب البلاد ولا أنباء عن إصابات",
        breaking=True,
        url="https://example.com/news/quake",
        sections=[
            Section(
                paragraphs=[
                    "أفاد المركز الوطني للرصد الزلزالي بأن هزة أرضية بلغت قوتها 6.1 درجات "
                    "ضربت المناطق الجنوبية صباح اليوم، وشعر بها سكان عدة مدن مجاورة.",
                ]
            )
        ],
    )


async def seed(store: Store, count: int) -> None:
    """Subscribe ``count`` private chats (ids from FIRST_CHAT on)."""
    for start in range(FIRST_CHAT, FIRST_CHAT + count, 50):
        stop = min(start + 50, FIRST_CHAT + count)
        await asyncio.gather(*(store.subscribers.subscribe(c) for c in range(start, stop)))


class Sampler:
    """Peak RSS of this process, sampled every 50 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._task: asyncio.Task[None] | None = None

    def describe(self) -> str:
        """Peak RSS and its growth since ``reset``."""
        return f"{_mb(self.peak)} (+{_mb(self.peak - self.start)})"

    def reset(self) -> None:
        """Measure growth from now on."""
        self.start = self.peak = self.process.memory_info().rss

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, self.process.memory_info().rss)
            await asyncio.sleep(0.05)

    def __enter__(self) -> Sampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def run_engine(
    store: Store, config: DeliveryConfig, article: Article, *, deadline: float | None = None
) -> tuple[AlertStatus, float, Sampler]:
    """Publish one alert and deliver it; returns its status, engine CPU seconds, RSS samples."""
    saved = await store.articles.save(article)
    service = DeliveryService(store.redis, DeliveryKeys(store.keys.ns), store, config)
    stop = asyncio.Event()
    with Sampler() as sampler:
        task = asyncio.create_task(service.run(stop))
        await asyncio.sleep(0.5)  # the worker is up and idle, like a running bot
        sampler.reset()
        cpu0 = time.process_time()
        publisher = DeliveryPublisher(store.redis, DeliveryKeys(store.keys.ns))
        alert_id = await publisher.publish(saved.article)
        assert alert_id is not None
        started = time.monotonic()
        while not await _finished(store, alert_id):
            if deadline and time.monotonic() - started >= deadline:
                break
            await asyncio.sleep(0.05)
        cpu = time.process_time() - cpu0
        status = await _status(store, alert_id)
        assert status is not None
        stop.set()
        await task
    return status, cpu, sampler


async def _finished(store: Store, alert_id: str) -> bool:
    """Whether the alert is done (every chat has an outcome)."""
    status = await _status(store, alert_id)
    return status is not None and status.state == "done"


async def run_baseline(api_url: str, chats: list[int], article: Article, rate: float) -> float:
    """The usual bot: ``await bot.send_message`` in a loop with ``AIORateLimiter``; msg/s."""
    from telegram import InlineKeyboardMarkup, LinkPreviewOptions
    from telegram.ext import AIORateLimiter, ExtBot

    from formatters.alert import format_alert

    message = format_alert(article.model_copy(update={"id": "bench"}))
    markup = message.reply_markup()
    limiter = AIORateLimiter(overall_max_rate=rate, overall_time_period=1)
    bot: ExtBot[int] = ExtBot(TOKEN, base_url=api_url, rate_limiter=limiter)
    async with bot:
        keyboard = InlineKeyboardMarkup.de_json(markup, bot) if markup else None
        preview = LinkPreviewOptions(is_disabled=True)
        started = time.monotonic()
        for chat in chats:
            await bot.send_message(
                chat,
                message.text,
                parse_mode=message.parse_mode,
                reply_markup=keyboard,
                link_preview_options=preview,
            )
        elapsed = time.monotonic() - started
    return len(chats) / elapsed


def _mb(value: int) -> str:
    return f"{value / 1_048_576:.1f} MB"


async def throughput(args: argparse.Namespace, store: Store, redis_pid: int | None) -> None:
    """One alert to N subscribers at a raised rate limit, then the PTB loop on a sample."""
    article = bench_article()
    stub = args.api == "stub"
    async with sandbox_process(latency_ms=args.latency_ms, flood=False, stub=stub) as box:
        config = DeliveryConfig(
            api_url=box.api_url, token=TOKEN, rate=args.rate, max_in_flight=args.in_flight
        )
        await seed(store, args.subscribers)
        redis_cpu0, api_cpu0 = _cpu(redis_pid), _cpu(box.process.pid)
        status, cpu, rss = await run_engine(store, config, article)
        redis_cpu = _cpu(redis_pid) - redis_cpu0
        api_cpu = _cpu(box.process.pid) - api_cpu0
        sample = list(range(FIRST_CHAT, FIRST_CHAT + min(args.subscribers, args.baseline_sample)))
        baseline = await run_baseline(box.api_url, sample, article, args.rate)
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
        ("rate limit", f"{args.rate:g} msg/s, {args.in_flight} requests in flight"),
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
    _print_table(rows)


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
    _print_table(rows)


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
            while not (await _finished(store, first_id) and await _finished(store, second_id)):
                if time.monotonic() - published > args.subscribers:  # far slower than 2/s
                    raise RuntimeError("the alerts did not finish")
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await task
        stats = await box.control("GET", "stats")
    a, b = await _status(store, first_id), await _status(store, second_id)
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
    _print_table(rows)


def _latencies(status: AlertStatus) -> str:
    first, last = status.first_delivery_latency, status.last_delivery_latency
    return f"{first or 0:.2f} s / {last or 0:.2f} s"


def _cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _print_table(rows: list[tuple[str, str]]) -> None:
    print("\n| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\n(machine: {os.cpu_count()} cores; sandbox in a separate process; embedded Redis)")


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
            else:
                await throughput(args, store, redis_pid)
        finally:
            await redis.aclose()
            await asyncio.to_thread(embedded.stop)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__)
    parser.add_argument("--mode", choices=("throughput", "limit", "second"), default="throughput")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument(
        "--rate", type=float, default=None, help="throughput: 100,000; second: 30 (msg/s)"
    )
    parser.add_argument(
        "--api",
        choices=("sandbox", "stub"),
        default="sandbox",
        help="throughput mode: the spec-checking sandbox, or an instant stub (engine ceiling)",
    )
    parser.add_argument("--in-flight", type=int, default=128)
    parser.add_argument("--baseline-sample", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=60.0, help="limit mode: seconds")
    parser.add_argument(
        "--second-after", type=float, default=5.0, help="second mode: seconds between alerts"
    )
    args = parser.parse_args()
    if args.rate is None:
        args.rate = 30.0 if args.mode == "second" else 100_000.0
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
