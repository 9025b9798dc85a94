"""A bot fed by its webhook against the sandbox, for tests of the webhook server."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.runtime import Parts, Runtime, open_runtime
from bot.serving import SECRET_HEADER
from sandbox import SandboxServer
from tests.constants import WEBHOOK_SECRET
from tests.e2e_harness import harness_settings
from tests.ingest_support import raw_request
from tests.ports import free_port

SECRET = WEBHOOK_SECRET
PATH = "/telegram/hook"
READER = 401
#: The bot alone, fed by its webhook (no workers, no HTTP API).
BOT_ONLY = Parts(workers=0, api=False, feeds=False, poll_timeout=1.0)


@dataclass
class Hook:
    """A bot running in webhook mode against the sandbox."""

    port: int
    runtime: Runtime
    sandbox: SandboxServer

    @property
    def url(self) -> str:
        """The webhook's URL."""
        return f"http://127.0.0.1:{self.port}{PATH}"

    async def post(self, body: bytes, *extra_headers: bytes) -> bytes:
        """A raw POST to the webhook (``Connection: close``); the raw answer."""
        head = [
            f"POST {PATH} HTTP/1.1".encode(),
            b"Host: 127.0.0.1",
            b"Connection: close",
            b"Content-Type: application/json",
            f"Content-Length: {len(body)}".encode(),
            *extra_headers,
        ]
        return await raw_request("127.0.0.1", self.port, b"\r\n".join([*head, b"", body]))

    async def answers_updates(self) -> bool:
        """Whether an update with the right secret still reaches the bot and is answered."""
        before = len(self.sandbox.state.bot_messages(READER))
        update = {
            "update_id": int(time.time() * 1000) % 2**31,
            "message": {
                "message_id": 77,
                "date": int(time.time()),
                "chat": {"id": READER, "type": "private", "first_name": "سلمى"},
                "from": {"id": READER, "is_bot": False, "first_name": "سلمى"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, json=update, headers={SECRET_HEADER: SECRET}) as response,
        ):
            if response.status != 200:
                return False
        await self.sandbox.state.wait_for_bot_messages(READER, before + 1, 15)
        return True


@contextlib.asynccontextmanager
async def webhook_bot(redis_url: str, **settings: Any) -> AsyncIterator[Hook]:
    """The bot alone in webhook mode (secret ``SECRET``, on a free port) against a sandbox."""
    port = free_port()
    sandbox = SandboxServer()
    await sandbox.start()
    try:
        config = harness_settings(
            redis_url,
            TELEGRAM_API_URL=sandbox.api_url,
            NEWSBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}{PATH}",
            NEWSBOT_WEBHOOK_SECRET=SECRET,
            NEWSBOT_WEBHOOK_LISTEN="127.0.0.1",
            NEWSBOT_WEBHOOK_PORT=port,
            **settings,
        )
        sandbox.state.add_user(READER, "سلمى")
        async with open_runtime(config, BOT_ONLY) as runtime:
            yield Hook(port, runtime, sandbox)
    finally:
        await sandbox.stop()
