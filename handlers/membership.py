"""The bot's own membership changes: a chat that blocks or removes the bot stops receiving news."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from bot.context import NewsContext
from bot.models import ChatKind
from handlers.replies import chat_kind

logger = logging.getLogger(__name__)

_GONE = frozenset({ChatMember.BANNED, ChatMember.LEFT})


async def on_my_chat_member(update: Update, context: NewsContext) -> None:
    """Deactivate a chat that blocked the bot (private) or removed it (group, channel)."""
    change = update.my_chat_member
    if change is None or change.new_chat_member.status not in _GONE:
        return
    chat = change.chat
    if chat_kind(chat) is ChatKind.PRIVATE:
        reason = "blocked"
    else:
        reason = "kicked" if change.new_chat_member.status == ChatMember.BANNED else "left"
    if await context.store.subscribers.deactivate(chat.id, reason):
        logger.info("chat %s is inactive: %s", chat.id, reason)
