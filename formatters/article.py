"""The full text of an article as one or more Telegram HTML messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.models import Article, StoryState, StoryUpdate
from formatters.alert import format_retraction
from formatters.callback_data import more_of_article
from formatters.chunking import Block, Boundary, Span, Style, pack_blocks
from formatters.labels import (
    BREAKING_MARKER,
    LINK_ICON,
    MORE_LABEL,
    SOURCE_LABEL,
    UPDATES_HEADING,
    arabic_number,
)
from formatters.message import InlineButton, OutgoingMessage
from formatters.rtl import contains_rtl, line_is_rtl

#: Messages of an article sent per request: a long one continues on its «المزيد» button,
#: so a reader (and the chat's one-message-a-second pace) is never tied up by a huge article.
ARTICLE_PAGE_SIZE = 4


def _plain(text: str) -> str:
    return " ".join(text.split())


def article_blocks(article: Article, updates: Sequence[StoryUpdate] = ()) -> list[Block]:
    """The article as blocks: headline, per section its bold heading and paragraphs, the
    story's updates (newest last, under «🔄 تحديثات»), then the link."""
    texts = [article.title] + [
        text for s in article.sections for text in [s.heading or "", *s.paragraphs]
    ]
    article_rtl = contains_rtl(" ".join(texts))

    def block(
        spans: tuple[Span, ...], before: Boundary, separator: str = "\n\n", *, title: bool = False
    ) -> Block:
        line = " ".join(span.text for span in spans)
        rtl = line_is_rtl(line, default_rtl=article_rtl)
        return Block(spans, before, separator, rtl, keep_together=title)

    title = Span(_plain(article.title), Style.BOLD)
    headline = (Span(BREAKING_MARKER, atomic=True), title) if article.breaking else (title,)
    blocks = [block(headline, Boundary.NEVER, "", title=True)]
    # The headline and every heading stay with (the start of) what follows them.
    glue_next = True
    for section in article.sections:
        section_start = True
        after_heading = False
        heading = _plain(section.heading or "")
        if heading:
            before = Boundary.GLUE if glue_next else Boundary.SECTION
            blocks.append(block((Span(heading, Style.BOLD),), before, title=True))
            glue_next, section_start, after_heading = True, False, True
        for paragraph in section.paragraphs:
            if glue_next:
                before = Boundary.GLUE
            else:
                before = Boundary.SECTION if section_start else Boundary.PARAGRAPH
            # A heading sits directly above its first paragraph; paragraphs are a blank line apart.
            blocks.append(
                block((Span(_plain(paragraph)),), before, "\n" if after_heading else "\n\n")
            )
            glue_next = section_start = after_heading = False
    if updates:
        blocks.append(block((Span(UPDATES_HEADING, Style.BOLD),), Boundary.SECTION, title=True))
        for index, update in enumerate(updates):
            number = Span(f"{arabic_number(update.number)}.", atomic=True)
            text = Span(_plain(update.text))
            before = Boundary.GLUE if index == 0 else Boundary.PARAGRAPH
            blocks.append(block((number, text), before, "\n" if index == 0 else "\n\n"))
    if article.url:
        link = (
            Span(LINK_ICON, atomic=True),
            Span(SOURCE_LABEL, Style.LINK, href=article.url, atomic=True),
        )
        blocks.append(replace(block(link, Boundary.GLUE), optional=True))
    return blocks


def format_article(
    article: Article, *, limit: int = 4096, max_entities: int = 100
) -> list[OutgoingMessage]:
    """The full article in Telegram HTML, split into messages of at most ``limit`` visible units.

    Each message holds at most ``max_entities`` formatting entities; with several messages each
    ends with a ``(k/n)`` line. Breaks prefer section, paragraph, sentence, then word boundaries.
    """
    return _pack(article_blocks(article), limit=limit, max_entities=max_entities)


def format_story(
    article: Article, story: StoryState, *, limit: int = 4096, max_entities: int = 100
) -> list[OutgoingMessage]:
    """:func:`format_article` with the story's updates after the text; a retracted article is
    only the notice «سُحب هذا الخبر» (and the reason), never its text."""
    if story.retraction is not None:
        return [format_retraction(story.retraction.reason)]
    blocks = article_blocks(article, story.updates)
    return _pack(blocks, limit=limit, max_entities=max_entities)


def _pack(blocks: list[Block], *, limit: int, max_entities: int) -> list[OutgoingMessage]:
    texts = pack_blocks(blocks, limit=limit, max_entities=max_entities)
    return [OutgoingMessage(text=text, disable_link_preview=True) for text in texts]


def more_button(article_id: str, next_part: int, total: int) -> InlineButton:
    """«المزيد» with the parts it brings, e.g. «المزيد ⬇️ (٥–٨ من ١١٦)»."""
    last = min(total, next_part + ARTICLE_PAGE_SIZE)
    shown = f"{arabic_number(next_part + 1)}–{arabic_number(last)}"
    if last == next_part + 1:
        shown = arabic_number(last)
    label = f"{MORE_LABEL} ⬇️ ({shown} من {arabic_number(total)})"
    return InlineButton(label, callback_data=more_of_article(article_id, next_part))


def article_page(
    messages: Sequence[OutgoingMessage],
    article_id: str,
    start: int = 0,
    *,
    size: int = ARTICLE_PAGE_SIZE,
) -> list[OutgoingMessage]:
    """The messages ``start`` to ``start + size`` of an article's :func:`format_article` output.

    When more follow, the last one carries the «المزيد» button that asks for the next page.
    Empty when ``start`` is past the end (a stale or forged button).
    """
    if size < 1:
        raise ValueError("a page holds at least one message")
    if start < 0 or start >= len(messages):
        return []
    page = list(messages[start : start + size])
    following = start + len(page)
    if following < len(messages):
        button = more_button(article_id, following, len(messages))
        page[-1] = replace(page[-1], keyboard=(*page[-1].keyboard, (button,)))
    return page
