"""``/settings``: breaking-only or all news, chosen with inline buttons (admins, in groups)."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest

from bot.context import NewsContext
from bot.models import ChatKind, Preference
from formatters.replies.settings import (
    notice_admins_only,
    preference_saved,
    preference_unchanged,
    settings_menu,
    settings_need_subscription,
)
from handlers.permissions import may_configure
from handlers.replies import chat_kind, reply, send_kwargs

logger = logging.getLogger(__name__)


async def show_settings(update: Update, context: NewsContext) -> None:
    """Show the choices with the current one marked."""
    chat = update.effective_chat
    if chat is None:
        return
    subscriber = await context.store.subscribers.get(chat.id)
    preference = subscriber.preference if subscriber is not None else Preference.BREAKING
    active = subscriber is not None and subscriber.active
    menu = settings_menu(preference, subscribed=active, kind=chat_kind(chat))
    await reply(update, context.bot, [menu])


async def choose_preference(
    update: Update, query: CallbackQuery, chat_id: int, preference: Preference, context: NewsContext
) -> None:
    """Store the choice (admins only, in groups), confirm it and redraw the menu in place."""
    # Without a chat (an inline message) the choice is about the presser's own private chat.
    chat = update.effective_chat
    kind = chat_kind(chat) if chat is not None else ChatKind.PRIVATE
    if kind is not ChatKind.PRIVATE and not await may_configure(update, context.bot):
        await query.answer(notice_admins_only(kind), show_alert=True)
        return
    subscriber = await context.store.subscribers.get(chat_id)
    if subscriber is None:
        await query.answer(settings_need_subscription(), show_alert=True)
        return
    if subscriber.preference is preference:
        # Re-drawing an identical message is a Telegram error ("message is not modified").
        await query.answer(preference_unchanged(preference))
        return
    await context.store.subscribers.set_preference(chat_id, preference)
    await query.answer(preference_saved(preference))
    if isinstance(query.message, Message):
        menu = settings_menu(preference, subscribed=subscriber.active, kind=kind)
        kwargs = send_kwargs(menu, context.bot)
        try:
            await query.message.edit_text(
                kwargs["text"],
                parse_mode=kwargs.get("parse_mode"),
                reply_markup=kwargs.get("reply_markup"),
            )
        except BadRequest as exc:
            # The choice is saved and confirmed; a menu that cannot be redrawn (too old,
            # deleted meanwhile) is cosmetic.
            logger.info("settings menu in chat %s not redrawn: %s", chat_id, exc.message)
