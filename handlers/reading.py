"""Reading commands: ``/latest [n]``, ``/article <id>`` and ``/search <words>``."""

from __future__ import annotations

from telegram import Update

from bot.context import NewsContext
from bot.models import ARTICLE_ID_RE
from formatters import article_page, format_headlines
from formatters.message import OutgoingMessage
from formatters.replies.reading import (
    DEFAULT_LATEST,
    MAX_LATEST,
    article_not_found,
    article_usage,
    latest_clamped,
    latest_heading,
    latest_usage,
    no_articles_yet,
    search_heading,
    search_no_results,
    search_usage,
    search_words_dropped,
)
from handlers.articles import article_text
from handlers.replies import reply

#: Results shown for one search, and the most words looked up (each word is one Redis union).
SEARCH_RESULTS = 10
MAX_SEARCH_WORDS = 12


def parse_count(args: list[str]) -> int | None:
    """The ``n`` of ``/latest [n]`` (Arabic-Indic digits too); ``None`` when it is not a count."""
    if not args:
        return DEFAULT_LATEST
    if len(args) != 1 or not args[0].isdecimal():
        return None
    value = int(args[0])
    return value if value > 0 else None


async def latest(update: Update, context: NewsContext) -> None:
    """The newest headlines, each with a button that opens the full text."""
    count = parse_count(context.args or [])
    if count is None:
        await reply(update, context.bot, [latest_usage()])
        return
    notes: list[OutgoingMessage] = []
    if count > MAX_LATEST:
        notes.append(latest_clamped(count))
        count = MAX_LATEST
    articles = await context.store.articles.latest(count)
    if not articles:
        await reply(update, context.bot, [no_articles_yet()])
        return
    headlines = format_headlines(articles, heading=latest_heading(len(articles)))
    await reply(update, context.bot, [*notes, headlines])


async def article(update: Update, context: NewsContext) -> None:
    """The full text of one article, a page of the formatter's chunks at a time, in order."""
    args = context.args or []
    if len(args) != 1:
        await reply(update, context.bot, [article_usage()])
        return
    article_id = args[0]
    found = await article_text(context, article_id) if ARTICLE_ID_RE.match(article_id) else None
    if found is None:
        await reply(update, context.bot, [article_not_found(article_id)])
        return
    await reply(update, context.bot, article_page(found[1], article_id))


async def search(update: Update, context: NewsContext) -> None:
    """Articles containing every word (spelling variants folded by the store), as buttons."""
    words = context.args or []
    notes: list[OutgoingMessage] = []
    if len(words) > MAX_SEARCH_WORDS:
        # Say so rather than drop words silently: the reader would trust a partial search.
        notes.append(search_words_dropped(MAX_SEARCH_WORDS))
        words = words[:MAX_SEARCH_WORDS]
    query = " ".join(words)
    if not query.strip():
        await reply(update, context.bot, [search_usage()])
        return
    results = await context.store.articles.search(query, limit=SEARCH_RESULTS)
    if not results:
        await reply(update, context.bot, [*notes, search_no_results(query)])
        return
    heading = search_heading(query, len(results))
    await reply(update, context.bot, [*notes, format_headlines(results, heading=heading)])
