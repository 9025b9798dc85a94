"""Slow clients (slowloris): the API and the webhook bound header and body reads (issue 9).

A connection that trickles its headers or its body is closed after a bound, whatever it keeps
sending, and other clients are served meanwhile. The bounds are set short here
(``NEWSBOT_HTTP_HEADER_TIMEOUT``/``NEWSBOT_HTTP_BODY_TIMEOUT``); ``asyncio.timeout`` below
only keeps a regression from hanging the suite.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.serving import SECRET_HEADER
from tests.constants import API_TOKEN
from tests.ingest_support import LiveApi, live_api, status_of, trickle
from tests.webhook_support import PATH, SECRET, Hook, webhook_bot

BOUND = 1.0
#: Far longer than the bound; a connection still open then was never closed.
HANG = 20.0

SLOW_HEADERS = b"POST /api/articles HTTP/1.1\r\nHost: localhost\r\n"
SLOW_BODY = b"\r\n".join(
    [
        b"POST /api/articles HTTP/1.1",
        b"Host: localhost",
        f"Authorization: Bearer {API_TOKEN}".encode(),
        b"Content-Type: text/plain",
        b"Content-Length: 100000",
        b"",
        "عنوان\n".encode(),
    ]
)


@pytest.fixture
async def api(redis_url: str, redis: Redis) -> AsyncIterator[LiveApi]:
    async with live_api(
        redis_url, NEWSBOT_HTTP_HEADER_TIMEOUT=BOUND, NEWSBOT_HTTP_BODY_TIMEOUT=BOUND
    ) as served:
        yield served


async def _served_meanwhile(api: LiveApi) -> None:
    """Another client gets its answers while the slow ones are connected."""
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.get(f"{api.url}/healthz") as resp:
                assert resp.status == 200
            await asyncio.sleep(BOUND / 2)


async def test_trickled_headers_are_cut_off_and_others_are_served(api: LiveApi) -> None:
    slow = [
        asyncio.create_task(trickle(api.host, api.port, SLOW_HEADERS, b"X: y\r\n", every=0.2))
        for _ in range(5)
    ]
    await _served_meanwhile(api)
    async with asyncio.timeout(HANG):
        answers = await asyncio.gather(*slow)
    assert answers == [b""] * 5  # closed; no request was ever complete, so no answer


async def test_a_trickled_body_gets_408_and_is_closed_and_others_are_served(
    api: LiveApi,
) -> None:
    slow = [
        asyncio.create_task(trickle(api.host, api.port, SLOW_BODY, b"x", every=0.2))
        for _ in range(5)
    ]
    await _served_meanwhile(api)
    async with asyncio.timeout(HANG):
        answers = await asyncio.gather(*slow)
    for answer in answers:
        assert status_of(answer) == 408
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["code"] == "timeout"
    assert await api.store.articles.count() == 0


@pytest.fixture
async def hook(redis_url: str, redis: Redis) -> AsyncIterator[Hook]:
    async with webhook_bot(
        redis_url, NEWSBOT_HTTP_HEADER_TIMEOUT=BOUND, NEWSBOT_HTTP_BODY_TIMEOUT=BOUND
    ) as served:
        yield served


async def test_the_webhook_cuts_off_trickled_headers_and_bodies_and_answers_updates(
    hook: Hook,
) -> None:
    headers = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
    body = b"\r\n".join(
        [
            f"POST {PATH} HTTP/1.1".encode(),
            b"Host: 127.0.0.1",
            f"{SECRET_HEADER}: {SECRET}".encode(),
            b"Content-Type: application/json",
            b"Content-Length: 100000",
            b"",
            b'{"update_id": 1, ',
        ]
    )
    slow_headers = [
        asyncio.create_task(trickle("127.0.0.1", hook.port, headers, b"X: y\r\n", every=0.2))
        for _ in range(3)
    ]
    slow_bodies = [
        asyncio.create_task(trickle("127.0.0.1", hook.port, body, b" ", every=0.2))
        for _ in range(3)
    ]
    assert await hook.answers_updates()  # Telegram's own deliveries get through meanwhile
    async with asyncio.timeout(HANG):
        assert await asyncio.gather(*slow_headers) == [b""] * 3
        assert [status_of(a) for a in await asyncio.gather(*slow_bodies)] == [408] * 3
    assert await hook.answers_updates()
