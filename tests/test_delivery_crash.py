"""Crashes: a worker killed with SIGKILL mid-alert, and Redis itself killed and restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.delivery.status import AlertStatus
from bot.store import Store
from sandbox.server import SandboxServer
from tests.constants import BOT_TOKEN
from tests.delivery_support import (
    delivery_reader,
    engine_config,
    publish,
    record_sends,
    redis_error_reached_worker,
    running,
    seed,
    stored_article,
    wait_done,
)
from tests.redis_support import RedisServer, wait_for_ping
from tests.waiting import wait_for

IN_FLIGHT = 16


def _duplicates(per_chat: dict[int, int]) -> int:
    return sum(n - 1 for n in per_chat.values())


async def start_worker(
    redis_url: str, api_url: str, cwd: Path, *, claim_idle: float = 1.0
) -> asyncio.subprocess.Process:
    """A ``newsbot worker`` process (a real one, so that it can be killed with SIGKILL)."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_URL": api_url,
        "REDIS_URL": redis_url,
        "NEWSBOT_RATE_LIMIT": "100",
        "NEWSBOT_MAX_IN_FLIGHT": str(IN_FLIGHT),
        "NEWSBOT_CLAIM_IDLE_SECONDS": str(claim_idle),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "worker", env=env, cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def test_worker_killed_mid_alert_is_taken_over_without_loss(
    store: Store, sandbox: SandboxServer, redis_url: str, tmp_path: Path
) -> None:
    chats = await seed(store, sandbox, 400)
    log = record_sends(sandbox)
    worker = await start_worker(redis_url, sandbox.api_url, tmp_path)
    try:
        alert_id = await publish(store, await stored_article(store))
        await wait_for(lambda: log.count() >= 120, within=20)
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    at_kill = log.count()
    assert at_kill < 400  # really killed mid-alert
    config = engine_config(sandbox, rate=100.0, max_in_flight=IN_FLIGHT, claim_idle=1.0)
    async with running(store, config):
        status = await wait_done(store, alert_id, within=20)
    per_chat = log.per_chat()
    assert set(per_chat) == set(chats)  # nobody lost
    assert _duplicates(per_chat) <= IN_FLIGHT  # at most what was in flight at the kill
    assert status.sent == 400 and status.pending == 0


async def test_worker_killed_with_two_alerts_in_progress_loses_neither(
    store: Store, sandbox: SandboxServer, redis_url: str, tmp_path: Path
) -> None:
    chats = await seed(store, sandbox, 300)
    log = record_sends(sandbox)
    titles = ("عاجل: الخبر الأول", "عاجل: الخبر الثاني")
    worker = await start_worker(redis_url, sandbox.api_url, tmp_path)
    try:
        first = await publish(store, await stored_article(store, title=titles[0]))
        await wait_for(lambda: log.count() >= 60, within=20)
        second = await publish(store, await stored_article(store, title=titles[1]))
        await wait_for(lambda: log.count(lambda m: titles[1] in m.text) >= 30, within=20)
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    for title in titles:  # both really killed mid-alert
        assert sum(1 for m in log.messages if title in m.text) < 300
    config = engine_config(sandbox, rate=100.0, max_in_flight=IN_FLIGHT, claim_idle=1.0)
    async with running(store, config):
        statuses = [await wait_done(store, a, within=30) for a in (first, second)]
    received: dict[tuple[int, str], int] = {}
    for message in log.messages:
        (title,) = [t for t in titles if t in message.text]
        received[(message.chat_id, title)] = received.get((message.chat_id, title), 0) + 1
    assert set(received) == {(c, t) for c in chats for t in titles}  # nobody lost
    assert sum(n - 1 for n in received.values()) <= IN_FLIGHT  # what was in flight at the kill
    assert [(s.sent, s.pending) for s in statuses] == [(300, 0), (300, 0)]


