"""The aiohttp transport and the lean sender fail exactly like python-telegram-bot's own."""

from __future__ import annotations

import json
import logging
import socket
import warnings
from collections.abc import Callable
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.delivery.config import DeliveryConfig
from bot.delivery.sender import DirectSender
from bot.delivery.transport import AiohttpRequest
from bot.store import Store
from bot.telegram_errors import ResultKind, SendResult, classify_error, retry_after_seconds
from sandbox.server import SandboxServer
from tests.constants import BOT_TOKEN
from tests.delivery_support import engine_config, publish, running, stored_article, wait_done

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

READER, BLOCKED, GONE, UNKNOWN = 501, 502, 503, 599


@pytest.fixture(autouse=True)
def readers(sandbox: SandboxServer) -> None:
    """In every test's sandbox: a reader, a user who blocked the bot and a deactivated one."""
    for user in (READER, BLOCKED, GONE):
        sandbox.state.add_user(user, "قارئ")
    sandbox.state.block(BLOCKED)
    sandbox.state.deactivate(GONE)


Scenario = tuple[str, int, str, Callable[[SandboxServer], None]]
SCENARIOS: list[Scenario] = [
    ("ok", READER, "<b>عاجل</b>", lambda s: None),
    ("blocked", BLOCKED, "نص", lambda s: None),
    ("deactivated", GONE, "نص", lambda s: None),
    ("chat not found", UNKNOWN, "نص", lambda s: None),
    ("bad html", READER, "<b>غير مغلق", lambda s: None),
    ("429", READER, "نص", lambda s: s.state.inject_429(count=1, retry_after=3)),
    ("500", READER, "نص", lambda s: s.state.inject_errors(1, 500)),
    ("502", READER, "نص", lambda s: s.state.inject_errors(1, 502)),
]

SCENARIO_IDS = [s[0] for s in SCENARIOS]


async def _ptb_outcome(
    request: BaseRequest, sandbox: SandboxServer, chat: int, text: str
) -> tuple[str, str] | None:
    """What ``Bot.send_message`` raised (type and message), ``None`` on success."""
    bot = Bot(BOT_TOKEN, base_url=sandbox.api_url, request=request)
    try:
        await bot.send_message(chat, text, parse_mode="HTML")
    except TelegramError as exc:
        return type(exc).__name__, exc.message
    return None


@pytest.mark.parametrize(
    ("name", "chat", "text", "prepare"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
async def test_aiohttp_transport_raises_what_httpx_raises(
    sandbox: SandboxServer,
    name: str,
    chat: int,
    text: str,
    prepare: Callable[[SandboxServer], None],
) -> None:
    outcomes = []
    for request in (HTTPXRequest(), AiohttpRequest()):
        await request.initialize()
        try:
            prepare(sandbox)
            outcomes.append(await _ptb_outcome(request, sandbox, chat, text))
        finally:
            await request.shutdown()
    assert outcomes[0] == outcomes[1]
    assert (outcomes[0] is None) == (name == "ok")


@pytest.mark.parametrize(
    ("name", "chat", "text", "prepare"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
async def test_lean_sender_classifies_like_ptb(
    sandbox: SandboxServer,
    name: str,
    chat: int,
    text: str,
    prepare: Callable[[SandboxServer], None],
) -> None:
    request = HTTPXRequest()
    await request.initialize()
    bot = Bot(BOT_TOKEN, base_url=sandbox.api_url, request=request)
    prepare(sandbox)
    try:
        message = await bot.send_message(chat, text, parse_mode="HTML")
        # The lean sender reads the new message's id too (corrections edit that message).
        expected = SendResult(ResultKind.OK, message_id=message.message_id + 1)
    except TelegramError as exc:
        expected = classify_error(exc)
    finally:
        await request.shutdown()
    sender = DirectSender(engine_config(sandbox))
    await sender.start()
    prepare(sandbox)
    try:
        body = json.dumps({"chat_id": chat, "text": text, "parse_mode": "HTML"}).encode()
        got = await sender.send(body)
    finally:
        await sender.close()
    assert got == expected
    kinds = {
        "ok": ResultKind.OK,
        "blocked": ResultKind.INACTIVE,
        "deactivated": ResultKind.INACTIVE,
        "chat not found": ResultKind.INACTIVE,
        "bad html": ResultKind.BAD_REQUEST,
        "429": ResultKind.RETRY_AFTER,
        "500": ResultKind.TRANSIENT,
        "502": ResultKind.TRANSIENT,
    }
    assert got.kind is kinds[name]
    if name == "429":
        assert got.retry_after == 3
    if got.kind is ResultKind.INACTIVE:
        assert (
            got.reason
            == {
                "blocked": "blocked",
                "deactivated": "deactivated",
                "chat not found": "chat_not_found",
            }[name]
        )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_network_errors_never_reveal_the_token() -> None:
    request = AiohttpRequest()
    await request.initialize()
    bot = Bot(BOT_TOKEN, base_url=f"http://127.0.0.1:{_closed_port()}/bot", request=request)
    try:
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(1, "x")
    finally:
        await request.shutdown()
    assert BOT_TOKEN not in str(caught.value)
    assert BOT_TOKEN.split(":")[1] not in repr(caught.value.__cause__)


async def test_slow_answers_time_out_like_ptb(sandbox: SandboxServer) -> None:
    sandbox.state.set_latency(400)
    request = AiohttpRequest(read_timeout=0.1)
    await request.initialize()
    bot = Bot(BOT_TOKEN, base_url=sandbox.api_url, request=request)
    try:
        with pytest.raises(TimedOut):
            await bot.send_message(READER, "x")
    finally:
        await request.shutdown()


async def test_the_token_never_reaches_the_logs(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = DeliveryConfig(
        api_url=f"http://127.0.0.1:{_closed_port()}/bot", token=BOT_TOKEN, send_retries=0
    )
    assert BOT_TOKEN not in repr(config)
    await store.subscribers.subscribe(1)
    async with running(store, config):
        alert_id = await publish(store, await stored_article(store))
        status = await wait_done(store, alert_id)
    assert status.failed == 1  # the network error was seen and logged
    assert "failed after 1 attempts" in caplog.text
    assert BOT_TOKEN.split(":")[1] not in caplog.text


@pytest.mark.parametrize("timedelta_mode", ["", "1"])
@pytest.mark.parametrize(
    ("given", "seconds"),
    [(3, 3.0), (timedelta(seconds=2), 2.0), (timedelta(milliseconds=300), 0.3)],
)
def test_retry_after_is_read_in_seconds_whatever_ptb_returns(
    monkeypatch: pytest.MonkeyPatch, timedelta_mode: str, given: int | timedelta, seconds: float
) -> None:
    # PTB_TIMEDELTA decides whether RetryAfter.retry_after is a number or a timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", timedelta_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        exc = RetryAfter(given)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert retry_after_seconds(exc) == pytest.approx(seconds)
        assert classify_error(exc).retry_after == pytest.approx(seconds)
    assert caught == []  # PTB's migration warning is not passed on to the logs
