"""The application factory: a python-telegram-bot ``Application`` wired to newsbot's services."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.ext import (
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.context import BotData, NewsApplication, NewsContext, news_context_types
from bot.redaction import redact
from bot.services import Services
from config import Settings
from formatters.replies.welcome import CommandInfo, admin_commands, public_commands
from handlers import (
    admin,
    callbacks,
    fallback,
    membership,
    reading,
    settings_menu,
    start,
    stories,
    subscription,
)
from handlers import help as help_handler
from handlers.errors import on_error
from handlers.pacing import fair_processor

logger = logging.getLogger(__name__)

#: The update types newsbot handles; Telegram sends nothing else, which saves traffic.
ALLOWED_UPDATES: tuple[str, ...] = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CHANNEL_POST,
    Update.EDITED_CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
)

#: Updates handled at once, from different chats (each chat's own are handled one at a time,
#: ``bot.update_processor``): a burst of "read the full article" presses after an alert must
#: not queue behind each other (each one sends several messages).
DEFAULT_CONCURRENT_UPDATES = 32

# Commands are answered in private chats, groups (``/cmd@bot``) and channels, also when the
# message is edited (an edited ``/latest 3`` is a new request). Only ``/publish`` ignores edits:
# re-ingesting an edited message would publish (and alert) a second article.
_ANY_MESSAGE = filters.UpdateType.MESSAGES | filters.UpdateType.CHANNEL_POSTS
_NEW_MESSAGE = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
_PRIVATE_NEW = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def register_handlers(application: NewsApplication) -> None:
    """Add every command, button and membership handler (first match wins, fallbacks last)."""
    command = [
        (("start",), start.start, _ANY_MESSAGE),
        (("stop", "unsubscribe"), subscription.stop, _ANY_MESSAGE),
        (("subscribe",), subscription.subscribe, _ANY_MESSAGE),
        (("latest",), reading.latest, _ANY_MESSAGE),
        (("article",), reading.article, _ANY_MESSAGE),
        (("search",), reading.search, _ANY_MESSAGE),
        (("settings",), settings_menu.show_settings, _ANY_MESSAGE),
        (("help",), help_handler.show_help, _ANY_MESSAGE),
        (("stats",), admin.stats, _ANY_MESSAGE),
        (("publish",), admin.publish, _NEW_MESSAGE),
        # New messages only, like /publish: an edited /correct is not a second request.
        (("correct",), stories.correct, _NEW_MESSAGE),
        (("update",), stories.update_story, _NEW_MESSAGE),
        (("retract",), stories.retract, _NEW_MESSAGE),
    ]
    for names, callback, update_filter in command:
        application.add_handler(CommandHandler(names, callback, filters=update_filter))
    application.add_handler(CallbackQueryHandler(callbacks.on_button))
    application.add_handler(
        ChatMemberHandler(membership.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(
        MessageHandler(filters.COMMAND & _PRIVATE_NEW, fallback.on_unknown_command)
    )
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & _PRIVATE_NEW, fallback.on_plain_text)
    )
    application.add_error_handler(on_error)


def _bot_commands(infos: list[CommandInfo]) -> list[BotCommand]:
    return [BotCommand(info.name, info.description) for info in infos]


async def register_commands(application: NewsApplication) -> bool:
    """Publish the Arabic command menu (admins get theirs); failures are logged, never fatal."""
    bot = application.bot
    settings = application.bot_data.services.settings
    ok = True
    try:
        await bot.set_my_commands(_bot_commands(public_commands()))
    except Exception as exc:  # any Bot API server must do: a missing method is not fatal
        ok = False
        logger.warning(
            "setMyCommands failed, continuing without a command menu: %s", _safe(exc, bot.token)
        )
    for admin_id in sorted(settings.admin_ids):
        try:
            await bot.set_my_commands(
                _bot_commands(admin_commands()), scope=BotCommandScopeChat(admin_id)
            )
        except Exception as exc:  # an admin who never opened the bot has no chat yet
            ok = False
            logger.info("admin command menu for %s not set: %s", admin_id, _safe(exc, bot.token))
    return ok


def _safe(exc: BaseException, token: str) -> str:
    return redact(f"{type(exc).__name__}: {exc}", token)


async def _post_init(application: NewsApplication) -> None:
    await register_commands(application)


def build_application(
    settings: Settings,
    services: Services,
    *,
    request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    get_updates_request: BaseRequest | None = None,
    concurrent_updates: int = DEFAULT_CONCURRENT_UPDATES,
) -> NewsApplication:
    """A ready-to-start ``Application`` for ``settings`` (token, Bot API URL) over ``services``.

    ``request``/``get_updates_request``/``rate_limiter`` let the caller supply the delivery
    engine's HTTP transport and rate limiter; PTB's defaults are used otherwise. The
    application is not initialised: use ``bot.serving`` to run it (its ``post_init``
    registers the command menu).
    """
    builder = (
        Application.builder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_url)
        .context_types(news_context_types())
        .concurrent_updates(fair_processor(concurrent_updates))
        .post_init(_post_init)
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    application = builder.build()
    bot_data: BotData = application.bot_data
    bot_data.attach(services)
    register_handlers(application)
    return application


__all__ = [
    "ALLOWED_UPDATES",
    "NewsApplication",
    "NewsContext",
    "build_application",
    "register_commands",
    "register_handlers",
]
