"""The suite's shared fixtures, registered once (``pytest_plugins`` in tests/conftest.py).

Each resource a test may need several of has a factory fixture (``make_…``) that starts it
and stops everything it started when the test ends; the plain fixture is one of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import telegram
from redis.asyncio import Redis

from bot.redis_conn import client_options
from bot.store import Store
from sandbox import SandboxServer
from tests.constants import BOT_TOKEN, SANDBOX_USER
from tests.ingest_support import FeedServer
from tests.redis_support import RedisServer, wait_for_ping

SandboxFactory = Callable[..., Awaitable[SandboxServer]]


@pytest.fixture
async def make_sandbox() -> AsyncIterator[SandboxFactory]:
    """Start sandboxes (``SandboxServer`` options as keywords); all stopped after the test."""
    started: list[SandboxServer] = []

    async def make(**options: Any) -> SandboxServer:
        server = SandboxServer(**options)
        await server.start()
        started.append(server)
        return server

    yield make
    for server in reversed(started):
        await server.stop()


@pytest.fixture
async def sandbox(make_sandbox: SandboxFactory) -> SandboxServer:
    """A fresh simulated Telegram on a free port, with no users yet."""
    return await make_sandbox()


@pytest.fixture
def sandbox_user(sandbox: SandboxServer) -> int:
    """The sandbox tests' user (``SANDBOX_USER``, no username), who can receive messages."""
    sandbox.state.add_user(SANDBOX_USER, "سارة")
    return SANDBOX_USER


@pytest.fixture
async def ptb_bot(sandbox: SandboxServer) -> AsyncIterator[telegram.Bot]:
    """A plain python-telegram-bot ``Bot`` pointed at the sandbox."""
    async with telegram.Bot(BOT_TOKEN, base_url=sandbox.api_url) as bot:
        yield bot


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client for wire-level checks."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A started redis-server of the test's own, which the test may kill and restart."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill()


@pytest.fixture
async def own_store(redis_server: RedisServer) -> AsyncIterator[Store]:
    """The project's store over ``redis_server`` (which the test may kill and restart)."""
    client = Redis.from_url(redis_server.url, **client_options())
    await wait_for_ping(client)
    try:
        yield Store.create(client)
    finally:
        await client.aclose()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A started local feed server (ETag/304 support) whose feeds a test sets."""
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.close()