async def test_redis_restart_mid_alert_is_survived(
    sandbox: SandboxServer, redis_server: RedisServer, own_store: Store
) -> None:
    store = own_store
    chats = await seed(store, sandbox, 300)
    log = record_sends(sandbox)
    config = engine_config(sandbox, rate=100.0, max_in_flight=IN_FLIGHT, claim_idle=2.0)
    async with running(store, config):
        alert_id = await publish(store, await stored_article(store))
        await wait_for(lambda: log.count() >= 80, within=10)
        redis_server.kill()
        at_kill = log.count()
        await asyncio.sleep(1.0)
        redis_server.start()
        status = await wait_done(store, alert_id, within=30)
    assert at_kill < 300
    per_chat = log.per_chat()
    assert set(per_chat) == set(chats)
    assert _duplicates(per_chat) <= IN_FLIGHT
    assert status.sent == 300


async def test_redis_outage_while_idle_keeps_the_worker_alive(
    sandbox: SandboxServer,
    redis_server: RedisServer,
    own_store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = own_store
    chats = await seed(store, sandbox, 5)
    log = record_sends(sandbox)
    config = engine_config(sandbox, claim_idle=2.0)
    async with running(store, config):
        await wait_for_worker(store)  # up and idle: nothing queued, blocked on its read
        redis_server.kill()
        # Down until the error has got past the client's own reconnect retries (about 2.5 s)
        # to the worker's loops.
        await wait_for(lambda: redis_error_reached_worker(caplog.records), what="a Redis error")
        redis_server.start()
        await wait_for_ping(store.redis)
        alert_id = await publish(store, await stored_article(store))
        status = await wait_done(store, alert_id, within=20)
    assert log.per_chat() == {chat: 1 for chat in chats}
    assert status.sent == 5


async def wait_for_worker(store: Store) -> None:
    """Wait until a delivery worker has written its heartbeat."""
    for _ in range(100):
        if await delivery_reader(store).live_workers():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no delivery worker started")


async def test_a_dead_workers_batches_are_taken_over_once_its_heartbeat_expires(
    store: Store, sandbox: SandboxServer, redis_url: str, tmp_path: Path
) -> None:
    # An idle timeout of 10 minutes: only the expired heartbeat can explain a takeover within
    # the 30 s this test allows (the heartbeat lives 4 s).
    chats = await seed(store, sandbox, 400)
    log = record_sends(sandbox)
    worker = await start_worker(redis_url, sandbox.api_url, tmp_path, claim_idle=600)
    try:
        alert_id = await publish(store, await stored_article(store))
        await wait_for(lambda: log.count() >= 60, within=20)
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    assert log.count() < 400  # really killed mid-alert, holding batches
    assert await delivery_reader(store).live_workers() != []  # its heartbeat is still fresh
    config = engine_config(sandbox, rate=100.0, max_in_flight=IN_FLIGHT, claim_idle=600.0)
    async with running(store, config):
        status = await wait_done(store, alert_id, within=30)
    per_chat = log.per_chat()
    assert set(per_chat) == set(chats)
    assert _duplicates(per_chat) <= IN_FLIGHT
    assert status.sent == 400


async def test_graceful_stop_hands_work_back_without_duplicates(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 200)
    log = record_sends(sandbox)
    # A long claim timeout: only the hand-back on stop lets the next worker continue at once.
    config = engine_config(sandbox, rate=100.0, max_in_flight=IN_FLIGHT, claim_idle=30.0)
    async with running(store, config):
        alert_id = await publish(store, await stored_article(store))
        await wait_for(lambda: log.count() >= 50)
    stopped_at = log.count()
    assert stopped_at < 200
    status = await current_status(store, alert_id)
    assert status.sent == stopped_at  # every message sent before the stop was recorded
    async with running(store, config):
        await wait_done(store, alert_id, within=5)
    assert log.per_chat() == {chat: 1 for chat in chats}


async def current_status(store: Store, alert_id: str) -> AlertStatus:
    """The alert's status right now."""
    status = await delivery_reader(store).alert_status(alert_id)
    assert status is not None
    return status
