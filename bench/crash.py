"""``kill -9`` of a delivery worker mid-alert, a restart, and how long until deliveries resume.

Two rounds in one run, each one alert to the same audience on the same stub:

1. ``newsbot worker`` killed with SIGKILL once ``--kill-at`` of the audience was sent; a new
   ``newsbot worker`` started 1 s later takes the dead one's batches over as soon as its
   heartbeat (4 s TTL) has expired.
2. The baseline: the same crash, but the killed worker's heartbeat outlives the run
   (``bench/crash_victim.py``), so the restarted worker sees it as alive and takes its batches
   over only after ``NEWSBOT_CLAIM_IDLE_SECONDS``, as every dead worker was before.

Killed late in the alert (80 % sent by default), when everything left is in the dead worker's
hands (it holds ~2 s of sending, and the rest of the audience is already expanded and read):
otherwise the restarted worker starts on batches nobody read yet, and "first delivery after
the restart" says nothing about the takeover.  "Every remaining reader reached" is the time
the last of them got the alert.

The stub counts messages per chat: lost = audience − distinct chats reached, duplicates =
messages − distinct chats.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import (
    TOKEN,
    Sandbox,
    alert_status,
    bench_article,
    finished,
    poll,
    print_table,
    sandbox_process,
    seed,
)
from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.reader import DeliveryReader
from bot.delivery.window import InFlightWindow
from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]
#: Seconds between the kill and the restart (an operator's, or a supervisor's, reaction).
RESTART_AFTER = 1.0


async def crash_mode(args: argparse.Namespace, store: Store, socket_file: str) -> None:
    """Both rounds; prints one row per round."""
    await seed(store, args.subscribers)
    defaults = DeliveryConfig(api_url="", token="")
    claim_idle = args.claim_idle if args.claim_idle is not None else defaults.claim_idle
    with tempfile.TemporaryDirectory() as cwd:  # no .env file is picked up
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "REDIS_URL": f"unix://{socket_file}",
            "NEWSBOT_REDIS_NAMESPACE": store.keys.ns,
            "NEWSBOT_RATE_LIMIT": f"{args.rate:g}",
            "NEWSBOT_PAID_BROADCAST": "1",
            "NEWSBOT_CLAIM_IDLE_SECONDS": f"{claim_idle:g}",
        }
        if args.in_flight is not None:
            env["NEWSBOT_MAX_IN_FLIGHT"] = str(args.in_flight)
        rows: list[tuple[str, str]] = [
            ("subscribers", f"{args.subscribers:,}"),
            ("rate", f"{args.rate:g} msg/s, paid broadcast, stub +{args.latency_ms:g} ms"),
            ("killed after", f"{args.kill_at:.0%} of the audience was sent; restart 1 s later"),
            ("NEWSBOT_CLAIM_IDLE_SECONDS", f"{claim_idle:g}"),
        ]
        async with sandbox_process(latency_ms=args.latency_ms, flood=False, stub=True) as box:
            env["TELEGRAM_API_URL"] = box.api_url
            rounds = [("heartbeat takeover (now)", ["-m", "bot", "worker"], "1")]
            if not args.no_idle_baseline:
                rounds.append(
                    ("baseline: idle-timeout takeover", ["-m", "bench.crash_victim"], "2")
                )
            for label, victim, tag in rounds:
                rows += await _round(args, store, box, env, cwd, label, victim, tag)
    window = InFlightWindow(args.rate, defaults.horizon, args.in_flight or defaults.max_in_flight)
    start = window.size
    for _ in range(200):
        window.observe(args.latency_ms / 1000)
    rows.append(
        ("in-flight window: at start / settled (duplicates stay below)", f"{start} / {window.size}")
    )
    print_table(rows)


async def _round(
    args: argparse.Namespace,
    store: Store,
    box: Sandbox,
    env: dict[str, str],
    cwd: str,
    label: str,
    victim_args: list[str],
    tag: str,
) -> list[tuple[str, str]]:
    """One crash and restart; the row of figures."""
    await box.control("POST", "reset")
    keys = DeliveryKeys(store.keys.ns)
    reader = DeliveryReader(store.redis, keys, store.articles)
    before = set(await reader.live_workers())
    victim = await _spawn(victim_args, env, cwd)
    restarted: asyncio.subprocess.Process | None = None
    try:
        article = (await store.articles.save(bench_article(f" crash {tag}"))).article

        async def victim_up() -> bool:
            return bool(set(await reader.live_workers()) - before)

        await poll(victim_up, every=0.05, within=60, what="worker start")  # like a running bot
        alert_id = await DeliveryPublisher(store.redis, keys).publish(article)
        assert alert_id is not None

        async def kill_time() -> bool:
            share: float = args.kill_at * args.subscribers
            return await _sent(box) >= share

        await poll(kill_time, every=0.01, within=120, what="the share to send before the kill")
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        at_kill = await _sent(box)
        await asyncio.sleep(RESTART_AFTER)
        settled = await _sent(box)  # answers the stub finished for the dead process
        known = set(await reader.live_workers())
        restart = time.time()
        restarted = await _spawn(["-m", "bot", "worker"], env, cwd)
        up = None
        resumed = None
        while resumed is None:
            if up is None and set(await reader.live_workers()) - known - before:
                up = time.time() - restart
            at = (await box.control("GET", f"first_after?t={restart}"))["at"]  # type: ignore[index]
            resumed = None if at is None else float(at) - restart
            if time.time() - restart > 300:
                raise RuntimeError("deliveries did not resume")
            await asyncio.sleep(0.02)
        await poll(
            lambda: finished(store, alert_id), every=0.05, within=600, what="the alert's end"
        )
        status = await alert_status(store, alert_id)
        stats = await box.control("GET", "stats")
        assert isinstance(stats, dict)
        everyone = float(stats["last_at"]) - restart
    finally:
        for process in (victim, restarted):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()
    assert status is not None and isinstance(stats, dict)
    lost = args.subscribers - int(stats["distinct_chats"])
    return [
        (f"{label}: sent at the kill (+ arriving after it)", f"{at_kill:,} (+{settled - at_kill})"),
        (f"{label}: restart → worker up", f"{up:.2f} s" if up is not None else "—"),
        (f"{label}: **restart → first delivery**", f"**{resumed:.2f} s**"),
        (f"{label}: restart → every remaining reader reached", f"{everyone:.2f} s"),
        (f"{label}: lost / duplicates", f"{lost} / {stats['duplicates']}"),
        (f"{label}: alert outcome", f"{status.sent:,} sent, {status.pending} pending"),
    ]


async def _sent(box: Sandbox) -> int:
    stats = await box.control("GET", "stats")
    assert isinstance(stats, dict)
    return int(stats["sent_ok"])


async def _spawn(args: list[str], env: dict[str, str], cwd: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
