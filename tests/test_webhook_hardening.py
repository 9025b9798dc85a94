"""The webhook server against hostile clients (issue 9): bad header bytes, huge bodies."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.serving import MAX_UPDATE_BYTES, SECRET_HEADER
from tests.ingest_support import status_of
from tests.waiting import wait_for
from tests.webhook_support import PATH, SECRET, Hook, webhook_bot


@pytest.fixture
async def hook(redis_url: str, redis: Redis) -> AsyncIterator[Hook]:
    async with webhook_bot(redis_url) as served:
        yield served


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
