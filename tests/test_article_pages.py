"""Pages of long articles, the «المزيد» button's data, and the formatted-article cache."""

from __future__ import annotations

import asyncio

import pytest

from bot.article_text import ArticleTexts
from bot.models import Article, Section
from formatters import ARTICLE_PAGE_SIZE, article_page, format_article
from formatters.callback_data import (
    MAX_CALLBACK_BYTES,
    MAX_PART,
    MoreOfArticle,
    more_of_article,
    parse_callback,
)
from formatters.labels import MORE_LABEL

LONGEST_ID = "A" * 16


def long_article(paragraphs: int, *, article_id: str = "long1", words: int = 60) -> Article:
    """An article of ``paragraphs`` paragraphs of about ``words`` words each."""
    body = [f"الفقرة {i}: " + "كلمة من نص الخبر " * words for i in range(paragraphs)]
    return Article(id=article_id, title="تقرير طويل", sections=[Section(paragraphs=body)])


def test_pages_cover_every_message_once_in_order_with_more_on_each_pages_last() -> None:
    messages = format_article(long_article(40))
    assert len(messages) > 2 * ARTICLE_PAGE_SIZE, "the test needs three pages or more"
    start, seen = 0, []
    while True:
        page = article_page(messages, "long1", start)
        assert 1 <= len(page) <= ARTICLE_PAGE_SIZE
        assert all(not m.keyboard for m in page[:-1])  # only the last one has a button
        seen.extend(page)
        if not page[-1].keyboard:
            break
        [[button]] = page[-1].keyboard
        assert MORE_LABEL in button.text
        action = parse_callback(button.callback_data)
        assert action == MoreOfArticle("long1", start + len(page))
        start = action.part
    assert [m.text for m in seen] == [m.text for m in messages]
    assert len(seen) == len(messages)


def test_a_short_article_is_one_page_without_a_button() -> None:
    messages = format_article(long_article(3))
    assert article_page(messages, "long1") == list(messages)
    assert article_page(messages, "long1", len(messages)) == []  # a stale part: nothing


def test_more_button_data_fits_telegram_and_forged_data_is_refused() -> None:
    data = more_of_article(LONGEST_ID, MAX_PART)
    assert len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES
    assert parse_callback(data) == MoreOfArticle(LONGEST_ID, MAX_PART)
    for forged in (
        "m:abc:0",
        "m:abc:-1",
        "m:abc:01",
        "m:abc:٣",
        "m:abc: 3",
        "m:abc:+3",
        "m:abc:3:4",
        "m:abc:",
        "m::3",
        "m:../x:3",
        f"m:abc:{MAX_PART + 1}",
        "m:" + "A" * 17 + ":3",
    ):
        assert parse_callback(forged) is None, forged


async def test_cache_formats_each_version_once_even_when_asked_concurrently() -> None:
    texts = ArticleTexts(inline_chars=0)  # every article through the formatting thread
    article = long_article(20)
    results = await asyncio.gather(*(texts.messages(article, "v1") for _ in range(4)))
    assert texts.formatted == 1
    assert all(r == tuple(format_article(article)) for r in results)
    assert await texts.messages(article, "v1") is results[0]
    # A new version of the record (deleted and posted again) is formatted again.
    changed = article.model_copy(update={"title": "تقرير معدل"})
    again = await texts.messages(changed, "v2")
    assert texts.formatted == 2
    assert "تقرير معدل" in again[0].text


async def test_cache_is_bounded_by_entries_and_characters() -> None:
    texts = ArticleTexts(max_entries=2)
    articles = [long_article(1, article_id=f"a{i}", words=5) for i in range(3)]
    for article in articles:
        await texts.messages(article, "v")
    await texts.messages(articles[0], "v")  # the oldest was evicted: formatted again
    assert texts.formatted == 4

    small = ArticleTexts(max_chars=100)
    await small.messages(long_article(3), "v")
    await small.messages(long_article(3), "v")
    assert small.formatted == 2  # larger than the whole cache: never kept


async def test_a_failed_formatting_is_reported_to_every_waiter_and_not_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.article_text as article_text

    def broken(article: Article) -> tuple[object, ...]:
        raise ValueError("formatter bug")

    monkeypatch.setattr(article_text, "_format_all", broken)
    texts = ArticleTexts(inline_chars=0)
    results = await asyncio.gather(
        *(texts.messages(long_article(5), "v") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ValueError) for r in results)
    monkeypatch.undo()
    assert len(await texts.messages(long_article(5), "v")) >= 1
