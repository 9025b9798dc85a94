"""Private-chat fallbacks: unknown commands and free text get a pointer to the commands."""

from __future__ import annotations

from telegram import Update

from bot.context import NewsContext
from formatters.replies.fallback import plain_text_hint, unknown_command
from handlers.replies import reply


async def on_unknown_command(update: Update, context: NewsContext) -> None:
    """A command newsbot does not have."""
    await reply(update, context.bot, [unknown_command()])


async def on_plain_text(update: Update, context: NewsContext) -> None:
    """Free text: suggest /search and /help (groups never get this, to stay quiet there)."""
    await reply(update, context.bot, [plain_text_hint()])
