"""Editors' ``/correct``, ``/update`` and ``/retract``: a preview first, the change on «تأكيد».

The article is the one of the replied-to alert (its read button's callback data names it; the
message must be the bot's own, so nobody's forwarded text can name another article) or the id
given as the first argument. The change itself runs through ``StoryDesk``, as for the API and
the CLI; the pending change waits in Redis (``bot.store.pending``) for its owner's press.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest

from bot.context import NewsContext
from bot.models import ARTICLE_ID_RE, MAX_REASON_CHARS, MAX_UPDATE_CHARS
from bot.newsroom import (
    CONFIRM_TTL_SECONDS,
    ChangeKind,
    Confirmed,
    Correction,
    Refused,
    UpdatePosted,
)
from bot.parser import ParseError
from bot.store import StoryError, Taken
from formatters.callback_data import MoreOfArticle, ReadArticle, parse_callback
from formatters.message import OutgoingMessage
from formatters.replies.publish import admin_only
from formatters.replies.stories import (
    change_cancelled,
    correction_done,
    no_article_in_reply,
    notice_change_cancelled,
    notice_change_done,
    notice_change_missing,
    notice_change_not_yours,
    notice_editors_only,
    retraction_done,
    story_parse_failed,
    story_preview,
    story_refused,
    story_usage,
    update_done,
)
from handlers.admin import is_admin, rejected_field, text_after_command
from handlers.replies import reply, send_kwargs, send_messages

logger = logging.getLogger(__name__)

_LIMITS = {"update": MAX_UPDATE_CHARS, "retract": MAX_REASON_CHARS, "correct": 0}


def replied_article(message: Message, bot_id: int) -> str | None:
    """The article of the bot's message ``message`` answers (one article's buttons), if any."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return None
    markup = replied.reply_markup
    found: set[str] = set()
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            action = parse_callback(
                button.callback_data if isinstance(button.callback_data, str) else None
            )
            if isinstance(action, ReadArticle | MoreOfArticle):
                found.add(action.article_id)
    # A headline list (``/latest``, ``/search``) names several articles: which one is meant?
    return found.pop() if len(found) == 1 else None


def target_and_text(message: Message, bot_id: int) -> tuple[str | None, str]:
    """The article meant (replied-to alert, else a leading id) and the rest of the text."""
    rest = text_after_command(message)
    first, _, tail = rest.partition("\n")
    head, _, more = first.strip().partition(" ")
    after_id = "\n".join(part for part in (more.strip(), tail) if part)
    article_id = replied_article(message, bot_id)
    if article_id is not None:
        # Replying and naming the same id as well: the id is no part of the text.
        return article_id, after_id if head == article_id else rest
    if head and ARTICLE_ID_RE.match(head):
        return head, after_id
    return None, rest


async def correct(update: Update, context: NewsContext) -> None:
    """``/correct``: preview a new version of an alerted article."""
    await _propose(update, context, "correct")


async def update_story(update: Update, context: NewsContext) -> None:
    """``/update``: preview an update replied under every alert of the article."""
    await _propose(update, context, "update")


async def retract(update: Update, context: NewsContext) -> None:
    """``/retract``: preview the withdrawal of an article (reason optional)."""
    await _propose(update, context, "retract")


async def _propose(update: Update, context: NewsContext, kind: ChangeKind) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    if user is None or not is_admin(update, context):
        await reply(update, context.bot, [admin_only()])
        return
    article_id, text = target_and_text(message, context.bot.id)
    if article_id is None:
        replied = message.reply_to_message is not None
        await reply(
            update, context.bot, [no_article_in_reply(kind) if replied else story_usage(kind)]
        )
        return
    try:
        proposal = await context.services.stories.propose(kind, article_id, text, owner=user.id)
    except StoryError as exc:
        logger.info("/%s of %s refused (%s)", kind, article_id, exc.code)
        await reply(
            update, context.bot, [story_refused(kind, exc.code, article_id, limit=_LIMITS[kind])]
        )
        return
    except ParseError as exc:
        logger.info("/correct of %s refused (%s): %s", article_id, exc.code, exc.message)
        refusal = story_parse_failed(exc.arabic, invalid_field=rejected_field(exc))
        await reply(update, context.bot, [refusal])
        return
    reach = proposal.reach
    preview = story_preview(
        kind,
        article_id,
        proposal.token,
        title=proposal.title,
        reached=reach.chats if reach is not None else None,
        sending=reach.sending if reach is not None else False,
        new_title=proposal.new_title,
        changed=proposal.changed,
        text=proposal.change.text,
        ttl_minutes=CONFIRM_TTL_SECONDS // 60,
    )
    await reply(update, context.bot, [preview])


async def confirm_change(
    query: CallbackQuery, token: str, update: Update, context: NewsContext
) -> None:
    """«تأكيد»: run the held change once, for the editor who asked for it."""
    if not is_admin(update, context):
        await query.answer(notice_editors_only(), show_alert=True)
        return
    done = await context.services.stories.confirm(token, query.from_user.id)
    if isinstance(done, Refused):
        await query.answer()
        change = done.change
        await _redraw(query, context, _refusal(change.kind, change.article_id, done.error))
        return
    if isinstance(done, Taken):
        notice = notice_change_not_yours() if done is Taken.NOT_YOURS else notice_change_missing()
        await query.answer(notice, show_alert=True)
        return
    await query.answer(notice_change_done())
    await _redraw(query, context, _result(done))


async def cancel_change(
    query: CallbackQuery, token: str, update: Update, context: NewsContext
) -> None:
    """«إلغاء»: drop the held change without running it."""
    if not is_admin(update, context):
        await query.answer(notice_editors_only(), show_alert=True)
        return
    dropped = await context.services.stories.cancel(token, query.from_user.id)
    if isinstance(dropped, Taken):
        notice = (
            notice_change_not_yours() if dropped is Taken.NOT_YOURS else notice_change_missing()
        )
        await query.answer(notice, show_alert=True)
        return
    await query.answer(notice_change_cancelled())
    await _redraw(query, context, change_cancelled())


def _refusal(kind: ChangeKind, article_id: str, exc: StoryError | ParseError) -> OutgoingMessage:
    if isinstance(exc, ParseError):
        return story_parse_failed(exc.arabic, invalid_field=rejected_field(exc))
    return story_refused(kind, exc.code, article_id, limit=_LIMITS[kind])


def _result(done: Confirmed) -> OutgoingMessage:
    result = done.result
    article_id = done.change.article_id
    if isinstance(result, Correction):
        return correction_done(
            article_id,
            result.story.version,
            changed=bool(result.changed),
            edits=result.edits_queued,
        )
    if isinstance(result, UpdatePosted):
        return update_done(
            article_id, result.update.number, created=result.created, replies=result.queued
        )
    return retraction_done(article_id, created=result.created, edits=result.edits_queued)


async def _redraw(query: CallbackQuery, context: NewsContext, message: OutgoingMessage) -> None:
    """Replace the preview (and its buttons) with the outcome; a new message if it can't be."""
    kwargs = send_kwargs(message, context.bot)
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(
                kwargs["text"], parse_mode=kwargs.get("parse_mode"), reply_markup=None
            )
            return
        except BadRequest as exc:
            logger.info("preview not redrawn: %s", exc.message)
    await send_messages(context.bot, query.from_user.id, [message])
