"""Users replying to messages, and the bot's own membership: block, unblock, removal from groups."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import telegram
from telegram import ChatMember, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import SandboxServer
from sandbox.spec import shipped_spec
from tests.constants import BOT_TOKEN
from tests.constants import SANDBOX_USER as USER
from tests.sandbox_support import call

pytestmark = pytest.mark.usefixtures("sandbox_user")


GROUP, SUPERGROUP, CHANNEL = -100200, -100300, -100400
OMAR = 1002


def _valid(update: dict[str, Any] | None) -> dict[str, Any]:
    """The update, after checking it against the Bot API spec as an independent reader would."""
    assert update is not None
    assert shipped_spec().check_object("Update", update) is None, update
    return update


# Replies -----------------------------------------------------------------------------------------


async def test_a_reply_carries_the_whole_replied_bot_message(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("اقرأ", callback_data="a:1")]])
    alert = await ptb_bot.send_message(
        USER, "<b>عاجل:</b> خبر", parse_mode="HTML", reply_markup=keyboard
    )
    _valid(sandbox.state.user_sends(USER, "ما التفاصيل؟", reply_to_message_id=alert.message_id))
    (update,) = await ptb_bot.get_updates()
    message = update.message
    assert message is not None and message.text == "ما التفاصيل؟"
    replied = message.reply_to_message
    assert replied is not None and replied.message_id == alert.message_id
    # The full message, as Telegram sends it: sender, entities and keyboard included.
    assert replied.from_user is not None and replied.from_user.is_bot
    assert replied.text == "عاجل: خبر" and replied.entities[0].type == "bold"
    assert replied.reply_markup == keyboard


async def test_a_reply_to_a_reply_is_not_nested_and_an_edit_keeps_it(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    first = _valid(state.user_sends(USER, "/publish"))["message"]
    second = _valid(state.user_sends(USER, "أولى", reply_to_message_id=first["message_id"]))
    third = _valid(
        state.user_sends(USER, "ثانية", reply_to_message_id=second["message"]["message_id"])
    )
    replied = third["message"]["reply_to_message"]
    assert replied["text"] == "أولى" and "reply_to_message" not in replied
    edited = _valid(
        state.user_sends(USER, "ثانية (معدلة)", edited_of=third["message"]["message_id"])
    )
    assert edited["edited_message"]["reply_to_message"]["text"] == "أولى"
    *_, fetched = await ptb_bot.get_updates()
    assert fetched.edited_message is not None
    assert fetched.edited_message.reply_to_message is not None
    assert fetched.edited_message.reply_to_message.message_id == second["message"]["message_id"]


async def test_replies_in_groups_and_through_the_control_api(
    http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.add_user(OMAR, "عمر")
    state.add_chat(SUPERGROUP, "supergroup", "غرفة الأخبار")
    question = _valid(state.user_sends(USER, "من يتابع؟", chat_id=SUPERGROUP))["message"]
    async with http.post(
        f"{sandbox.base_url}/sandbox/send",
        json={
            "user_id": OMAR,
            "chat_id": SUPERGROUP,
            "text": "أنا",
            "reply_to_message_id": question["message_id"],
        },
    ) as resp:
        body = await resp.json()
    answer = _valid(body["result"])["message"]
    assert answer["from"]["id"] == OMAR
    assert answer["reply_to_message"]["from"]["id"] == USER
    assert answer["reply_to_message"]["chat"]["title"] == "غرفة الأخبار"
    # The chat page learns which message a message answers from the history.
    async with http.get(f"{sandbox.base_url}/sandbox/history/{SUPERGROUP}") as resp:
        entries = (await resp.json())["result"]["entries"]
    assert [e["reply_to_message_id"] for e in entries] == [None, question["message_id"]]


async def test_replying_to_an_unknown_message_is_refused(sandbox: SandboxServer) -> None:
    with pytest.raises(ValueError, match="message 42 in chat 1001 is not known"):
        sandbox.state.user_sends(USER, "رد", reply_to_message_id=42)
    assert sandbox.state.updates.pending_count() == 0


# Blocking ----------------------------------------------------------------------------------------


async def test_blocking_sends_my_chat_member_like_telegram(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    _valid(state.block(USER))  # Telegram always tells the bot
    assert state.block(USER) is None  # blocking twice changes nothing
    with pytest.raises(telegram.error.Forbidden, match=r"(?i)bot was blocked by the user"):
        await ptb_bot.send_message(USER, "x")
    _valid(state.unblock(USER))
    blocked, unblocked = await ptb_bot.get_updates()
    change = blocked.my_chat_member
    assert change is not None and change.chat.id == USER and change.chat.type == "private"
    assert change.from_user.id == USER
    assert change.old_chat_member.status == ChatMember.MEMBER
    assert change.new_chat_member.status == ChatMember.BANNED  # "kicked"
    assert change.new_chat_member.user.id == int(BOT_TOKEN.split(":")[0])  # the bot itself
    back = unblocked.my_chat_member
    assert back is not None
    assert (back.old_chat_member.status, back.new_chat_member.status) == (
        ChatMember.BANNED,
        ChatMember.MEMBER,
    )
    await ptb_bot.send_message(USER, "عدت")


async def test_a_silent_block_only_shows_as_a_403(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    # notify=False: the bot has not heard of the block (yet) when it next writes.
    assert sandbox.state.block(USER, notify=False) is None
    assert await ptb_bot.get_updates() == ()
    with pytest.raises(telegram.error.Forbidden):
        await ptb_bot.send_message(USER, "x")
    assert sandbox.state.unblock(USER, notify=False) is None
    assert await ptb_bot.get_updates() == ()
    await ptb_bot.send_message(USER, "عدت")


async def test_the_chat_page_block_tells_the_bot(
    ptb_bot: telegram.Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    for action in ("block", "unblock"):
        async with http.post(
            f"{sandbox.base_url}/sandbox/{action}", json={"user_id": USER}
        ) as resp:
            assert (await resp.json())["result"]["blocked"] is (action == "block")
    async with http.post(
        f"{sandbox.base_url}/sandbox/block", json={"user_id": USER, "notify": False}
    ) as resp:
        assert resp.status == 200
    updates = await ptb_bot.get_updates()
    statuses = [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member]
    assert statuses == [ChatMember.BANNED, ChatMember.MEMBER]


# Groups and channels -----------------------------------------------------------------------------


async def test_removing_the_bot_from_a_supergroup(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.add_user(OMAR, "عمر")
    state.add_chat(SUPERGROUP, "supergroup", "غرفة الأخبار")
    state.user_sends(USER, "/start", chat_id=SUPERGROUP)
    await ptb_bot.send_message(SUPERGROUP, "مرحباً")
    _valid(state.remove_bot_from_chat(SUPERGROUP, OMAR))
    assert state.remove_bot_from_chat(SUPERGROUP, OMAR) is None
    with pytest.raises(telegram.error.Forbidden, match="bot was kicked from the supergroup chat"):
        await ptb_bot.send_message(SUPERGROUP, "هل من أحد؟")
    # What is said there no longer reaches the bot, but the chat page still shows it.
    assert state.user_sends(USER, "/latest", chat_id=SUPERGROUP) is None
    assert [e.text for e in state.history(SUPERGROUP)][-1] == "/latest"
    _valid(state.add_bot_to_chat(SUPERGROUP, USER))
    await ptb_bot.send_message(SUPERGROUP, "عدت")
    start, removed, added = await ptb_bot.get_updates()
    assert start.message is not None and start.message.text == "/start"
    change = removed.my_chat_member
    assert change is not None and change.chat.title == "غرفة الأخبار"
    assert change.from_user.id == OMAR
    assert change.old_chat_member.status == ChatMember.MEMBER
    assert change.new_chat_member.status == ChatMember.BANNED
    again = added.my_chat_member
    assert again is not None and again.new_chat_member.status == ChatMember.MEMBER


async def test_basic_groups_forget_the_bot_and_channels_drop_an_admin(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    _valid(state.add_bot_to_chat(GROUP, USER, title="العائلة"))  # a new group, announced
    _valid(state.remove_bot_from_chat(GROUP, USER))
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)chat not found"):
        await ptb_bot.send_message(GROUP, "x")
    state.add_chat(CHANNEL, "channel", "قناة الأخبار")
    await ptb_bot.send_message(CHANNEL, "منشور")
    _valid(state.remove_bot_from_chat(CHANNEL, USER, status="left"))
    with pytest.raises(telegram.error.Forbidden, match="bot is not a member of the channel chat"):
        await ptb_bot.send_message(CHANNEL, "x")
    added, left, dropped = [u.my_chat_member for u in await ptb_bot.get_updates()]
    assert added is not None and added.chat.title == "العائلة"
    assert (added.old_chat_member.status, added.new_chat_member.status) == ("left", "member")
    assert left is not None and left.new_chat_member.status == ChatMember.LEFT
    assert dropped is not None
    assert dropped.old_chat_member.status == ChatMember.ADMINISTRATOR
    assert dropped.new_chat_member.status == ChatMember.LEFT
    with pytest.raises(ValueError, match="not a known group"):
        state.remove_bot_from_chat(USER, USER)
    with pytest.raises(ValueError, match="left or kicked"):
        state.remove_bot_from_chat(CHANNEL, USER, status="member")


async def test_membership_updates_follow_allowed_updates(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.add_chat(SUPERGROUP, "supergroup", "غرفة الأخبار")
    await ptb_bot.get_updates(allowed_updates=["message", "callback_query"])
    assert state.block(USER, notify=True) is None
    assert state.remove_bot_from_chat(SUPERGROUP, USER) is None
    assert state.stats()["updates_filtered"] == 2
    assert await ptb_bot.get_updates() == ()
    # Asked for by name, or by Telegram's default (an empty list): my_chat_member is delivered.
    await ptb_bot.get_updates(allowed_updates=["my_chat_member"])
    _valid(state.unblock(USER, notify=True))
    await ptb_bot.get_updates(allowed_updates=[])
    _valid(state.add_bot_to_chat(SUPERGROUP, USER))
    assert len(await ptb_bot.get_updates()) == 2
    # chat_member (other members' changes) is one of the types Telegram leaves out by default.
    assert state.updates.push("chat_member", {}) is None


# Chat list and spec ------------------------------------------------------------------------------


async def test_the_chat_list_names_every_chat_and_the_bots_place_in_it(
    http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.add_user(OMAR, "عمر", "omar")
    state.user_sends(OMAR, "/start", chat_id=GROUP)  # a group made by writing in it
    state.add_chat(SUPERGROUP, "supergroup", "غرفة الأخبار")
    state.user_sends(USER, "مرحبا", chat_id=SUPERGROUP)
    state.user_sends(OMAR, "أهلاً", chat_id=SUPERGROUP)
    state.remove_bot_from_chat(SUPERGROUP, OMAR)
    async with http.get(f"{sandbox.base_url}/sandbox/chats") as resp:
        chats = (await resp.json())["result"]
    assert [c["id"] for c in chats] == [USER, OMAR, GROUP, SUPERGROUP]  # private chats first
    by_id = {c["id"]: c for c in chats}
    assert by_id[OMAR]["first_name"] == "عمر" and by_id[OMAR]["username"] == "omar"
    assert by_id[GROUP]["title"] and by_id[GROUP]["members"] == [OMAR]
    newsroom = by_id[SUPERGROUP]
    assert newsroom["title"] == "غرفة الأخبار" and newsroom["type"] == "supergroup"
    assert newsroom["members"] == [USER, OMAR] and newsroom["bot_status"] == "kicked"
    async with http.post(
        f"{sandbox.base_url}/sandbox/add_bot", json={"chat_id": SUPERGROUP, "by_user_id": USER}
    ) as resp:
        assert (await resp.json())["result"]["bot_status"] == "member"


async def test_the_spec_check_tells_union_members_apart(
    http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    spec = shipped_spec()
    bot_user = {"id": 1, "is_bot": True, "first_name": "بوت"}
    assert spec.check_object("ChatMember", {"status": "left", "user": bot_user}) is None
    # "kicked" is a ChatMemberBanned, which must say until when.
    problem = spec.check_object("ChatMember", {"status": "kicked", "user": bot_user})
    assert problem is not None and "until_date" in problem
    assert spec.check_object("ChatMember", {"status": "gone", "user": bot_user}) is not None
    status, body = await call(
        http,
        sandbox,
        "setMyCommands",
        commands=[{"command": "start", "description": "ابدأ"}],
        scope={"type": "everyone"},
    )
    assert status == 400 and "scope" in body["description"]


# Group upgrades ----------------------------------------------------------------------------------


async def test_a_group_upgraded_to_a_supergroup_answers_with_its_new_id(
    ptb_bot: telegram.Bot, sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    basic = -4100
    sandbox.state.add_chat(basic, "group", "غرفة", by_user_id=USER)
    async with http.post(
        f"{sandbox.base_url}/sandbox/migrate", json={"chat_id": basic, "new_chat_id": -1004100}
    ) as resp:
        upgraded = (await resp.json())["result"]
    assert upgraded["type"] == "supergroup" and upgraded["bot_status"] == "member"

    status, body = await call(http, sandbox, "sendMessage", chat_id=basic, text="خبر")
    assert status == 400
    assert body["description"] == "Bad Request: group chat was upgraded to a supergroup chat"
    assert body["parameters"] == {"migrate_to_chat_id": -1004100}
    with pytest.raises(telegram.error.ChatMigrated) as caught:
        await ptb_bot.send_message(basic, "خبر")
    assert caught.value.new_chat_id == -1004100
    sent = await ptb_bot.send_message(-1004100, "خبر")
    assert sent.chat.type == "supergroup"
    async with http.post(f"{sandbox.base_url}/sandbox/migrate", json={"chat_id": basic}) as resp:
        assert resp.status == 400  # upgraded once only
