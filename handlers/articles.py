"""An article's full text for the reading handlers: cached, formatted off the loop, paged."""

from __future__ import annotations

from bot.article_text import ARTICLE_TEXTS, Messages
from bot.context import NewsContext
from bot.models import Article


async def article_text(context: NewsContext, article_id: str) -> tuple[Article, Messages] | None:
    """The stored article and all its messages (see ``formatters.article_page`` for a page)."""
    found = await context.store.articles.get_versioned(article_id)
    if found is None:
        return None
    article, version = found
    return article, await ARTICLE_TEXTS.messages(article, version)
