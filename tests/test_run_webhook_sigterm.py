"""``newsbot run`` in webhook mode, as a process: SIGTERM stops it cleanly, webhook kept."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from redis.asyncio import Redis

from sandbox import SandboxServer
from tests.constants import BOT_TOKEN, WEBHOOK_SECRET
from tests.ports import free_port
from tests.waiting import wait_for

READER = 4101
PATH = "/telegram/hook"
#: Longest a stop may take (the runtime's own shutdown bound is 10 s per part): a hang guard.
STOP_BOUND = 60.0


async def test_run_in_webhook_mode_stops_on_sigterm_with_exit_0_and_keeps_the_webhook(
    redis_url: str, redis: Redis, sandbox: SandboxServer, tmp_path: Path
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}{PATH}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_URL=sandbox.api_url,
        REDIS_URL=redis_url,
        NEWSBOT_WEBHOOK_URL=hook,
        NEWSBOT_WEBHOOK_SECRET=WEBHOOK_SECRET,
        NEWSBOT_WEBHOOK_LISTEN="127.0.0.1",
        NEWSBOT_WEBHOOK_PORT=str(port),
        NEWSBOT_API_PORT="0",
        NEWSBOT_RUN_WORKERS="1",
        NEWSBOT_DATA_DIR=str(tmp_path),
    )
    sandbox.state.add_user(READER, "سلمى")
    log_path = tmp_path / "stderr.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stderr=log,
        )  # fmt: skip
        try:
            await wait_for(
                lambda: sandbox.state.webhook.info()["url"] == hook,
                within=30,
                what="the webhook registered",
            )
            # Updates reach it through the webhook: the reader is answered.
            sandbox.state.user_sends(READER, "/start")
            [greeting] = await sandbox.state.wait_for_bot_messages(READER, 1, 30)
            assert "أهلاً سلمى" in greeting.visible_text
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), STOP_BOUND)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    stderr = log_path.read_text(encoding="utf-8")
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert [line for line in stderr.splitlines() if " ERROR " in line] == []
    assert "newsbot stopped" in stderr
    assert BOT_TOKEN not in stderr
    # Left registered by design: Telegram keeps the updates sent while the bot restarts.
    assert sandbox.state.webhook.info()["url"] == hook
    sandbox.state.user_sends(READER, "/help")
    assert sandbox.state.webhook.info()["pending_update_count"] >= 1
