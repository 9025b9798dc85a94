"""Who is who in a chat: getChatMember, creators and admins, messages sent on behalf of a chat."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import telegram
from telegram import (
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
)
from telegram.constants import ChatID

from sandbox import SandboxServer
from sandbox.spec import shipped_spec
from tests.constants import BOT_TOKEN
from tests.constants import SANDBOX_USER as USER
from tests.sandbox_support import call

pytestmark = pytest.mark.usefixtures("sandbox_user")


GROUP, SUPERGROUP, CHANNEL = -100200, -100300, -100400
OMAR, HUDA, STRANGER = 1002, 1003, 1009
BOT_ID = int(BOT_TOKEN.split(":")[0])


async def _member(
    http: aiohttp.ClientSession, sandbox: SandboxServer, chat_id: int, user_id: int
) -> tuple[int, dict[str, Any]]:
    """getChatMember on the wire; the result checked against the spec as a client would."""
    status, body = await call(http, sandbox, "getChatMember", chat_id=chat_id, user_id=user_id)
    if body["ok"]:
        assert shipped_spec().check_object("ChatMember", body["result"]) is None, body
    return status, body


async def test_the_creator_admins_members_and_strangers_of_a_group(
    ptb_bot: telegram.Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.add_user(OMAR, "عمر")
    state.add_user(HUDA, "هدى")
    state.user_sends(USER, "أنشأت المجموعة", chat_id=SUPERGROUP, chat_type="supergroup")
    state.user_sends(OMAR, "مرحبا", chat_id=SUPERGROUP)
    state.user_sends(HUDA, "أهلاً", chat_id=SUPERGROUP)
    state.set_chat_admin(SUPERGROUP, HUDA)

    owner = await ptb_bot.get_chat_member(SUPERGROUP, USER)
    assert isinstance(owner, ChatMemberOwner) and owner.status == ChatMember.OWNER
    assert owner.user.first_name == "سارة" and owner.is_anonymous is False
    admin = await ptb_bot.get_chat_member(SUPERGROUP, HUDA)
    assert isinstance(admin, ChatMemberAdministrator) and admin.user.id == HUDA
    _, raw = await _member(http, sandbox, SUPERGROUP, HUDA)
    assert raw["result"]["can_manage_chat"] is True and "can_post_messages" not in raw["result"]
    member = await ptb_bot.get_chat_member(SUPERGROUP, OMAR)
    assert isinstance(member, ChatMemberMember) and member.status == ChatMember.MEMBER
    # Known to Telegram but never in the group: "left"; never seen by the bot: an error.
    state.add_user(STRANGER, "غريب")
    assert isinstance(await ptb_bot.get_chat_member(SUPERGROUP, STRANGER), ChatMemberLeft)
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)user not found"):
        await ptb_bot.get_chat_member(SUPERGROUP, 4242)
    # The bot asking about itself.
    me = await ptb_bot.get_chat_member(SUPERGROUP, BOT_ID)
    assert isinstance(me, ChatMemberMember) and me.user.is_bot

    state.set_chat_admin(SUPERGROUP, HUDA, admin=False)
    assert isinstance(await ptb_bot.get_chat_member(SUPERGROUP, HUDA), ChatMemberMember)
    state.set_chat_admin(SUPERGROUP, USER)  # promoting the owner changes nothing
    assert isinstance(await ptb_bot.get_chat_member(SUPERGROUP, USER), ChatMemberOwner)


async def test_leaving_banning_and_handing_over_a_group(
    ptb_bot: telegram.Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.add_user(OMAR, "عمر")
    state.add_chat(GROUP, "group", "العائلة", by_user_id=OMAR)
    state.user_sends(USER, "مرحبا", chat_id=GROUP)
    assert state.chats[GROUP].admins() == [OMAR]

    state.set_member_status(GROUP, USER, "left")
    assert isinstance(await ptb_bot.get_chat_member(GROUP, USER), ChatMemberLeft)
    state.user_sends(USER, "عدت", chat_id=GROUP)  # writing again means joining again
    assert isinstance(await ptb_bot.get_chat_member(GROUP, USER), ChatMemberMember)

    state.set_member_status(GROUP, USER, "kicked")
    banned = await ptb_bot.get_chat_member(GROUP, USER)
    assert isinstance(banned, ChatMemberBanned)
    _, raw = await _member(http, sandbox, GROUP, USER)
    assert raw["result"]["until_date"] == 0  # for ever
    with pytest.raises(ValueError, match="banned"):
        state.user_sends(USER, "هل من أحد؟", chat_id=GROUP)

    # A new owner: the old one stays an administrator, as when ownership is transferred.
    state.set_member_status(GROUP, USER, "creator")
    assert isinstance(await ptb_bot.get_chat_member(GROUP, USER), ChatMemberOwner)
    assert isinstance(await ptb_bot.get_chat_member(GROUP, OMAR), ChatMemberAdministrator)
    with pytest.raises(ValueError, match="status must be one of"):
        state.set_member_status(GROUP, OMAR, "owner")
    with pytest.raises(ValueError, match="not a known group"):
        state.set_chat_admin(USER, OMAR)


async def test_private_chats_and_chats_the_bot_is_no_longer_in(
    ptb_bot: telegram.Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.add_user(OMAR, "عمر")
    # A private chat has two members, the user and the bot, whatever the user did.
    state.block(USER)
    mine = await ptb_bot.get_chat_member(USER, USER)
    assert isinstance(mine, ChatMemberMember) and mine.user.id == USER
    assert isinstance(await ptb_bot.get_chat_member(USER, BOT_ID), ChatMemberMember)
    status, body = await _member(http, sandbox, USER, OMAR)
    assert (status, body["description"]) == (400, "Bad Request: member not found")
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)chat not found"):
        await ptb_bot.get_chat_member(-100999, USER)

    # The bot's own place: an administrator in a channel; gone once removed.
    state.add_bot_to_chat(CHANNEL, OMAR, chat_type="channel", title="قناة")
    assert isinstance(await ptb_bot.get_chat_member(CHANNEL, OMAR), ChatMemberOwner)
    _, raw = await _member(http, sandbox, CHANNEL, BOT_ID)
    assert raw["result"]["status"] == "administrator" and raw["result"]["can_post_messages"]
    state.remove_bot_from_chat(CHANNEL, OMAR)
    with pytest.raises(telegram.error.Forbidden, match="bot was kicked from the channel chat"):
        await ptb_bot.get_chat_member(CHANNEL, OMAR)
    state.add_bot_to_chat(GROUP, OMAR)
    state.remove_bot_from_chat(GROUP, OMAR)
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)chat not found"):
        await ptb_bot.get_chat_member(GROUP, OMAR)


async def test_admins_write_on_behalf_of_the_group_or_their_channel(
    ptb_bot: telegram.Bot, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    state.add_user(OMAR, "عمر")
    state.add_chat(SUPERGROUP, "supergroup", "غرفة الأخبار", by_user_id=USER)
    state.add_chat(CHANNEL, "channel", "قناة الأخبار", by_user_id=USER)
    state.user_sends(OMAR, "مرحبا", chat_id=SUPERGROUP)

    anonymous = state.user_sends(USER, "/stop", chat_id=SUPERGROUP, sender_chat_id=SUPERGROUP)
    as_channel = state.user_sends(USER, "من القناة", chat_id=SUPERGROUP, sender_chat_id=CHANNEL)
    assert anonymous is not None and as_channel is not None
    edited = state.user_sends(
        USER, "/stop@newsbot_sandbox_bot", edited_of=anonymous["message"]["message_id"],
        chat_id=SUPERGROUP,
    )  # fmt: skip
    assert edited is not None
    _, first, second, third = await ptb_bot.get_updates()  # after Omar's greeting
    assert first.message is not None and first.message.sender_chat is not None
    assert first.message.sender_chat.id == SUPERGROUP
    assert first.message.from_user is not None
    assert first.message.from_user.id == ChatID.ANONYMOUS_ADMIN  # Telegram's stand-in
    assert second.message is not None and second.message.sender_chat is not None
    assert second.message.sender_chat.id == CHANNEL and second.message.sender_chat.type == "channel"
    assert second.message.from_user is not None
    assert second.message.from_user.id == ChatID.FAKE_CHANNEL
    # An edit cannot change who sent the message.
    assert third.edited_message is not None and third.edited_message.sender_chat is not None
    assert third.edited_message.sender_chat.id == SUPERGROUP

    for sender in (SUPERGROUP, CHANNEL):  # only their administrators may
        with pytest.raises(ValueError, match="no administrator"):
            state.user_sends(OMAR, "/stop", chat_id=SUPERGROUP, sender_chat_id=sender)
    state.add_chat(GROUP, "group", by_user_id=USER)
    with pytest.raises(ValueError, match="not as another group"):
        state.user_sends(USER, "x", chat_id=SUPERGROUP, sender_chat_id=GROUP)
    with pytest.raises(ValueError, match="can't speak"):
        state.user_sends(USER, "x", sender_chat_id=CHANNEL)  # private chats have no such thing
    assert await ptb_bot.get_updates(offset=third.update_id + 1) == ()


async def test_members_and_admins_through_the_control_api(
    http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    base = f"{sandbox.base_url}/sandbox"
    sandbox.state.add_user(OMAR, "عمر")

    async def post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with http.post(f"{base}/{path}", json=body) as resp:
            return resp.status, await resp.json()

    _, made = await post("chats", {"id": GROUP, "type": "group", "by_user_id": USER})
    assert made["result"]["admins"] == [USER]
    _, promoted = await post("chat_admin", {"chat_id": GROUP, "user_id": OMAR})
    assert promoted["result"]["admins"] == [USER, OMAR]
    _, sent = await post(
        "send", {"user_id": OMAR, "chat_id": GROUP, "text": "/stop", "sender_chat_id": GROUP}
    )
    assert sent["result"]["message"]["sender_chat"]["id"] == GROUP
    _, demoted = await post("chat_admin", {"chat_id": GROUP, "user_id": OMAR, "admin": False})
    assert demoted["result"]["admins"] == [USER]
    _, banned = await post("chat_member", {"chat_id": GROUP, "user_id": OMAR, "status": "kicked"})
    assert banned["result"]["members"] == [USER, OMAR]
    status, refused = await post("chat_member", {"chat_id": GROUP, "user_id": OMAR, "status": "x"})
    assert status == 400 and "status must be one of" in refused["error"]
    status, body = await _member(http, sandbox, GROUP, OMAR)
    assert status == 200 and body["result"]["status"] == "kicked"
