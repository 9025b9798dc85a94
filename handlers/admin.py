"""Editors' commands: ``/publish`` (ingest a message as an article) and ``/stats``."""

from __future__ import annotations

import logging
import re

from telegram import Message, MessageEntity, Update

from bot.context import NewsContext
from bot.parser import ParseError
from formatters.replies.publish import admin_only, publish_done, publish_failed, publish_usage
from formatters.replies.stats import stats_message
from handlers.replies import reply
from handlers.stats import gather_stats

logger = logging.getLogger(__name__)

#: Names the parser quotes in its Arabic («field»), and Latin text left outside them.
_QUOTED_RE = re.compile(r"«[^»]*»")
_LATIN_RE = re.compile(r"[A-Za-z]")


def is_admin(update: Update, context: NewsContext) -> bool:
    """Whether the sender is one of ``NEWSBOT_ADMIN_IDS`` (channel posts have no sender)."""
    user = update.effective_user
    return user is not None and user.id in context.settings.admin_ids


def text_after_command(message: Message) -> str:
    """What follows ``/cmd`` or ``/cmd@bot`` in a message, newlines kept (empty if nothing)."""
    text = message.text or ""
    entity = message.entities[0] if message.entities else None
    if entity is not None and entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
        # Entity offsets count UTF-16 units, but the command itself is ASCII: same length.
        return text[entity.length :].strip()
    return text.partition(" ")[2].strip() if text.startswith("/") else text.strip()


def publish_source(message: Message) -> str:
    """The article text of a ``/publish``: after the command, else the replied-to message."""
    inline = text_after_command(message)
    if inline:
        return inline
    replied = message.reply_to_message
    if replied is not None:
        return (replied.text or replied.caption or "").strip()
    return ""


def rejected_field(exc: ParseError) -> str | None:
    """The field (``exc.field``) of a refusal whose Arabic text embeds an English detail.

    For a refused value the parser's Arabic appends pydantic's English message; the editor then
    gets the field's name only. ``None`` when the refusal is about no field, or its Arabic is
    Arabic throughout apart from quoted field names (a missing or unknown field).
    """
    if exc.code != "invalid_article" or exc.field is None:
        return None
    if not _LATIN_RE.search(_QUOTED_RE.sub("", exc.arabic)):
        return None
    return exc.field


async def publish(update: Update, context: NewsContext) -> None:
    """Ingest the text as an article, like ``newsbot ingest``; breaking news alerts everyone."""
    message = update.effective_message
    if message is None:
        return
    if not is_admin(update, context):
        await reply(update, context.bot, [admin_only()])
        return
    source = publish_source(message)
    if not source:
        await reply(update, context.bot, [publish_usage()])
        return
    try:
        result = await context.ingestor.ingest_bytes(source.encode("utf-8"), source="telegram")
    except ParseError as exc:
        logger.info("/publish refused (%s): %s", exc.code, exc.message)
        refusal = publish_failed(exc.arabic, invalid_field=rejected_field(exc))
        await reply(update, context.bot, [refusal])
        return
    logger.info(
        "admin published article %s (created=%s, alert=%s)",
        result.id,
        result.created,
        result.alert_id,
    )
    confirmation = publish_done(
        result.id,
        result.article.title,
        created=result.created,
        alert_queued=result.alert_id is not None,
        breaking=result.article.breaking,
    )
    await reply(update, context.bot, [confirmation])


async def stats(update: Update, context: NewsContext) -> None:
    """Subscribers, articles and recent alert delivery, for admins."""
    if not is_admin(update, context):
        await reply(update, context.bot, [admin_only()])
        return
    snapshot = await gather_stats(context.services)
    await reply(update, context.bot, [stats_message(snapshot)])
