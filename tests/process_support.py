"""``newsbot run`` / ``newsbot worker`` as real processes, for tests that signal them.

A test never signals the pytest process itself: a broken SIGTERM handler would then end the
whole run instead of failing one test.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.constants import ADMIN_ID, BOT_TOKEN

#: Longest a stop may take (the runtime's own shutdown bound is 10 s per part): a hang guard.
STOP_BOUND = 60.0


def newsbot_env(redis_url: str, api_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a test ``newsbot`` process: real Redis, the sandbox, no stray config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_URL=api_url,
        REDIS_URL=redis_url,
        NEWSBOT_ADMIN_IDS=str(ADMIN_ID),
        NEWSBOT_DATA_DIR=str(data_dir),
        NEWSBOT_CLAIM_IDLE_SECONDS="5",
        NEWSBOT_SEND_RETRIES="1",
    )
    env.update(extra)
    return env


@dataclass
class NewsbotProcess:
    """A running ``python -m bot ...`` whose stderr goes to a file."""

    proc: asyncio.subprocess.Process
    log_path: Path

    @property
    def running(self) -> bool:
        """Whether the process has not exited yet."""
        return self.proc.returncode is None

    def stderr(self) -> str:
        """What the process logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def terminate(self) -> int:
        """Send SIGTERM and wait (bounded) for the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), STOP_BOUND)


@asynccontextmanager
async def newsbot_process(
    command: list[str], env: dict[str, str], cwd: Path, name: str
) -> AsyncIterator[NewsbotProcess]:
    """Start ``python -m bot <command>``; killed on exit if the test left it running."""
    log_path = cwd / f"{name}.stderr.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *command, env=env, cwd=cwd,
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            yield NewsbotProcess(proc, log_path)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


def assert_stopped_cleanly(code: int, stderr: str) -> None:
    """Exit 0 after SIGTERM, the shutdown logged, no traceback, no ERROR line, no token."""
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert [line for line in stderr.splitlines() if " ERROR " in line] == []
    assert "newsbot stopped" in stderr
    assert BOT_TOKEN not in stderr
