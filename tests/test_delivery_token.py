"""A revoked bot token pauses every worker process at once, and every /readyz says so."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.ops.health import ReadinessProbe
from bot.store import Store
from sandbox.server import SandboxServer
from tests.constants import BOT_TOKEN
from tests.delivery_support import (
    DKEYS,
    delivery_reader,
    engine_config,
    publish,
    record_sends,
    redis_now_us,
    running,
    seed,
    stored_article,
    wait_done,
)
from tests.waiting import wait_for as wait_until

#: Long enough for a second worker process to start while it lasts.
PAUSE = 8.0


async def test_a_revoked_token_pauses_a_second_worker_process(
    store: Store, sandbox: SandboxServer, redis_url: str, tmp_path: Path
) -> None:
    first_chats = await seed(store, sandbox, 3)
    log = record_sends(sandbox)
    sandbox.state.configure(rejected_tokens={BOT_TOKEN})  # revoked in @BotFather
    config = engine_config(sandbox, invalid_token_pause=PAUSE)
    async with running(store, config):
        first = await publish(store, await stored_article(store, title="عاجل: الأول"))
        await wait_until(lambda: delivery_reader(store).token_rejected(), what="the 401 pause")
    # That worker is gone; the pause it met is Redis' now, for whoever sends next.
    paused_until = int(await store.redis.get(DKEYS.rate_global) or 0)
    assert paused_until > await redis_now_us(store) + 2_000_000
    # Every process's /readyz (here: a probe of its own over the same Redis) is unready.
    probe = ReadinessProbe(store, delivery=delivery_reader(store), require_telegram=False)
    check = (await probe.check()).checks["telegram"]
    assert check["ok"] is False and "401" in str(check["detail"])

    sandbox.state.configure(rejected_tokens=set())  # the token is valid again
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_URL": sandbox.api_url,
        "REDIS_URL": redis_url,
        "NEWSBOT_RATE_LIMIT": "100",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "worker", env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await wait_until(lambda: _has_live_worker(store), within=20, what="the worker process")
        # The new process never met the 401 itself: the shared pause alone holds it back.
        while await redis_now_us(store) < paused_until - 500_000:
            assert log.count() == 0, "a worker sent while the token pause was on"
            await asyncio.sleep(0.1)
        status = await wait_done(store, first, within=20)
    finally:
        worker.send_signal(signal.SIGTERM)
        await worker.wait()
    assert status.sent == len(first_chats)
    assert set(log.per_chat()) == set(first_chats)
    # Sending works again: the flag expires shortly after the pause (no 401 renewed it).
    await wait_until(lambda: _flag_cleared(probe), within=15, what="readiness back")


async def _has_live_worker(store: Store) -> bool:
    return bool(await delivery_reader(store).live_workers())


async def _flag_cleared(probe: ReadinessProbe) -> bool:
    return bool((await probe.check()).checks["telegram"]["ok"])
