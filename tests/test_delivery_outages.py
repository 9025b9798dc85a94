"""Redis down when a worker starts or stops, and a stop while Telegram answers slowly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from bot.store import Store
from sandbox.server import SandboxServer
from tests.constants import BOT_TOKEN
from tests.delivery_support import (
    delivery_reader,
    engine,
    engine_config,
    publish,
    record_sends,
    running,
    seed,
    stored_article,
    wait_done,
)
from tests.redis_support import RedisServer, wait_for_ping
from tests.waiting import wait_for

IN_FLIGHT = 16
#: What a worker's stop may take at most, by construction: in-flight sends (each bounded by
#: the 15 s request timeout), its loops (5 s + 1), the outcomes still to write (10 s + 2) and
#: the hand-back (5 s). A hang guard, not a speed claim.
STOP_BOUND = 40.0


def test_a_worker_process_started_while_redis_is_down_says_so_in_one_line(
    redis_server: RedisServer,
) -> None:
    redis_server.kill()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update(TELEGRAM_BOT_TOKEN=BOT_TOKEN, REDIS_URL=redis_server.url)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "worker"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2  # a configuration problem, not a crash
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("newsbot: REDIS_URL: cannot connect to Redis")
    assert BOT_TOKEN not in result.stderr


async def test_a_worker_started_while_redis_is_down_waits_and_delivers_once_it_is_back(
    sandbox: SandboxServer,
    redis_server: RedisServer,
    own_store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = own_store
    chats = await seed(store, sandbox, 20)
    log = record_sends(sandbox)
    redis_server.kill()
    async with running(store, engine_config(sandbox, claim_idle=2.0)) as service:
        await wait_for(
            lambda: "delivery worker: Redis unavailable" in caplog.text,
            what="the worker noticing Redis is down",
        )
        redis_server.start()
        await wait_for_ping(store.redis)
        alert_id = await publish(store, await stored_article(store))
        status = await wait_done(store, alert_id, within=30)
        assert service.workers == 1
    assert log.per_chat() == {chat: 1 for chat in chats}
    assert status.sent == len(chats)
    waiting = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in waiting)


async def test_a_stop_while_redis_is_down_ends_in_bounded_time_and_loses_nothing(
    sandbox: SandboxServer, redis_server: RedisServer, own_store: Store
) -> None:
    store = own_store
    chats = await seed(store, sandbox, 300)
    log = record_sends(sandbox)
    sandbox.state.set_latency(50)  # sends are in flight when Redis goes
    config = engine_config(sandbox, rate=100.0, max_in_flight=IN_FLIGHT, claim_idle=2.0)
    stop = asyncio.Event()
    task = asyncio.create_task(engine(store, config).run(stop))
    alert_id = await publish(store, await stored_article(store))
    await wait_for(lambda: log.count() >= 60, within=20)
    redis_server.kill()
    stop.set()
    await asyncio.wait_for(task, STOP_BOUND)  # returns; raising nothing
    sent_before = log.count()
    assert sent_before < len(chats)
    # Redis back: another worker finishes the alert. Chats sent but never recorded (Redis was
    # gone) are sent again, at most what was in flight; nobody is left out.
    redis_server.start()
    await wait_for_ping(store.redis)
    async with running(store, config):
        status = await wait_done(store, alert_id, within=30)
    per_chat = log.per_chat()
    assert set(per_chat) == set(chats)
    assert sum(n - 1 for n in per_chat.values()) <= IN_FLIGHT
    assert status.sent == len(chats)


async def test_a_stop_while_telegram_answers_slowly_records_every_send_in_flight(
    sandbox: SandboxServer, store: Store
) -> None:
    chats = await seed(store, sandbox, 200)
    log = record_sends(sandbox)
    # Every message is delivered at once and answered 1.5 s later: at the stop, the sends in
    # flight have reached their readers but the worker does not know it yet.
    sandbox.state.configure(answer_latency_ms=1500)
    config = engine_config(sandbox, rate=100.0, max_in_flight=IN_FLIGHT, claim_idle=30.0)
    stop = asyncio.Event()
    task = asyncio.create_task(engine(store, config).run(stop))
    alert_id = await publish(store, await stored_article(store))
    reader = delivery_reader(store)

    async def sends_in_flight() -> bool:
        status = await reader.alert_status(alert_id)
        return status is not None and status.sent >= 1

    await wait_for(sends_in_flight, within=20, what="the first slow answers")
    stop.set()
    await asyncio.wait_for(task, STOP_BOUND)
    status = await reader.alert_status(alert_id)
    assert status is not None
    # Every message Telegram accepted before the worker stopped is recorded as sent: the sends
    # in flight at the stop were waited for, not abandoned.
    assert status.sent == log.count() < len(chats)
    sandbox.state.configure(answer_latency_ms=0)
    async with running(store, config):
        await wait_done(store, alert_id, within=30)
    assert log.per_chat() == {chat: 1 for chat in chats}
