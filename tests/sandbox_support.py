"""Helpers for the sandbox tests: raw Bot API calls and RetryAfter in seconds."""

from __future__ import annotations

import datetime as dtm
from typing import Any

import aiohttp

from sandbox import SandboxServer
from tests.constants import BOT_TOKEN


async def call(
    http: aiohttp.ClientSession, server: SandboxServer, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    """POST a JSON Bot API request; (HTTP status, decoded body)."""
    async with http.post(f"{server.api_url}{BOT_TOKEN}/{method}", json=params) as resp:
        return resp.status, await resp.json()


def seconds(value: int | dtm.timedelta) -> float:
    """RetryAfter.retry_after as seconds, whichever type this PTB version returns."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
