"""The webhook server against hostile clients (issue 9): bad header bytes, huge bodies."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.runtime import Parts, Runtime, open_runtime
from bot.serving import MAX_UPDATE_BYTES, SECRET_HEADER
from sandbox import SandboxServer
from tests.e2e_harness import harness_settings
from tests.ingest_support import raw_request, status_of, wait_for

SECRET = "s3cr3t-webhook_token-for-hardening"
PATH = "/telegram/hook"
READER = 401
#: The bot alone, fed by its webhook (no workers, no HTTP API).
BOT_ONLY = Parts(workers=0, api=False, feeds=False, poll_timeout=1.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@pytest.fixture
async def hook(redis_url: str, redis: Redis) -> AsyncIterator[Hook]:
    port = _free_port()
    sandbox = SandboxServer()
    await sandbox.start()
    try:
        settings = harness_settings(
            redis_url,
            TELEGRAM_API_URL=sandbox.api_url,
            NEWSBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}{PATH}",
            NEWSBOT_WEBHOOK_SECRET=SECRET,
            NEWSBOT_WEBHOOK_LISTEN="127.0.0.1",
            NEWSBOT_WEBHOOK_PORT=port,
        )
        sandbox.state.add_user(READER, "سلمى")
        async with open_runtime(settings, BOT_ONLY) as runtime:
            yield Hook(port, runtime, sandbox)
    finally:
        await sandbox.stop()


@pytest.mark.parametrize("value", [b"\xff", b"\xc3(" + SECRET.encode(), SECRET.encode() + b"\x80"])
async def test_non_utf8_secret_header_bytes_are_a_wrong_secret(
    hook: Hook, caplog: pytest.LogCaptureFixture, value: bytes
) -> None:
    answer = await hook.post(b"{}", SECRET_HEADER.encode() + b": " + value)
    assert status_of(answer) == 403
    assert "Traceback" not in caplog.text and "Error handling request" not in caplog.text
    assert await hook.answers_updates()


async def test_an_update_body_over_the_limit_is_413(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"update_id": 1, "padding": "x" * MAX_UPDATE_BYTES}).encode()
    answer = await hook.post(body, f"{SECRET_HEADER}: {SECRET}".encode())
    assert status_of(answer) == 413
    assert "malformed update" not in caplog.text
    # Without a declared length (chunked), the limit holds while reading.
    async with (
        aiohttp.ClientSession() as http,
        http.post(hook.url, data=_chunks(body), headers={SECRET_HEADER: SECRET}) as response,
    ):
        assert response.status == 413
    assert await hook.answers_updates()


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


async def test_a_sender_that_disconnects_mid_body_is_no_server_error(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.serving")
    head = [
        f"POST {PATH} HTTP/1.1".encode(),
        b"Host: 127.0.0.1",
        f"{SECRET_HEADER}: {SECRET}".encode(),
        b"Content-Type: application/json",
        b"Content-Length: 5000",
        b"Expect: 100-continue",
    ]
    for _ in range(3):
        reader, writer = await asyncio.open_connection("127.0.0.1", hook.port)
        writer.write(b"\r\n".join([*head, b"", b""]))
        # "100 Continue": the server is handling the request and waits for its body.
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100")
        writer.write(b'{"update_id": 1, ')
        await writer.drain()
        writer.close()  # gone with most of the body still to come
        await writer.wait_closed()
    assert await hook.answers_updates()
    await wait_for(lambda: caplog.text.count("webhook: sender disconnected") == 3)
    assert "Traceback" not in caplog.text and "Error handling request" not in caplog.text
    assert "malformed update" not in caplog.text
