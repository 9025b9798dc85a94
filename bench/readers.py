"""Readers first: how long a reader's ``/latest`` waits for its answer while a broadcast runs.

``newsbot run`` (the bot and its delivery worker in one process, as an operator runs it) against
the sandbox in another process, paid broadcast at ``--rate`` (1,000 msg/s). ``--readers`` chats
that are not subscribed each send ``/latest`` about once every 1.2 s (the per-chat spacing is
1.05 s), first with the bot idle (the baseline), then while one breaking alert goes out to the
audience. Answer time: from the sandbox accepting the reader's message to the bot's reply
appearing in that chat.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.harness import (
    TOKEN,
    Sandbox,
    alert_status,
    bench_article,
    finished,
    print_table,
    sandbox_process,
    seed,
)
from bot.delivery.keys import DeliveryKeys
from bot.delivery.publisher import DeliveryPublisher
from bot.store import Store

FIRST_READER = 900_000_001
#: Seconds between one reader's answer and its next question (above the 1.05 s chat spacing).
ASK_EVERY = 1.2
ROOT = Path(__file__).resolve().parents[1]


async def readers_mode(args: argparse.Namespace, store: Store, socket_file: str) -> None:
    """Idle answer times, then answer times during the broadcast; one table."""
    await seed(store, args.subscribers)
    for n in range(3):  # something for /latest to list
        await store.articles.save(bench_article(f" latest {n}"))
    article = (await store.articles.save(bench_article(" broadcast"))).article
    readers = list(range(FIRST_READER, FIRST_READER + args.readers))
    async with sandbox_process(latency_ms=args.latency_ms, flood=False, history=True) as box:
        for reader in readers:
            await box.control("POST", "users", {"id": reader, "first_name": "قارئ"})
        with tempfile.TemporaryDirectory() as data:
            bot = await _start_bot(args, box, store, socket_file, data)
            try:
                await asyncio.wait_for(_ask(box, readers[0]), 60)  # the bot answers: it is up
                idle = await _phase(box, readers, until=_after(args.idle_seconds))
                keys = DeliveryKeys(store.keys.ns)
                alert_id = await DeliveryPublisher(store.redis, keys).publish(article)
                assert alert_id is not None

                async def sending() -> bool:
                    return not await finished(store, alert_id)

                busy = await _phase(box, readers, until=sending)
                status = await alert_status(store, alert_id)
            finally:
                bot.send_signal(signal.SIGTERM)
                await bot.wait()
    assert status is not None
    span = (status.last_delivery_latency or 0) - (status.first_delivery_latency or 0)
    rate = (status.sent - 1) / span if span > 0 else float("nan")
    print_table(
        [
            ("subscribers (the broadcast)", f"{args.subscribers:,}"),
            ("broadcast rate", f"{rate:,.0f} msg/s measured (limit {args.rate:g}, paid)"),
            ("readers asking /latest", f"{args.readers}, each about every {ASK_EVERY:g} s"),
            ("baseline: bot idle, answer p50 / p95 (answers)", _summary(idle)),
            ("**during the broadcast**, answer p50 / p95 (answers)", _summary(busy)),
            ("during the broadcast, slowest answer", f"{max(busy, default=0) * 1000:.0f} ms"),
        ]
    )


def _after(seconds: float) -> Callable[[], Awaitable[bool]]:
    end = time.monotonic() + seconds

    async def going_on() -> bool:
        return time.monotonic() < end

    return going_on


async def _phase(
    box: Sandbox, readers: list[int], *, until: Callable[[], Awaitable[bool]]
) -> list[float]:
    """Every reader asks in turn while ``until()`` is true; the answer times."""
    times: list[float] = []

    async def reader_loop(reader: int, offset: float) -> None:
        await asyncio.sleep(offset)
        while await until():
            times.append(await _ask(box, reader))
            await asyncio.sleep(ASK_EVERY)

    spread = ASK_EVERY / max(1, len(readers))
    await asyncio.gather(*(reader_loop(r, i * spread) for i, r in enumerate(readers)))
    return times


async def _ask(box: Sandbox, reader: int) -> float:
    """Send ``/latest`` as ``reader``; seconds until the bot's next message in that chat."""
    history = await box.control("GET", f"history/{reader}")
    assert isinstance(history, dict)
    seen = _bot_messages(history)
    started = time.monotonic()
    await box.control("POST", "send", {"user_id": reader, "text": "/latest"})
    version = int(history["version"])
    while True:
        history = await box.control("GET", f"history/{reader}?version={version}&timeout=10")
        assert isinstance(history, dict)
        if _bot_messages(history) > seen:
            return time.monotonic() - started
        version = int(history["version"])
        if time.monotonic() - started > 60:
            raise RuntimeError(f"reader {reader} got no answer")


def _bot_messages(history: dict[str, object]) -> int:
    entries = history["entries"]
    assert isinstance(entries, list)
    return sum(1 for e in entries if e["kind"] == "bot")


def _summary(values: list[float]) -> str:
    if not values:
        return "— (no answer in this phase)"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return f"{statistics.median(ordered) * 1000:.0f} ms / {p95 * 1000:.0f} ms ({len(ordered)})"


async def _start_bot(
    args: argparse.Namespace, box: Sandbox, store: Store, socket_file: str, data: str
) -> asyncio.subprocess.Process:
    """``newsbot run`` against the sandbox and the benchmark's Redis."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": box.api_url,
        "REDIS_URL": f"unix://{socket_file}",
        "NEWSBOT_REDIS_NAMESPACE": store.keys.ns,
        "NEWSBOT_DATA_DIR": data,
        "NEWSBOT_RATE_LIMIT": f"{args.rate:g}",
        "NEWSBOT_PAID_BROADCAST": "1",
        "NEWSBOT_API_PORT": "0",
    }
    if args.in_flight is not None:
        env["NEWSBOT_MAX_IN_FLIGHT"] = str(args.in_flight)
    for name in ("NEWSBOT_WEBHOOK_URL", "NEWSBOT_FEEDS"):
        env.pop(name, None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=data,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
