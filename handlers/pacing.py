"""Answers for updates the per-chat fair processor drops (``bot.update_processor``)."""

from __future__ import annotations

from telegram import Update

from bot.update_processor import ChatFairProcessor
from formatters.replies.pacing import notice_slow_down, slow_down
from handlers.replies import reply


async def tell_to_slow_down(update: Update) -> None:
    """Once per burst: tell the chat some of its commands were dropped (presses get a toast)."""
    if update.callback_query is not None:
        return
    await reply(update, update.get_bot(), [slow_down()])


async def answer_dropped(update: Update) -> None:
    """A dropped button press is still answered, so the reader's spinner stops at once."""
    query = update.callback_query
    if query is not None:
        await query.answer(notice_slow_down())


def fair_processor(concurrency: int) -> ChatFairProcessor:
    """The Application's update processor: per-chat lanes, these answers for dropped updates."""
    return ChatFairProcessor(concurrency, slow_down=tell_to_slow_down, on_dropped=answer_dropped)
