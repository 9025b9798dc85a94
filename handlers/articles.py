"""An article's full text for the reading handlers: cached, formatted off the loop, paged."""

from __future__ import annotations

from bot.article_text import ARTICLE_TEXTS, Messages
from bot.context import NewsContext
from bot.models import Article


async def article_text(
    context: NewsContext, article_id: str
) -> tuple[Article, Messages, bool] | None:
    """The stored article, all its messages (see ``formatters.article_page`` for a page) and
    whether it was retracted (its messages are then the notice only)."""
    # The story state comes along: updates follow the text, and a retracted article is only
    # the notice «سُحب هذا الخبر» for /article, the deep link and every old read button.
    view = await context.store.stories.view(article_id)
    if view is None:
        return None
    messages = await ARTICLE_TEXTS.messages(view.article, view.tag, view.story)
    return view.article, messages, view.story.retracted
