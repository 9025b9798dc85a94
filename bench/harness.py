"""What the delivery benchmarks share: the Bot API child process, the audience, the engine run,
the PTB loop baseline, RSS and CPU sampling, the Markdown table."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import psutil

from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.service import DeliveryService
from bot.delivery.status import AlertStatus
from bot.models import Article, Section
from bot.store import Store

TOKEN = "123456789:bench-token-0123456789abcdefghijklmnop"
FIRST_CHAT = 10_000_000


async def alert_status(store: Store, alert_id: str) -> AlertStatus | None:
    """An alert's progress through the engine's read API."""
    keys = DeliveryKeys(store.keys.ns)
    return await DeliveryService(store.redis, keys, store, READ_ONLY).reader.alert_status(alert_id)


#: The engine's configuration for reading only (no token: nothing is sent).
READ_ONLY = DeliveryConfig(api_url="http://unused/bot", token="")


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def sandbox_process(
    *,
    latency_ms: float,
    flood: bool,
    stub: bool = False,
    limit: int | None = None,
    history: bool = False,
) -> AsyncIterator[Sandbox]:
    """Start the sandbox (or the stub) in a child process; wait until it listens.

    ``limit``: the stub counts messages beyond that many in a sliding second; ``history``: the
    sandbox keeps each chat's messages (to watch a reader's chat).
    """
    port = free_port()
    if stub:
        args = [sys.executable, "-m", "bench.stub_api", str(port), str(latency_ms)]
        if limit is not None:
            args += ["--limit", str(limit)]
    else:
        args = [sys.executable, "-m", "sandbox", "--port", str(port)]
        args += [] if history else ["--no-history"]
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


def bench_article(tag: str = "") -> Article:
    """A realistic breaking article (the same for the engine and the baseline); ``tag`` makes
    another one (its own alert)."""
    return Article(
        title="عاجل: زلزال بقوة 6.1 درجات يضرب جنوب البلاد ولا أنباء عن إصابات" + tag,
        breaking=True,
        url="https://example.com/news/quake" + (f"-{tag}" if tag else ""),
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
    """Peak RSS of this process, sampled every 50 ms (and kept every ``every`` seconds)."""

    def __init__(self, every: float = 1.0) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self.series: list[tuple[float, int]] = []
        self._every = every
        self._task: asyncio.Task[None] | None = None

    def describe(self) -> str:
        """Peak RSS and its growth since ``reset``."""
        return f"{megabytes(self.peak)} (+{megabytes(self.peak - self.start)})"

    def reset(self) -> None:
        """Measure growth from now on."""
        self.start = self.peak = self.process.memory_info().rss
        self.series = [(time.monotonic(), self.start)]

    async def _run(self) -> None:
        while True:
            rss = self.process.memory_info().rss
            self.peak = max(self.peak, rss)
            now = time.monotonic()
            if not self.series or now - self.series[-1][0] >= self._every:
                self.series.append((now, rss))
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
        while not await finished(store, alert_id):
            if deadline and time.monotonic() - started >= deadline:
                break
            await asyncio.sleep(0.05)
        cpu = time.process_time() - cpu0
        status = await alert_status(store, alert_id)
        assert status is not None
        stop.set()
        await task
    return status, cpu, sampler


async def poll(
    check: Callable[[], Awaitable[bool]], *, every: float, within: float, what: str
) -> None:
    """Wait until ``check()`` is true, looking every ``every`` s; fail after ``within`` s."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {within:g} s")
        await asyncio.sleep(every)


async def finished(store: Store, alert_id: str) -> bool:
    """Whether the alert is done (every chat has an outcome)."""
    status = await alert_status(store, alert_id)
    return status is not None and status.state == "done"


async def run_baseline(
    api_url: str, chats: list[int], article: Article, rate: float
) -> tuple[float, float]:
    """The usual bot: ``await bot.send_message`` in a loop with ``AIORateLimiter``.

    Returns msg/s and the CPU seconds of the loop (the bot's start-up excluded).
    """
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
        started, cpu0 = time.monotonic(), time.process_time()
        for chat in chats:
            await bot.send_message(
                chat,
                message.text,
                parse_mode=message.parse_mode,
                reply_markup=keyboard,
                link_preview_options=preview,
            )
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu0
    return len(chats) / elapsed, cpu


def megabytes(value: int) -> str:
    return f"{value / 1_048_576:.1f} MB"


def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def print_table(rows: list[tuple[str, str]]) -> None:
    print("\n| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\n(machine: {os.cpu_count()} cores; sandbox in a separate process; embedded Redis)")
