"""Who may change a chat's subscription and settings: anyone privately, only admins elsewhere.

In a group any member can type ``/stop``; without this check one member could silence the news
for everybody, or switch the whole group to "all news". Telegram's convention for bots in groups
is that configuration is for the chat's administrators.
"""

from __future__ import annotations

import logging

from telegram import Bot, ChatMember, Update
from telegram.error import TelegramError

from bot.models import ChatKind
from handlers.replies import chat_kind

logger = logging.getLogger(__name__)

_ADMIN_STATUSES = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})


async def is_chat_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Whether ``user_id`` owns or administers the chat (``getChatMember``).

    A failing lookup counts as "not an admin": refusing a change is safe, allowing one is not.
    """
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        # The exception text never holds the token: PTB's messages are Telegram's descriptions.
        logger.warning(
            "getChatMember(chat %s, user %s) failed, treating the user as no admin: %s",
            chat_id,
            user_id,
            type(exc).__name__,
        )
        return False
    return member.status in _ADMIN_STATUSES


async def may_configure(update: Update, bot: Bot) -> bool:
    """Whether whoever sent ``update`` may (un)subscribe the chat or change its settings."""
    chat = update.effective_chat
    if chat is None:
        return False
    if chat_kind(chat) is ChatKind.PRIVATE:
        return True
    query = update.callback_query
    if query is not None:
        # A button press: the presser decides (the button's message is the bot's own, and in a
        # channel it carries the channel as sender_chat, so it says nothing about the presser).
        return await is_chat_admin(bot, chat.id, query.from_user.id)
    message = update.message or update.edited_message or update.channel_post
    message = message or update.edited_channel_post
    if message is None:
        return False
    sender_chat = message.sender_chat
    if sender_chat is not None:
        # Anonymous group admins and channel posts speak as the chat itself; anything else
        # (a linked channel, another channel posting in the group) is not an admin of it.
        return sender_chat.id == chat.id
    user = message.from_user
    return user is not None and await is_chat_admin(bot, chat.id, user.id)
