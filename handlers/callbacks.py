"""Inline-button presses: read buttons, settings, editors' confirmations; forged data: a notice."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest, Forbidden

from bot.context import NewsContext
from bot.models import ChatKind
from formatters import article_page
from formatters.callback_data import (
    CancelChange,
    ConfirmChange,
    MoreOfArticle,
    ReadArticle,
    SetPreference,
    deep_link_url,
    parse_callback,
)
from formatters.message import OutgoingMessage
from formatters.replies.fallback import notice_invalid_button
from formatters.replies.reading import (
    notice_article_gone,
    notice_sending_article,
    notice_sending_more,
    notice_sent_privately,
)
from handlers.articles import article_text
from handlers.replies import chat_kind, send_messages
from handlers.settings_menu import choose_preference
from handlers.stories import cancel_change, confirm_change

logger = logging.getLogger(__name__)


async def on_button(update: Update, context: NewsContext) -> None:
    """Dispatch a callback query by its (validated) data."""
    query = update.callback_query
    if query is None:
        return
    action = parse_callback(query.data)
    if action is None:
        logger.info("ignoring unknown callback data from user %s", query.from_user.id)
        await query.answer(notice_invalid_button())
        return
    # The button's message may be gone or inaccessible (old, or an inline message): then the
    # only chat we know is the private chat with whoever pressed it.
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else query.from_user.id
    if isinstance(action, SetPreference):
        await choose_preference(update, query, chat_id, action.preference, context)
    elif isinstance(action, ReadArticle):
        await read_article(query, action.article_id, context, update)
    elif isinstance(action, MoreOfArticle):
        await read_article(query, action.article_id, context, update, start=action.part)
    elif isinstance(action, ConfirmChange):
        await confirm_change(query, action.token, update, context)
    elif isinstance(action, CancelChange):
        await cancel_change(query, action.token, update, context)


async def read_article(
    query: CallbackQuery,
    article_id: str,
    context: NewsContext,
    update: Update,
    *,
    start: int = 0,
) -> None:
    """Send a page of the article behind a headline, alert or «المزيد» button (from ``start``)."""
    found = await article_text(context, article_id)
    if found is None:
        await query.answer(notice_article_gone())
        return
    # A «المزيد» of a retracted article: the notice again, not "invalid button".
    page = article_page(found[1], article_id, 0 if found[2] else start)
    if not page:
        # A part the article does not have: forged, or the article changed since.
        await query.answer(notice_invalid_button())
        return
    chat = update.effective_chat
    if chat is None or chat_kind(chat) is ChatKind.PRIVATE:
        await query.answer(notice_sending_article() if start == 0 else notice_sending_more())
        target = chat.id if chat is not None else query.from_user.id
        await send_messages(context.bot, target, page)
        return
    await _read_in_group(query, article_id, page, context)


async def _read_in_group(
    query: CallbackQuery, article_id: str, page: list[OutgoingMessage], context: NewsContext
) -> None:
    """A press in a group or channel: the page goes to the presser's private chat.

    Posting it in the group would flood everybody each time someone reads; when the presser
    never opened a private chat with the bot, the callback answer opens one through the
    ``/start a_<id>`` deep link instead.
    """
    try:
        first = await send_messages(context.bot, query.from_user.id, page[:1])
    except (Forbidden, BadRequest):
        first = []
    if not first:
        await query.answer(url=deep_link_url(context.bot.username, article_id))
        return
    await query.answer(notice_sent_privately())
    await send_messages(context.bot, query.from_user.id, page[1:])
