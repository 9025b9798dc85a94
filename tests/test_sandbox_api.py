"""The Bot API wire protocol as python-telegram-bot sees it: methods, errors, updates, webhooks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import SandboxServer
from tests.constants import BOT_TOKEN
from tests.constants import SANDBOX_USER as USER
from tests.sandbox_support import call

pytestmark = pytest.mark.usefixtures("sandbox_user")


async def test_get_me_answers_the_token_bot(ptb_bot: telegram.Bot) -> None:
    me = await ptb_bot.get_me()
    assert me.is_bot and me.id == int(BOT_TOKEN.split(":")[0])
    assert me.username == "newsbot_sandbox_bot"


async def test_send_message_returns_a_telegram_message(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("اقرأ الخبر", callback_data="a:1")]])
    sent = await ptb_bot.send_message(
        USER, "<b>عاجل:</b> زلزال &amp; هزات", parse_mode="HTML", reply_markup=keyboard
    )
    assert sent.text == "عاجل: زلزال & هزات"
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.chat.id == USER and sent.chat.type == "private"
    assert sent.entities[0].type == "bold"
    assert sent.reply_markup == keyboard
    (recorded,) = sandbox.state.bot_messages(USER)
    assert recorded.text == "<b>عاجل:</b> زلزال &amp; هزات"
    assert recorded.visible_text == sent.text and recorded.callback_data() == ["a:1"]


@pytest.mark.parametrize(
    ("text", "parse_mode", "wording"),
    [
        ("<p>x</p>", "HTML", "can't parse entities"),
        ("ا" * 4097, None, "message is too long"),
        ("<b> </b>", "HTML", "message text is empty"),
    ],
)
async def test_bad_text_raises_bad_request(
    ptb_bot: telegram.Bot, sandbox: SandboxServer, text: str, parse_mode: str | None, wording: str
) -> None:
    with pytest.raises(telegram.error.BadRequest, match=f"(?i){wording}"):
        await ptb_bot.send_message(USER, text, parse_mode=parse_mode)
    assert sandbox.state.bot_messages(USER) == []


async def test_empty_text_and_long_callback_data_are_rejected(
    ptb_bot: telegram.Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    status, body = await call(http, sandbox, "sendMessage", chat_id=USER, text="")
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="a" * 65)]])
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)button_data_invalid"):
        await ptb_bot.send_message(USER, "x", reply_markup=keyboard)


async def test_unknown_chat_is_not_found(ptb_bot: telegram.Bot) -> None:
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)chat not found"):
        await ptb_bot.send_message(424242, "x")


async def test_unknown_method_field_and_missing_field(
    ptb_bot: telegram.Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    status, body = await call(http, sandbox, "sendTelepathy", chat_id=USER)
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    with pytest.raises(telegram.error.BadRequest, match=r'(?i)unknown field "colour"'):
        await ptb_bot.send_message(USER, "x", api_kwargs={"colour": "red"})
    status, body = await call(http, sandbox, "sendMessage", text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await call(http, sandbox, "sendPhoto", chat_id=USER, photo="x")
    assert status == 404 and "not implemented" in body["description"]


async def test_wire_formats_and_case_insensitive_method_names(
    http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    url = f"{sandbox.api_url}{BOT_TOKEN}"
    markup = json.dumps({"inline_keyboard": [[{"text": "t", "callback_data": "d"}]]})
    async with http.get(f"{url}/GETME") as resp:
        assert (await resp.json())["result"]["is_bot"] is True
    form = {"chat_id": str(USER), "text": "نموذج", "reply_markup": markup}
    async with http.post(f"{url}/sendmessage", data=form) as resp:
        assert (await resp.json())["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "t"
    multipart = aiohttp.FormData({"chat_id": str(USER), "text": "متعدد"})
    multipart.add_field("reply_markup", markup)  # forces multipart with a JSON-string field
    async with http.post(f"{url}/sendMessage", data=multipart()) as resp:
        assert (await resp.json())["result"]["text"] == "متعدد"
    async with http.get(f"{url}/sendMessage", params={"chat_id": USER, "text": "استعلام"}) as resp:
        assert (await resp.json())["ok"] is True
    async with http.post(f"{sandbox.api_url}not-a-token/getMe") as resp:
        assert resp.status == 404


async def test_a_revoked_token_is_unauthorized(sandbox: SandboxServer) -> None:
    sandbox.state.configure(rejected_tokens={BOT_TOKEN})
    with pytest.raises(telegram.error.InvalidToken, match="was rejected by the server"):
        async with telegram.Bot(BOT_TOKEN, base_url=sandbox.api_url):
            pass


async def test_a_token_revoked_mid_run_is_refused_from_its_next_call(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    await ptb_bot.send_message(USER, "قبل")  # the token was accepted
    sandbox.state.configure(rejected_tokens={BOT_TOKEN})
    with pytest.raises(telegram.error.InvalidToken):
        await ptb_bot.send_message(USER, "بعد")
    assert [m.text for m in sandbox.state.bot_messages(USER)] == ["قبل"]
    sandbox.state.configure(rejected_tokens=set())  # a valid token again
    await ptb_bot.send_message(USER, "من جديد")
    assert sandbox.state.stats()["by_method"]["sendMessage"] == 3


async def test_bad_json_field_types_are_rejected(
    http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    status, body = await call(
        http,
        sandbox,
        "sendMessage",
        chat_id=USER,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "x", "callback_data": "d", "colour": 1}]]},
    )
    assert status == 400 and 'unknown field "colour"' in body["description"]
    status, body = await call(
        http, sandbox, "sendMessage", chat_id=USER, text="x", message_thread_id="a"
    )
    assert status == 400 and "must be of type Integer" in body["description"]


async def test_long_poll_wakes_when_a_user_writes(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(ptb_bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    sandbox.state.user_sends(USER, "/start")
    (update,) = await asyncio.wait_for(poll, 2)
    assert loop.time() - started < 2  # woke on the update, not at the 10 s timeout
    assert update.message is not None and update.message.text == "/start"
    assert update.message.from_user is not None and update.message.from_user.username is None
    assert update.message.entities[0].type == "bot_command"


async def test_offset_confirms_earlier_updates(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    for text in ("أ", "ب", "ج"):
        sandbox.state.user_sends(USER, text)
    first = await ptb_bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["أ", "ب"]
    again = await ptb_bot.get_updates()
    assert len(again) == 3  # nothing confirmed yet
    rest = await ptb_bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["ج"]
    assert await ptb_bot.get_updates(offset=rest[-1].update_id + 1) == ()


async def test_allowed_updates_filters_later_updates(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    await ptb_bot.get_updates(allowed_updates=["callback_query"])
    sandbox.state.user_sends(USER, "ignored")
    sent = await ptb_bot.send_message(USER, "x", reply_markup=_keyboard("a:1"))
    sandbox.state.press_button(USER, USER, sent.message_id, "a:1")
    (update,) = await ptb_bot.get_updates()
    assert update.callback_query is not None


def _keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("زر", callback_data=data)]])


async def test_button_press_and_answer(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> None:
    sent = await ptb_bot.send_message(USER, "خبر", reply_markup=_keyboard("a:42"))
    query_id = sandbox.state.press_button(USER, USER, sent.message_id)
    forged_id = sandbox.state.press_button(USER, USER, sent.message_id, "p:../../etc")
    first, forged = await ptb_bot.get_updates()
    assert first.callback_query is not None and first.callback_query.id == query_id
    assert first.callback_query.data == "a:42"
    assert first.callback_query.message is not None
    assert first.callback_query.message.message_id == sent.message_id
    assert forged.callback_query is not None and forged.callback_query.data == "p:../../etc"
    await ptb_bot.answer_callback_query(query_id, text="تم الحفظ", show_alert=True)
    record = await sandbox.state.wait_for_callback_answer(query_id, timeout=1)
    assert (record.text, record.show_alert) == ("تم الحفظ", True)
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)query is too old"):
        await ptb_bot.answer_callback_query(query_id)
    assert not sandbox.state.callback_answers(USER)[1].answered
    assert forged_id != query_id
    with pytest.raises(ValueError, match="does not exist"):
        sandbox.state.press_button(USER, -100123, sent.message_id, "a:42")


async def test_edit_message_text(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> None:
    sent = await ptb_bot.send_message(USER, "قديم", reply_markup=_keyboard("a:1"))
    edited = await ptb_bot.edit_message_text(
        "<i>جديد</i>", USER, sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, telegram.Message)
    assert edited.text == "جديد" and edited.edit_date is not None and edited.reply_markup is None
    (record,) = sandbox.state.bot_messages(USER)
    assert record.edited and record.visible_text == "جديد" and record.reply_markup is None
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)message is not modified"):
        await ptb_bot.edit_message_text("<i>جديد</i>", USER, sent.message_id, parse_mode="HTML")
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)message to edit not found"):
        await ptb_bot.edit_message_text("x", USER, 999)
    user_message = sandbox.state.user_sends(USER, "مرحبا")
    assert user_message is not None
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)can't be edited"):
        await ptb_bot.edit_message_text("x", USER, user_message["message"]["message_id"])


async def test_commands_and_chat_action(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> None:
    assert await ptb_bot.get_my_commands() == ()
    await ptb_bot.set_my_commands([("start", "ابدأ"), ("settings", "الإعدادات")])
    assert [c.command for c in await ptb_bot.get_my_commands()] == ["start", "settings"]
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)bot_command_invalid"):
        await ptb_bot.set_my_commands([("Start!", "x")])
    await ptb_bot.delete_my_commands()
    assert await ptb_bot.get_my_commands() == ()
    assert await ptb_bot.send_chat_action(USER, "typing") is True
    assert USER in sandbox.state.typing
    assert await ptb_bot.close() is True and await ptb_bot.log_out() is True


async def test_groups_channels_and_edited_messages(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.user_sends(USER, "/latest@newsbot_sandbox_bot", chat_id=-100500, chat_type="supergroup")
    state.user_sends(USER, "منشور", chat_id=-100600, chat_type="channel")
    first = state.user_sends(USER, "نص")
    assert first is not None
    state.user_sends(USER, "نص معدل", edited_of=first["message"]["message_id"])
    group, channel, _, edited = await ptb_bot.get_updates()
    assert group.message is not None and group.message.chat.type == "supergroup"
    assert channel.channel_post is not None and channel.channel_post.sender_chat is not None
    assert edited.edited_message is not None and edited.edited_message.text == "نص معدل"
    assert (await ptb_bot.send_message(-100500, "رد")).chat.id == -100500


async def test_second_poller_gets_conflict(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> None:
    async with telegram.Bot(BOT_TOKEN, base_url=sandbox.api_url) as other:
        first = asyncio.create_task(ptb_bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(telegram.error.Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 2)
        assert await second == ()


async def test_webhook_delivery_with_secret(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, Any]]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        received.put_nowait(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        assert await ptb_bot.set_webhook(url, secret_token="s3cr3t_token")
        info = await ptb_bot.get_webhook_info()
        assert info.url == url
        with pytest.raises(telegram.error.Conflict, match="webhook is active"):
            await ptb_bot.get_updates()
        sandbox.state.user_sends(USER, "/start")
        secret, update = await asyncio.wait_for(received.get(), 3)
        assert secret == "s3cr3t_token"
        assert update["message"]["text"] == "/start"
        for _ in range(100):  # the sandbox confirms the update right after our 200 answer
            if (await ptb_bot.get_webhook_info()).pending_update_count == 0:
                break
            await asyncio.sleep(0.01)
        assert (await ptb_bot.get_webhook_info()).pending_update_count == 0
        assert await ptb_bot.delete_webhook()
        sandbox.state.user_sends(USER, "بعد الحذف")
        (polled,) = await ptb_bot.get_updates()
        assert polled.message is not None and polled.message.text == "بعد الحذف"
    finally:
        await runner.cleanup()


async def test_a_ptb_application_polls_and_answers(sandbox: SandboxServer) -> None:
    """A real PTB Application (updater + handlers) runs against the sandbox end to end."""
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "<b>أهلاً</b>",
            parse_mode="HTML",
            reply_markup=_keyboard("p:all"),
        )

    async def pressed(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer(f"اخترت {update.callback_query.data}")

    app = ApplicationBuilder().token(BOT_TOKEN).base_url(sandbox.api_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await app.start()
        try:
            sandbox.state.user_sends(USER, "/start")
            (welcome,) = await sandbox.state.wait_for_bot_messages(USER, 1, timeout=5)
            assert welcome.visible_text == "أهلاً"
            query_id = sandbox.state.press_button(USER, USER, welcome.message_id)
            answer = await sandbox.state.wait_for_callback_answer(query_id, timeout=5)
            assert answer.text == "اخترت p:all"
        finally:
            await app.updater.stop()
            await app.stop()
