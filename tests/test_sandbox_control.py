"""The control API, the chat page, history retention, and answers checked against the spec."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import SandboxServer, SandboxState
from sandbox.api_methods import BotApi
from sandbox.spec import BotApiSpec
from tests.constants import BOT_TOKEN
from tests.constants import SANDBOX_USER as USER
from tests.sandbox_support import call

# PTB 22 warns about RetryAfter.retry_after becoming a timedelta; the tests accept both.
pytestmark = [
    pytest.mark.usefixtures("sandbox_user"),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

SHARED_SPEC = (
    Path(__file__).resolve().parents[2] / "shared" / "telegram-bot-api-spec" / "api.min.json"
)


async def control(
    http: aiohttp.ClientSession,
    sandbox: SandboxServer,
    path: str,
    body: dict[str, Any] | None = None,
) -> Any:
    """Call the control API and return its result (asserting it succeeded)."""
    url = f"{sandbox.base_url}/sandbox/{path}"
    request = http.get(url) if body is None else http.post(url, json=body)
    async with request as resp:
        data = await resp.json()
    assert data["ok"], data
    return data["result"]


async def test_a_conversation_through_the_control_api(
    ptb_bot: telegram.Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    user = await control(http, sandbox, "users", {"id": 7, "first_name": "ليلى"})
    assert user == {
        "id": 7,
        "is_bot": False,
        "first_name": "ليلى",
        "language_code": "ar",
        "blocked": False,
        "deactivated": False,
    }
    update = await control(http, sandbox, "send", {"user_id": 7, "text": "/start"})
    assert update["message"]["chat"] == {"id": 7, "type": "private", "first_name": "ليلى"}
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("المزيد", callback_data="a:9")]])
    sent = await ptb_bot.send_message(7, "<b>أهلاً</b>", parse_mode="HTML", reply_markup=keyboard)
    press = await control(
        http, sandbox, "press", {"user_id": 7, "chat_id": 7, "message_id": sent.message_id}
    )
    await ptb_bot.answer_callback_query(press["callback_query_id"], text="جارٍ التحميل")
    history = await control(http, sandbox, "history/7")
    user_entry, bot_entry, callback = history["entries"]
    assert (user_entry["kind"], user_entry["text"]) == ("user", "/start")
    assert bot_entry["kind"] == "bot" and bot_entry["visible_text"] == "أهلاً"
    assert bot_entry["parse_mode"] == "HTML" and bot_entry["text"] == "<b>أهلاً</b>"
    assert bot_entry["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a:9"
    assert callback["data"] == "a:9" and callback["text"] == "جارٍ التحميل"
    await control(http, sandbox, "block", {"user_id": 7})
    with pytest.raises(telegram.error.Forbidden):
        await ptb_bot.send_message(7, "x")
    stats = await control(http, sandbox, "stats")
    assert stats["sent_ok"] == 1 and stats["errors_403"] == 1


async def test_control_config_injection_and_errors(
    ptb_bot: telegram.Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    config = await control(
        http,
        sandbox,
        "config",
        {"latency_ms": 5, "flood": {"enabled": True, "private_per_second": 2}},
    )
    assert config["latency_ms"] == 5 and config["flood"]["private_per_second"] == 2
    await control(http, sandbox, "inject_429", {"count": 1, "retry_after": 4})
    with pytest.raises(telegram.error.RetryAfter):
        await ptb_bot.send_message(USER, "x")
    await control(http, sandbox, "inject_errors", {"count": 1, "status": 503})
    with pytest.raises(telegram.error.NetworkError, match="Service Unavailable"):
        await ptb_bot.send_message(USER, "x")
    async with http.post(f"{sandbox.base_url}/sandbox/send", json={"text": "no user"}) as resp:
        assert resp.status == 400 and "user_id" in (await resp.json())["error"]
    assert await control(http, sandbox, "reset", {}) is True
    assert await control(http, sandbox, "users") == []


async def test_history_long_poll_wakes_on_bot_message(
    ptb_bot: telegram.Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    version = (await control(http, sandbox, "history/1001"))["version"]
    waiting = asyncio.create_task(
        control(http, sandbox, f"history/1001?version={version}&timeout=10")
    )
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await ptb_bot.send_message(USER, "جديد")
    result = await asyncio.wait_for(waiting, 2)
    assert result["version"] > version and result["entries"][-1]["visible_text"] == "جديد"


async def test_chat_page_is_self_contained_arabic_rtl(
    http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    for path in ("/", "/chat"):
        async with http.get(sandbox.base_url + path) as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
            page = await resp.text()
        assert '<html lang="ar" dir="rtl">' in page and 'dir: "auto"' in page
        assert "إرسال" in page
        # No CDN: nothing is loaded from another host (there is no internet).
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
        assert "@import" not in page


async def test_an_open_chat_page_does_not_hold_up_the_stop(http: aiohttp.ClientSession) -> None:
    sandbox = SandboxServer()
    await sandbox.start()
    sandbox.state.add_user(USER, "سارة")
    version = (await control(http, sandbox, f"history/{USER}"))["version"]
    waiting = asyncio.create_task(
        control(http, sandbox, f"history/{USER}?version={version}&timeout=25")
    )
    await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await sandbox.stop()
    assert loop.time() - started < 1.0  # not the 2 s shutdown grace, nor the 25 s poll
    assert (await asyncio.wait_for(waiting, 1))["version"] == version


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_chat_page_script_parses() -> None:
    page = resources.files("sandbox").joinpath("static/chat.html").read_text("utf-8")
    match = re.search(r"<script>(.*)</script>", page, re.S)
    assert match is not None
    check = subprocess.run(
        ["node", "--check", "--input-type=commonjs"],
        input=match.group(1),
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


async def test_wait_for_bot_messages_is_event_driven(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    waiter = asyncio.create_task(sandbox.state.wait_for_bot_messages(USER, 2, timeout=3))
    await ptb_bot.send_message(USER, "1")
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await ptb_bot.send_message(USER, "2")
    messages = await asyncio.wait_for(waiter, 1)
    assert [m.visible_text for m in messages] == ["1", "2"]
    with pytest.raises(TimeoutError, match="expected 3 bot messages"):
        await sandbox.state.wait_for_bot_messages(USER, 3, timeout=0.1)


async def test_history_is_bounded_and_can_be_switched_off() -> None:
    state = SandboxState(history_limit=3)
    state.add_user(USER, "سارة")
    api = BotApi(state)
    for i in range(5):
        await api.send_message({"chat_id": USER, "text": str(i)})
    assert [m.visible_text for m in state.bot_messages(USER)] == ["2", "3", "4"]
    assert state.bot_message_count(USER) == 5
    # An evicted message can still be edited: Telegram keeps every message.
    edited = await api.edit_message_text({"chat_id": USER, "message_id": 1, "text": "x"})
    assert isinstance(edited, dict) and edited["edit_date"] >= edited["date"]

    quiet = SandboxState(record_history=False)
    quiet.add_user(USER, "سارة")
    await BotApi(quiet).send_message({"chat_id": USER, "text": "x"})
    assert quiet.bot_messages(USER) == [] and quiet.bot_message_count(USER) == 1
    assert quiet.stats()["bot_messages"] == 1


def independent_spec() -> BotApiSpec:
    """The shared upstream copy when present (so a corrupted packaged copy cannot hide bugs)."""
    if SHARED_SPEC.is_file():
        return BotApiSpec(json.loads(SHARED_SPEC.read_text("utf-8")))
    return BotApiSpec.load()


def test_the_answer_validator_catches_malformed_objects() -> None:
    spec = independent_spec()
    good = {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "x"}
    assert spec.check_object("Message", good) is None
    assert "date" in str(spec.check_object("Message", {**good, "date": None}))
    without_date = {k: v for k, v in good.items() if k != "date"}
    assert 'lacks required field "date"' in str(spec.check_object("Message", without_date))
    assert 'unknown field "colour"' in str(spec.check_object("Message", {**good, "colour": 1}))


async def test_every_answer_is_shaped_as_the_spec_says(
    http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    spec = independent_spec()
    state = sandbox.state
    state.add_chat(-100900, "supergroup", "غرفة الأخبار", "newsroom")
    keyboard = {"inline_keyboard": [[{"text": "اقرأ", "callback_data": "a:1"}]]}
    answers: list[tuple[str, Any]] = []

    async def ok(method: str, **params: Any) -> Any:
        status, body = await call(http, sandbox, method, **params)
        assert status == 200 and body["ok"] is True, body
        answers.append((method, body["result"]))
        return body["result"]

    await ok("getMe")
    sent = await ok(
        "sendMessage",
        chat_id=USER,
        text='<b>عاجل</b> <a href="https://x.com">رابط</a>',
        parse_mode="HTML",
        reply_markup=keyboard,
        link_preview_options={"is_disabled": True},
    )
    state.user_sends(USER, "/start")
    state.user_sends(USER, "مرحبا", chat_id=-100900, chat_type="supergroup")
    state.user_sends(USER, "منشور", chat_id=-100901, chat_type="channel")
    state.press_button(USER, USER, sent["message_id"], "a:1")
    state.press_button(USER, USER, 9999, "forged")
    updates = await ok("getUpdates", timeout=0)
    assert len(updates) == 5
    reply = await ok(
        "sendMessage", chat_id="@newsroom", text="للمجموعة", reply_parameters={"message_id": 1}
    )
    assert reply["reply_to_message"]["text"] == "مرحبا"
    await ok("editMessageText", chat_id=USER, message_id=sent["message_id"], text="معدل")
    await ok("answerCallbackQuery", callback_query_id=updates[3]["callback_query"]["id"])
    await ok("setMyCommands", commands=[{"command": "start", "description": "ابدأ"}])
    await ok("getMyCommands")
    await ok("sendChatAction", chat_id=USER, action="typing")
    await ok("getWebhookInfo")
    await ok("deleteWebhook")
    await ok("deleteMyCommands")
    for method, result in answers:
        method_spec = spec.method(method)
        assert method_spec is not None
        assert spec.check_result(method_spec, result) is None, (method, result)
    for update in updates:
        assert spec.check_object("Update", update) is None, update
    assert state.stats().get("answer_violations", 0) == 0
    assert BOT_TOKEN  # the answers above all came through /bot<BOT_TOKEN>/<method>
