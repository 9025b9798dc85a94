"""``/start``: subscribe the chat and greet it; ``/start a_<id>`` deep links open an article."""

from __future__ import annotations

from telegram import Update

from bot.context import NewsContext
from bot.models import ChatKind, SubscribeResult
from formatters import article_page
from formatters.callback_data import parse_deep_link
from formatters.message import OutgoingMessage
from formatters.replies.reading import article_not_found
from formatters.replies.welcome import admins_only, greeting
from handlers.articles import article_text
from handlers.permissions import may_configure
from handlers.replies import chat_kind, reply

#: The inactive reason ``/stop`` records (``SubscriberStore.unsubscribe``).
STOPPED_REASON = "unsubscribed"


async def _may_start(update: Update, context: NewsContext) -> bool:
    """Whether ``/start`` may (re)subscribe this group or channel.

    Any member may subscribe a group the bot has joined (adding a bot already took someone
    allowed to), also after the bot was removed and added back; but a group whose admins stopped
    the alerts with ``/stop`` is resumed by its admins only: otherwise any member could undo an
    admin's ``/stop`` with ``/start``.
    """
    chat = update.effective_chat
    if chat is None:
        return False
    existing = await context.store.subscribers.get(chat.id)
    if existing is None or existing.active or existing.inactive_reason != STOPPED_REASON:
        return True
    return await may_configure(update, context.bot)


async def start(update: Update, context: NewsContext) -> None:
    """Subscribe the chat (private, group or channel), then greet it or open the linked article."""
    chat = update.effective_chat
    if chat is None:
        return
    kind = chat_kind(chat)
    if kind.is_group_like and not await _may_start(update, context):
        await reply(update, context.bot, [admins_only(kind)])
        return
    result = await context.store.subscribers.subscribe(chat.id, kind)
    user = update.effective_user
    name = user.first_name if user is not None and kind is ChatKind.PRIVATE else None
    welcome = greeting(result, kind=kind, name=name)

    payload = context.args[0] if context.args else None
    article_id = parse_deep_link(payload)
    if article_id is None:
        # No payload, or one we do not know (an old link, a typo): the plain greeting.
        await reply(update, context.bot, [welcome])
        return
    found = await article_text(context, article_id)
    messages: list[OutgoingMessage]
    if found is None:
        messages = [article_not_found(article_id), welcome]
    else:
        messages = article_page(found[1], article_id)
        if result is not SubscribeResult.ALREADY:
            # A newcomer arriving through a shared link also learns what the bot does.
            messages = [*messages, welcome]
    await reply(update, context.bot, messages)
