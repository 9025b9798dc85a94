"""``/stop`` (``/unsubscribe``) and ``/subscribe``: leave and rejoin, both idempotent.

In groups and channels only the chat's admins may do either (see ``handlers.permissions``).
"""

from __future__ import annotations

from telegram import Chat, Update

from bot.context import NewsContext
from bot.models import ChatKind
from formatters.replies.welcome import admins_only, subscribed, unsubscribed
from handlers.permissions import may_configure
from handlers.replies import chat_kind, reply


async def stop(update: Update, context: NewsContext) -> None:
    """Stop sending news to this chat; says so differently when it was not subscribed."""
    allowed = await _configurable_chat(update, context)
    if allowed is None:
        return
    chat, kind = allowed
    changed = await context.store.subscribers.unsubscribe(chat.id)
    await reply(update, context.bot, [unsubscribed(changed, kind=kind)])


async def subscribe(update: Update, context: NewsContext) -> None:
    """(Re)start sending news to this chat; says so differently when already subscribed."""
    allowed = await _configurable_chat(update, context)
    if allowed is None:
        return
    chat, kind = allowed
    result = await context.store.subscribers.subscribe(chat.id, kind)
    await reply(update, context.bot, [subscribed(result, kind=kind)])


async def _configurable_chat(update: Update, context: NewsContext) -> tuple[Chat, ChatKind] | None:
    """The chat and its kind if the sender may change its subscription; else ``None``, told so."""
    chat = update.effective_chat
    if chat is None:
        return None
    kind = chat_kind(chat)
    if not await may_configure(update, context.bot):
        await reply(update, context.bot, [admins_only(kind)])
        return None
    return chat, kind
