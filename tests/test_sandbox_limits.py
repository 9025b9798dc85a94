"""Refusals the delivery engine must handle: 403s, flood limits, injected 429s and 5xx."""

from __future__ import annotations

import asyncio
import time

import pytest
import telegram

from sandbox import FloodConfig, SandboxServer
from tests.constants import BOT_TOKEN
from tests.constants import SANDBOX_USER as USER
from tests.sandbox_support import seconds

# PTB 22 warns about RetryAfter.retry_after becoming a timedelta; the tests accept both.
pytestmark = [
    pytest.mark.usefixtures("sandbox_user"),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


async def test_blocked_and_deactivated_users_are_forbidden(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.block(USER)
    with pytest.raises(telegram.error.Forbidden, match=r"(?i)bot was blocked by the user"):
        await ptb_bot.send_message(USER, "x")
    state.unblock(USER)
    await ptb_bot.send_message(USER, "x")
    state.add_user(2002, "علي", "ali")
    state.deactivate(2002)
    with pytest.raises(telegram.error.Forbidden, match=r"(?i)user is deactivated"):
        await ptb_bot.send_message(2002, "x")
    stats = state.stats()
    assert (stats["sent_ok"], stats["errors_403"]) == (1, 2)


async def test_private_chat_flood_limit(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> None:
    sandbox.state.set_flood(True, private_per_second=1)
    await ptb_bot.send_message(USER, "1")
    with pytest.raises(telegram.error.RetryAfter) as info:
        await ptb_bot.send_message(USER, "2")
    assert seconds(info.value.retry_after) == 1
    await asyncio.sleep(1.05)  # the 1 s window slides past the first send
    await ptb_bot.send_message(USER, "3")
    assert sandbox.state.stats()["errors_429"] == 1


async def test_global_flood_limit_and_group_limit(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.set_flood(True, global_per_second=5, group_per_minute=2)
    for user_id in range(3001, 3006):
        state.add_user(user_id, "قارئ")
        await ptb_bot.send_message(user_id, "x")
    state.add_user(3006, "قارئ")
    with pytest.raises(telegram.error.RetryAfter):
        await ptb_bot.send_message(3006, "x")
    state.set_flood(True, group_per_minute=2)
    state.add_chat(-100700, "group")
    await ptb_bot.send_message(-100700, "1")
    await ptb_bot.send_message(-100700, "2")
    with pytest.raises(telegram.error.RetryAfter) as info:
        await ptb_bot.send_message(-100700, "3")
    assert 55 <= seconds(info.value.retry_after) <= 60  # the 60 s group window
    state.set_flood(False)
    await ptb_bot.send_message(-100700, "4")


async def test_flood_from_constructor_and_flood_off_by_default() -> None:
    async with SandboxServer() as free, SandboxServer(flood=FloodConfig()) as limited:
        for srv in (free, limited):
            srv.state.add_user(USER, "سارة")
        async with telegram.Bot(BOT_TOKEN, base_url=free.api_url) as fast:
            for _ in range(5):
                await fast.send_message(USER, "x")
        async with telegram.Bot(BOT_TOKEN, base_url=limited.api_url) as slow:
            await slow.send_message(USER, "x")
            with pytest.raises(telegram.error.RetryAfter):
                await slow.send_message(USER, "x")


async def test_injected_429_storm(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> None:
    sandbox.state.inject_429(count=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(telegram.error.RetryAfter) as info:
            await ptb_bot.send_message(USER, "x")
        assert seconds(info.value.retry_after) == 7
    await ptb_bot.send_message(USER, "passes")
    sandbox.state.inject_429(count=0, retry_after=3, seconds=0.3)
    with pytest.raises(telegram.error.RetryAfter):
        await ptb_bot.send_message(USER, "x")
    await asyncio.sleep(0.35)
    await ptb_bot.send_message(USER, "passes again")
    assert sandbox.state.stats()["errors_429"] == 3


async def test_injected_server_errors(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> None:
    sandbox.state.inject_errors(2, status=502)
    for _ in range(2):
        with pytest.raises(telegram.error.NetworkError, match="Bad Gateway"):
            await ptb_bot.send_message(USER, "x")
    await ptb_bot.send_message(USER, "ok")
    sandbox.state.inject_errors(1.0)
    with pytest.raises(telegram.error.NetworkError, match="Internal Server Error"):
        await ptb_bot.send_message(USER, "x")
    sandbox.state.inject_errors(0)
    await ptb_bot.send_message(USER, "ok")
    stats = sandbox.state.stats()
    assert (stats["sent_ok"], stats["errors_other"], stats["errors_5xx"]) == (2, 3, 3)
    assert len(sandbox.state.bot_messages(USER)) == 2  # failed sends leave no message behind


async def test_errors_injected_for_one_method_fail_that_method_only(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.inject_errors(2, status=500, method="getchatmember")  # Telegram's names ignore case
    assert state.flood.injected()["method_errors"] == {
        "getChatMember": {"count": 2, "rate": 0.0, "status": 500}
    }
    await ptb_bot.send_message(USER, "sends are not affected")
    for _ in range(2):
        with pytest.raises(telegram.error.NetworkError, match="Internal Server Error"):
            await ptb_bot.get_chat_member(USER, USER)
    assert (await ptb_bot.get_chat_member(USER, USER)).status == "member"
    assert state.flood.injected()["method_errors"] == {}

    state.inject_errors(1.0, status=503, method="getChatMember")
    with pytest.raises(telegram.error.NetworkError, match="Service Unavailable"):
        await ptb_bot.get_chat_member(USER, USER)
    state.inject_errors(0, method="getChatMember")  # stopped
    await ptb_bot.get_chat_member(USER, USER)
    with pytest.raises(ValueError, match="not a Bot API method"):
        state.inject_errors(1, method="getChatMembers")
    state.inject_errors(3, method="getChatMember")
    state.reset()
    assert state.flood.injected()["method_errors"] == {}


async def test_latency_is_added(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> None:
    sandbox.state.set_latency(150)
    started = time.monotonic()
    await ptb_bot.send_message(USER, "x")
    assert time.monotonic() - started >= 0.15


async def test_reset_forgets_everything_but_update_ids(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.user_sends(USER, "قبل")
    (before,) = await ptb_bot.get_updates()
    state.inject_429(count=5)
    state.reset()
    assert state.stats()["requests"] == 0 and state.list_users() == []
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)chat not found"):
        await ptb_bot.send_message(USER, "x")  # no 429: injections were cleared too
    after = state.user_sends(USER, "بعد")
    assert after is not None and after["update_id"] > before.update_id
