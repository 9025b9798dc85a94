"""Where delivery runs: ``newsbot run`` without workers, next to a ``newsbot worker`` process."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from bot.runtime import Parts, open_runtime
from sandbox import SandboxServer
from tests.e2e_harness import harness_settings
from tests.process_support import assert_stopped_cleanly, newsbot_env, newsbot_process

READER = 302


async def test_run_without_workers_serves_while_a_worker_process_delivers(
    redis_url: str, redis: Redis, seed_text: str, tmp_path: Path
) -> None:
    sandbox = SandboxServer()
    await sandbox.start()
    try:
        sandbox.state.add_user(READER, "سلمى")
        run_dir, worker_dir = tmp_path / "run", tmp_path / "worker"
        run_dir.mkdir()
        worker_dir.mkdir()
        run_env = newsbot_env(
            redis_url, sandbox.api_url, run_dir, NEWSBOT_API_PORT="0", NEWSBOT_RUN_WORKERS="0"
        )
        # Delivery runs elsewhere: `newsbot worker` in its own process, on the same Redis.
        worker_env = newsbot_env(redis_url, sandbox.api_url, worker_dir)
        async with (
            newsbot_process(["run"], run_env, run_dir, "run") as bot,
            newsbot_process(["worker"], worker_env, worker_dir, "worker") as worker,
        ):
            sandbox.state.user_sends(READER, "/start")
            [greeting] = await sandbox.state.wait_for_bot_messages(READER, 1, 30)
            assert "أهلاً سلمى" in greeting.visible_text
            settings = harness_settings(redis_url, TELEGRAM_API_URL=sandbox.api_url)
            async with open_runtime(settings, Parts.none()) as other:
                await other.services.ingestor.ingest_bytes(seed_text.encode("utf-8"))
            [_, alert] = await sandbox.state.wait_for_bot_messages(READER, 2, 30)
            assert "عاجل" in alert.visible_text
            # Still serving after the alert (which took the worker process seconds to start and
            # send): a bot with no workers of its own is not a part that ended.
            assert bot.running, bot.stderr()
            assert worker.running, worker.stderr()
            bot_code = await bot.terminate()
            worker_code = await worker.terminate()
        # Both stop gracefully on SIGTERM.
        assert_stopped_cleanly(bot_code, bot.stderr())
        assert_stopped_cleanly(worker_code, worker.stderr())
    finally:
        await sandbox.stop()
