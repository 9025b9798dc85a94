"""The single error handler: log with context (never the token), apologise in Arabic, go on."""

from __future__ import annotations

import contextlib
import logging
import traceback

from redis.exceptions import RedisError
from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import NewsContext
from bot.redaction import redact
from bot.telegram_errors import classify_error
from formatters.replies.fallback import service_unavailable, something_went_wrong
from handlers.replies import reply

logger = logging.getLogger(__name__)

#: How much of a command or callback data goes into the log (never whole message texts).
MAX_LOGGED_CHARS = 40


def describe_update(update: object) -> str:
    """``update=… chat=… command=…`` for the log: ids and the command, not the reader's text."""
    if not isinstance(update, Update):
        return "update=none"
    parts = [f"update={update.update_id}"]
    if update.effective_chat is not None:
        parts.append(f"chat={update.effective_chat.id}")
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        parts.append(f"command={message.text.split(maxsplit=1)[0][:MAX_LOGGED_CHARS]}")
    if update.callback_query is not None:
        parts.append(f"callback={(update.callback_query.data or '')[:MAX_LOGGED_CHARS]!r}")
    return " ".join(parts)


async def on_error(update: object, context: NewsContext) -> None:
    """Log the failure with its update's context, and tell the reader to try again."""
    error = context.error
    token = context.bot.token
    where = describe_update(update)
    if isinstance(error, Forbidden) and isinstance(update, Update):
        # The reader blocked the bot (or removed it from the group) while we answered: stop
        # sending there, like the delivery engine does for alerts; an apology would fail too.
        chat = update.effective_chat
        logger.info(
            "%s: forbidden (%s); marking the chat inactive", where, redact(str(error), token)
        )
        if chat is not None:
            reason = classify_error(error).reason or "forbidden"
            try:
                await context.store.subscribers.deactivate(chat.id, reason)
            except RedisError as exc:
                logger.warning("%s: could not mark the chat inactive: %s", where, exc)
        return
    if isinstance(error, RedisError):
        # The store is down or restarting: an outage, not a bug. One line per update is
        # enough (a traceback per reader's command would flood the log), and the reader is
        # told to come back rather than that something broke.
        logger.warning("%s: store unavailable: %s", where, redact(str(error), token))
        apology = service_unavailable()
    else:
        details = "".join(traceback.format_exception(error)) if error else "no exception"
        logger.error("handler failed: %s\n%s", where, redact(details, token))
        apology = something_went_wrong()
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:
        # Already answered, or too old to answer: the message below is what matters.
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    try:
        await reply(update, context.bot, [apology])
    except TelegramError as exc:
        logger.warning("%s: could not send the apology: %s", where, redact(str(exc), token))
