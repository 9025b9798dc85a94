"""``/help``: what the bot does and its commands (editors also see theirs)."""

from __future__ import annotations

from telegram import Update

from bot.context import NewsContext
from formatters.replies.welcome import help_message
from handlers.admin import is_admin
from handlers.replies import reply


async def show_help(update: Update, context: NewsContext) -> None:
    """The help text."""
    await reply(update, context.bot, [help_message(is_admin=is_admin(update, context))])
