"""Fixtures shared by the sandbox tests: a running sandbox, a PTB bot on it, a raw HTTP client."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import telegram

from sandbox import SandboxServer

TOKEN = "123456789:AAFakeSandboxTokenForTests_0123456789"
USER = 1001


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    """A sandbox on a free port with one user (1001, no username) who can receive messages."""
    srv = SandboxServer()
    await srv.start()
    srv.state.add_user(USER, "سارة")
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[telegram.Bot]:
    """A real python-telegram-bot ``Bot`` pointed at the sandbox."""
    async with telegram.Bot(TOKEN, base_url=server.api_url) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client for wire-level checks."""
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, server: SandboxServer, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    """POST a JSON Bot API request; (HTTP status, decoded body)."""
    async with http.post(f"{server.api_url}{TOKEN}/{method}", json=params) as resp:
        return resp.status, await resp.json()


def seconds(value: int | dtm.timedelta) -> float:
    """RetryAfter.retry_after as seconds, whichever type this PTB version returns."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
