"""Groups and channels: only their admins may stop, resume or reconfigure the news."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from telegram import Bot, ChatMember, ChatMemberAdministrator, ChatMemberMember, ChatMemberOwner
from telegram import User as TgUser
from telegram.error import BadRequest

from bot.models import Preference
from formatters.callback_data import set_preference
from handlers import permissions
from handlers.permissions import is_chat_admin
from sandbox import ChatMessage
from tests.e2e_harness import BotHarness, open_bot_harness

ADMIN = 301
MEMBER = 302
GROUP = -100401
CHANNEL = -100402
REFUSAL = "من صلاحيات مشرفيها فقط"


class _MemberBot:
    """Answers ``getChatMember`` from a table (or fails), like the Bot API would."""

    def __init__(self, statuses: dict[int, ChatMember] | None = None) -> None:
        self.statuses = statuses
        self.calls: list[tuple[int, int]] = []

    async def get_chat_member(self, chat_id: int, user_id: int) -> ChatMember:
        self.calls.append((chat_id, user_id))
        if self.statuses is None:
            raise BadRequest("Not Found: method getChatMember is not implemented")
        return self.statuses[user_id]


def _user(user_id: int) -> TgUser:
    return TgUser(user_id, "م", is_bot=False)


async def test_owner_and_administrators_are_admins_members_are_not() -> None:
    fake = _MemberBot(
        {
            1: ChatMemberOwner(_user(1), is_anonymous=False),
            2: ChatMemberAdministrator(_user(2), *([False] * 12)),
            3: ChatMemberMember(_user(3)),
        }
    )
    bot = cast(Bot, fake)
    assert await is_chat_admin(bot, GROUP, 1)
    assert await is_chat_admin(bot, GROUP, 2)
    assert not await is_chat_admin(bot, GROUP, 3)
    assert fake.calls == [(GROUP, 1), (GROUP, 2), (GROUP, 3)]


async def test_a_failing_member_lookup_counts_as_no_admin_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="handlers.permissions"):
        assert not await is_chat_admin(cast(Bot, _MemberBot(None)), GROUP, 3)
    assert "getChatMember" in caplog.text and "BadRequest" in caplog.text


# Through the running bot -----------------------------------------------------------------------


@pytest.fixture
async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    """A running bot; ADMIN administers GROUP, MEMBER is an ordinary member."""
    async with open_bot_harness(redis_url) as harness:
        harness.add_user(ADMIN, "مشرفة", "group_admin")
        harness.add_user(MEMBER, "عضو")
        yield harness


@pytest.fixture
def admins(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Users ``getChatMember`` reports as admins (the sandbox does not implement the method)."""
    ids = {ADMIN}

    async def fake_is_chat_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
        del bot, chat_id
        return user_id in ids

    monkeypatch.setattr(permissions, "is_chat_admin", fake_is_chat_admin)
    return ids


async def _group_active(bot: BotHarness) -> bool:
    subscriber = await bot.store.subscribers.get(GROUP)
    return subscriber is not None and subscriber.active


async def test_a_member_cannot_stop_or_reconfigure_the_group_an_admin_can(
    bot: BotHarness, admins: set[int]
) -> None:
    await bot.send(MEMBER, "/start", chat_id=GROUP, chat_type="supergroup")
    assert await _group_active(bot)  # any member may subscribe a group the bot joined

    [refused] = await bot.send(MEMBER, "/stop", chat_id=GROUP)
    assert REFUSAL in refused.visible_text
    assert await _group_active(bot)

    [menu] = await bot.send(MEMBER, "/settings", chat_id=GROUP)
    assert "مشرفي هذه المجموعة" in menu.visible_text
    answer, _ = await bot.press(MEMBER, menu, set_preference(Preference.ALL))
    assert answer.text is not None and REFUSAL in answer.text and answer.show_alert
    subscriber = await bot.store.subscribers.get(GROUP)
    assert subscriber is not None and subscriber.preference is Preference.BREAKING

    answer, _ = await bot.press(ADMIN, menu, set_preference(Preference.ALL))
    assert answer.text is not None and "تم الحفظ" in answer.text
    subscriber = await bot.store.subscribers.get(GROUP)
    assert subscriber is not None and subscriber.preference is Preference.ALL

    [stopped] = await bot.send(ADMIN, "/stop", chat_id=GROUP)
    assert "تم إيقاف التنبيهات في هذه المجموعة" in stopped.visible_text
    assert not await _group_active(bot)


