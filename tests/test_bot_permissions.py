"""Groups and channels: only their admins may stop, resume or reconfigure the news.

Everything runs the real path: the bot asks the sandbox's ``getChatMember``, which knows who
created each chat and whom its owner promoted; nothing in ``handlers.permissions`` is patched.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from telegram import Bot

from bot.models import Preference
from formatters.callback_data import set_preference
from handlers.permissions import is_chat_admin
from tests.e2e_harness import BotHarness, open_bot_harness
from tests.waiting import wait_for

ADMIN = 301  # creates GROUP and CHANNEL: their owner
MEMBER = 302
DEPUTY = 303  # promoted to administrator by the owner when a test needs it
STRANGER = 304  # talks to the bot privately, never wrote in the group
GROUP = -100401
CHANNEL = -100402
REFUSAL = "من صلاحيات مشرفيها فقط"


@pytest.fixture
async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    """A running bot in GROUP (a supergroup ADMIN created) where MEMBER and DEPUTY wrote."""
    async with open_bot_harness(redis_url) as harness:
        harness.add_user(ADMIN, "مشرفة", "group_admin")
        harness.add_user(MEMBER, "عضو")
        harness.add_user(DEPUTY, "نائب")
        harness.add_user(STRANGER, "زائر")
        harness.state.add_bot_to_chat(GROUP, ADMIN, chat_type="supergroup", title="غرفة الأخبار")
        for user in (MEMBER, DEPUTY):
            await harness.send(user, "مرحبا بالجميع", chat_id=GROUP, expect=0)
        yield harness


def _api(bot: BotHarness) -> Bot:
    """The running bot's own Bot API client (pointed at the sandbox)."""
    return bot.stack.application.bot


def _lookups(bot: BotHarness) -> int:
    """How many getChatMember requests the sandbox has answered so far."""
    return int(bot.state.stats()["by_method"].get("getChatMember", 0))


async def _group_active(bot: BotHarness) -> bool:
    subscriber = await bot.store.subscribers.get(GROUP)
    return subscriber is not None and subscriber.active


async def test_owner_and_administrators_are_admins_members_are_not(bot: BotHarness) -> None:
    api = _api(bot)
    assert await is_chat_admin(api, GROUP, ADMIN)  # the creator
    assert not await is_chat_admin(api, GROUP, DEPUTY)
    bot.state.set_chat_admin(GROUP, DEPUTY)
    assert await is_chat_admin(api, GROUP, DEPUTY)
    assert not await is_chat_admin(api, GROUP, MEMBER)
    assert not await is_chat_admin(api, GROUP, STRANGER)  # not in the group: "left"
    bot.state.set_member_status(GROUP, MEMBER, "kicked")
    assert not await is_chat_admin(api, GROUP, MEMBER)
    assert _lookups(bot) == 6


async def test_a_failing_member_lookup_counts_as_no_admin_and_is_logged(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    api = _api(bot)
    bot.state.inject_errors(1, status=500, method="getChatMember")
    with caplog.at_level(logging.WARNING, logger="handlers.permissions"):
        assert not await is_chat_admin(api, GROUP, ADMIN)
    assert "getChatMember" in caplog.text and "NetworkError" in caplog.text
    assert await is_chat_admin(api, GROUP, ADMIN)  # the failure, not the answer, refused
    caplog.clear()
    bot.state.remove_bot_from_chat(GROUP, ADMIN)  # a bot that was removed can't ask either
    with caplog.at_level(logging.WARNING, logger="handlers.permissions"):
        assert not await is_chat_admin(api, GROUP, ADMIN)
    assert "Forbidden" in caplog.text


# Through the running bot -----------------------------------------------------------------------


async def test_a_member_cannot_stop_or_reconfigure_the_group_an_admin_can(
    bot: BotHarness,
) -> None:
    await bot.send(MEMBER, "/start", chat_id=GROUP)
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
    bot: BotHarness,
) -> None:
    await bot.send(ADMIN, "/start", chat_id=GROUP)
    await bot.send(ADMIN, "/stop", chat_id=GROUP)
    for command in ("/start", "/subscribe"):
        [refused] = await bot.send(MEMBER, command, chat_id=GROUP)
        assert REFUSAL in refused.visible_text, command
        assert not await _group_active(bot)
    # An administrator the owner promoted may resume; once demoted, no more.
    bot.state.set_chat_admin(GROUP, DEPUTY)
    [resumed] = await bot.send(DEPUTY, "/subscribe", chat_id=GROUP)
    assert "تم تفعيل اشتراك هذه المجموعة" in resumed.visible_text
    assert await _group_active(bot)
    bot.state.set_chat_admin(GROUP, DEPUTY, admin=False)
    [refused] = await bot.send(DEPUTY, "/stop", chat_id=GROUP)
    assert REFUSAL in refused.visible_text
    assert await _group_active(bot)


async def test_members_may_still_start_after_the_bot_was_removed_and_added_back(
    bot: BotHarness,
) -> None:
    await bot.send(MEMBER, "/start", chat_id=GROUP)
    bot.state.remove_bot_from_chat(GROUP, ADMIN)  # my_chat_member: the bot is kicked

    async def removed() -> bool:
        return not await _group_active(bot)

    await wait_for(removed, what="the group deactivated by the removal")
    bot.state.add_bot_to_chat(GROUP, ADMIN)
    [greeting] = await bot.send(MEMBER, "/start", chat_id=GROUP)
    assert "عادت هذه المجموعة" in greeting.visible_text
    assert await _group_active(bot)


async def test_anonymous_admins_and_channel_posts_speak_as_the_chat(bot: BotHarness) -> None:
    state = bot.state
    await bot.send(MEMBER, "/start", chat_id=GROUP)
    lookups = _lookups(bot)
    [stopped] = await bot.send(ADMIN, "/stop", chat_id=GROUP, sender_chat_id=GROUP)
    assert "تم إيقاف التنبيهات" in stopped.visible_text
    assert not await _group_active(bot)
    assert _lookups(bot) == lookups  # allowed by sender_chat alone: nobody's status was asked

    # The owner of the group, writing as a channel they own: the channel is no admin of it.
    state.add_chat(CHANNEL, "channel", "قناة مرتبطة", by_user_id=ADMIN)
    [other] = await bot.send(ADMIN, "/subscribe", chat_id=GROUP, sender_chat_id=CHANNEL)
    assert REFUSAL in other.visible_text
    assert not await _group_active(bot)

    # In the channel itself every post is signed by the channel.
    await bot.send(ADMIN, "/start", chat_id=CHANNEL, chat_type="channel")
    [channel_stop] = await bot.send(ADMIN, "/stop", chat_id=CHANNEL, chat_type="channel")
    assert "تم إيقاف التنبيهات في هذه القناة" in channel_stop.visible_text


async def test_when_the_bot_api_cannot_tell_who_is_admin_the_group_stays_as_it_is(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.send(ADMIN, "/start", chat_id=GROUP)
    bot.state.inject_errors(1, status=500, method="getChatMember")  # a real failing lookup
    with caplog.at_level(logging.WARNING, logger="handlers.permissions"):
        [refused] = await bot.send(ADMIN, "/stop", chat_id=GROUP)
    assert REFUSAL in refused.visible_text
    assert await _group_active(bot)
    assert "getChatMember" in caplog.text
    # Once Telegram answers again, the same admin is obeyed.
    [stopped] = await bot.send(ADMIN, "/stop", chat_id=GROUP)
    assert "تم إيقاف التنبيهات في هذه المجموعة" in stopped.visible_text
