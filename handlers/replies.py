"""Sending formatter output: a list of ``OutgoingMessage`` becomes ``sendMessage`` calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import Bot, Chat, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update

from bot.models import ChatKind
from formatters.message import OutgoingMessage

# Payload keys that map to a ``Bot.send_message`` argument of the same name; anything else an
# ``OutgoingMessage.extra`` carries goes through ``api_kwargs`` untouched.
_DIRECT_KEYS = frozenset(
    {"text", "parse_mode", "disable_notification", "protect_content", "message_thread_id"}
)


def send_kwargs(message: OutgoingMessage, bot: Bot) -> dict[str, Any]:
    """Keyword arguments of ``bot.send_message`` for one message (PTB objects, not dicts)."""
    payload = message.to_payload()
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in payload.items():
        if key == "reply_markup":
            kwargs[key] = InlineKeyboardMarkup.de_json(value, bot)
        elif key == "link_preview_options":
            kwargs[key] = LinkPreviewOptions.de_json(value, bot)
        elif key in _DIRECT_KEYS:
            kwargs[key] = value
        else:
            extra[key] = value
    if extra:
        kwargs["api_kwargs"] = extra
    return kwargs


async def send_messages(
    bot: Bot,
    chat_id: int,
    messages: Sequence[OutgoingMessage],
    *,
    message_thread_id: int | None = None,
) -> list[Message]:
    """Send the messages in order (the chunks of an article must not overtake each other)."""
    sent: list[Message] = []
    for message in messages:
        kwargs = send_kwargs(message, bot)
        if message_thread_id is not None:
            kwargs.setdefault("message_thread_id", message_thread_id)
        sent.append(await bot.send_message(chat_id, **kwargs))
    return sent


async def reply(update: Update, bot: Bot, messages: Sequence[OutgoingMessage]) -> list[Message]:
    """Answer in the chat the update came from (in the same forum topic); nothing if no chat."""
    chat = update.effective_chat
    if chat is None:
        return []
    incoming = update.effective_message
    thread = (
        incoming.message_thread_id if incoming is not None and incoming.is_topic_message else None
    )
    return await send_messages(bot, chat.id, messages, message_thread_id=thread)


def chat_kind(chat: Chat) -> ChatKind:
    """The newsbot chat kind of a Telegram chat (private for anything unexpected)."""
    try:
        return ChatKind(chat.type)
    except ValueError:
        return ChatKind.PRIVATE