async def test_a_member_cannot_undo_an_admins_stop_with_start_or_subscribe(
    bot: BotHarness, admins: set[int]
) -> None:
    await bot.send(ADMIN, "/start", chat_id=GROUP, chat_type="supergroup")
    await bot.send(ADMIN, "/stop", chat_id=GROUP)
    for command in ("/start", "/subscribe"):
        [refused] = await bot.send(MEMBER, command, chat_id=GROUP)
        assert REFUSAL in refused.visible_text, command
        assert not await _group_active(bot)
    [resumed] = await bot.send(ADMIN, "/subscribe", chat_id=GROUP)
    assert "تم تفعيل اشتراك هذه المجموعة" in resumed.visible_text
    assert await _group_active(bot)


async def test_members_may_still_start_after_the_bot_was_removed_and_added_back(
    bot: BotHarness, admins: set[int]
) -> None:
    await bot.send(MEMBER, "/start", chat_id=GROUP, chat_type="group")
    await bot.store.subscribers.deactivate(GROUP, "kicked")
    [greeting] = await bot.send(MEMBER, "/start", chat_id=GROUP)
    assert "عادت هذه المجموعة" in greeting.visible_text
    assert await _group_active(bot)


async def test_anonymous_admins_and_channel_posts_speak_as_the_chat(
    bot: BotHarness, admins: set[int]
) -> None:
    admins.clear()  # nobody passes the member lookup: only sender_chat can allow
    await bot.send(MEMBER, "/start", chat_id=GROUP, chat_type="supergroup")
    [stopped] = await _send_as_chat(bot, GROUP, "/stop")
    assert "تم إيقاف التنبيهات" in stopped.visible_text
    assert not await _group_active(bot)

    [other] = await _send_as_chat(bot, GROUP, "/subscribe", sender_chat_id=CHANNEL)
    assert REFUSAL in other.visible_text  # a linked channel is not an admin of the group

    await bot.send(MEMBER, "/start", chat_id=CHANNEL, chat_type="channel")
    [channel_stop] = await bot.send(MEMBER, "/stop", chat_id=CHANNEL, chat_type="channel")
    assert "تم إيقاف التنبيهات في هذه القناة" in channel_stop.visible_text


async def test_when_the_bot_api_cannot_tell_who_is_admin_the_group_stays_as_it_is(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # No monkeypatch: the sandbox has no getChatMember, so the lookup fails.
    await bot.send(ADMIN, "/start", chat_id=GROUP, chat_type="supergroup")
    with caplog.at_level(logging.WARNING, logger="handlers.permissions"):
        [refused] = await bot.send(ADMIN, "/stop", chat_id=GROUP)
    assert REFUSAL in refused.visible_text
    assert await _group_active(bot)
    assert "getChatMember" in caplog.text


async def _send_as_chat(
    bot: BotHarness, chat_id: int, text: str, *, sender_chat_id: int | None = None
) -> list[ChatMessage]:
    """A message in a group sent "as the group" (anonymous admin) or as another chat."""
    state = bot.state
    chat = state.chats[chat_id].to_api()
    sender: dict[str, Any] = (
        chat
        if sender_chat_id is None
        else {"id": sender_chat_id, "type": "channel", "title": "قناة مرتبطة"}
    )
    api: dict[str, Any] = {
        "message_id": state.chat_log.next_message_id(chat_id),
        "date": int(time.time()),
        "sender_chat": sender,
        "chat": chat,
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    before = len(bot.bot_messages(chat_id))
    state.updates.push("message", api)
    return await bot.expect(chat_id, 1, after=before)
