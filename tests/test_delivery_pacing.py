"""What leaves the bot stays within the rate in every sliding second, also when its loop stalls.

The shared schedule (on Redis' clock) never books more than the rate in a second
(tests/test_delivery_engine.py); this checks the requests themselves, as they leave the engine's
sender for the Bot API, against a sandbox in its own process 200 ms away with its flood limits
at the rate (as Telegram would be: a stall of the bot's loop does not stall its counting). The
bot's loop is blocked now and then, as on a busy machine: the sends booked during a stall must
not go out together, on top of the ones booked after it. Telegram counts on arrival, a few
milliseconds later; the 2 % the engine leaves under the rate is for that jitter. The sandbox's
429 count is reported, not asserted: on a loaded 2-core test machine its own process can be
descheduled for longer than that (tests/test_delivery_engine.py says the same of its arrivals).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.delivery.config import DeliveryConfig
from bot.delivery.sender import DirectSender
from bot.store import Store
from tests.constants import BOT_TOKEN
from tests.delivery_support import (
    max_in_window,
    publish,
    running,
    seed,
    stored_article,
    wait_done,
)

#: The bunching does not depend on the rate: a stall of 150 ms releases up to 150 ms of slots at
#: once, five times the schedule's 3 % margin, at any rate. A rate that every test machine
#: sustains between the stalls lets the test fail anywhere without the fix (bench/delivery.py's
#: latency mode measures the same at 1,000 msg/s, where a loaded machine may not keep up).
RATE = 250
CHATS = 8 * RATE
#: How long the bot's loop is blocked, and how often: a loaded 2-core machine does worse.
STALL = 0.15
STALL_EVERY = 2.0


@contextlib.asynccontextmanager
async def sandbox_process(**config: Any) -> AsyncIterator[str]:
    """``python -m sandbox`` in a child process, configured; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ["-m", "sandbox", "--port", str(port), "--no-history", "--log-level", "WARNING"]
    process = await asyncio.create_subprocess_exec(sys.executable, *args, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        while b"TELEGRAM_API_URL" not in (line := await process.stdout.readline()):
            assert line, "the sandbox did not start"
        base = f"http://127.0.0.1:{port}"
        await control(base, "POST", "config", config)
        yield base
    finally:
        process.terminate()
        await process.wait()


async def control(base: str, method: str, path: str, body: object = None) -> dict[str, Any]:
    """One call of the sandbox's control API; its result."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{base}/sandbox/{path}", json=body) as resp,
    ):
        data = await resp.json()
    result = data.get("result", data)
    assert isinstance(result, dict)
    return result


async def stall_the_loop(stop: asyncio.Event) -> None:
    """Block the event loop for ``STALL`` every ``STALL_EVERY`` until ``stop``."""
    while not stop.is_set():
        await asyncio.sleep(STALL_EVERY)
        time.sleep(STALL)  # noqa: ASYNC251 - the point: nothing else runs meanwhile


async def test_with_a_stalling_loop_200_ms_away_no_second_of_sends_holds_more_than_the_rate(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent_at: list[float] = []
    send = DirectSender.send

    async def timed_send(self: DirectSender, body: bytes, method: str = "sendMessage") -> Any:
        sent_at.append(time.monotonic())  # the request is written before this call yields
        return await send(self, body, method)

    monkeypatch.setattr(DirectSender, "send", timed_send)
    await seed(store, None, CHATS)
    article = await stored_article(store)
    flood = {"enabled": True, "global_per_second": RATE, "private_per_second": 1}
    async with sandbox_process(
        auto_create_chats=True, check_answers=False, latency_ms=200, flood=flood
    ) as base:
        config = DeliveryConfig(api_url=f"{base}/bot", token=BOT_TOKEN, rate=float(RATE))
        stop = asyncio.Event()
        async with running(store, config):
            stalls = asyncio.create_task(stall_the_loop(stop))
            alert_id = await publish(store, article)
            status = await wait_done(store, alert_id, within=120)
            stop.set()
            await stalls
        stats = await control(base, "GET", "stats")
        peak = (await control(base, "GET", "config"))["peak_per_second"]
    assert (status.sent, status.pending) == (CHATS, 0)
    arrived = f"sandbox: busiest second {peak}, {stats['errors_429']} x 429"
    assert max_in_window(sent_at) <= RATE, arrived
