"""Where delivery runs: ``newsbot run`` without workers, next to a ``newsbot worker`` process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from bot.runtime import Parts, open_runtime
from config import Settings
from sandbox import SandboxServer
from tests.constants import BOT_TOKEN
from tests.e2e_harness import harness_settings


async def run_bot(settings: Settings) -> None:
    """What ``newsbot run`` does: the runtime with every part, until SIGINT/SIGTERM."""
    parts = Parts(workers=settings.workers_in_run, poll_timeout=1.0)
    async with open_runtime(settings, parts) as runtime:
        await runtime.serve_until_signal()


READER = 302


async def test_run_without_workers_serves_while_a_worker_process_delivers(
    redis_url: str, redis: Redis, seed_text: str, tmp_path: Path
) -> None:
    sandbox = SandboxServer()
    await sandbox.start()
    worker: asyncio.subprocess.Process | None = None
    try:
        settings = harness_settings(
            redis_url, TELEGRAM_API_URL=sandbox.api_url, NEWSBOT_API_PORT=0, NEWSBOT_RUN_WORKERS=0
        )
        sandbox.state.add_user(READER, "سلمى")
        running = asyncio.create_task(run_bot(settings))
        # Delivery runs elsewhere: `newsbot worker` in its own process, on the same Redis.
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_URL": sandbox.api_url,
            "REDIS_URL": redis_url,
        }
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "worker", env=env, cwd=tmp_path,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        sandbox.state.user_sends(READER, "/start")
        [greeting] = await sandbox.state.wait_for_bot_messages(READER, 1, 15)
        assert "أهلاً سلمى" in greeting.visible_text
        async with open_runtime(settings, Parts.none()) as other:
            await other.services.ingestor.ingest_bytes(seed_text.encode("utf-8"))
        [_, alert] = await sandbox.state.wait_for_bot_messages(READER, 2, 20)
        assert "عاجل" in alert.visible_text
        # Still serving after the alert (which took the worker process seconds to start and
        # send): a bot with no workers of its own is not a part that ended.
        assert not running.done()
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 30)
        assert running.exception() is None
    finally:
        if worker is not None and worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
            await asyncio.wait_for(worker.wait(), 30)
        await sandbox.stop()
    assert worker.returncode == 0  # stopped gracefully
