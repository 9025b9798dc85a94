"""A huge article never ties the bot up (issue 9, item 7): pages, «المزيد», no blocked loop."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.article_text import ARTICLE_TEXTS
from bot.models import Article, Section
from formatters import ARTICLE_PAGE_SIZE, format_article, part_indicator
from formatters.callback_data import more_of_article, read_article
from formatters.labels import MORE_LABEL
from formatters.replies import (
    help_message,
    notice_article_gone,
    notice_invalid_button,
    notice_sending_more,
)
from sandbox import ChatMessage
from tests.e2e_harness import BotHarness, open_bot_harness
from tests.waiting import wait_for

LAYLA = 401
OMAR = 402
GROUP = -100401


@pytest.fixture
async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    """A running bot with two readers; every test formats its articles afresh."""
    ARTICLE_TEXTS.clear()
    async with open_bot_harness(redis_url) as harness:
        harness.add_user(LAYLA, "ليلى")
        harness.add_user(OMAR, "عمر")
        yield harness
    ARTICLE_TEXTS.clear()


async def _store(bot: BotHarness, article: Article) -> Article:
    saved = await bot.store.articles.save(article)
    return saved.article


def _report(paragraphs: int) -> Article:
    body = [f"الفقرة {i}: " + "كلمة من نص التقرير " * 70 for i in range(1, paragraphs + 1)]
    return Article(title="تقرير مطول", sections=[Section(paragraphs=body)])


def _huge() -> Article:
    """About 1 MB of UTF-8 in 10,000 sections, as a careless newsroom posted it."""
    sections = [
        Section(heading=f"القسم {i}", paragraphs=["أعلنت الوزارة اليوم ارتفاع عدد الضحايا " * 2])
        for i in range(10_000)
    ]
    return Article(title="تقرير ضخم جداً", sections=sections)


def _more(message: ChatMessage) -> str | None:
    buttons = [b for b in message.buttons() if MORE_LABEL in b["text"]]
    return buttons[0]["callback_data"] if buttons else None


async def test_a_long_article_comes_a_page_at_a_time_and_more_continues(bot: BotHarness) -> None:
    article = await _store(bot, _report(16))
    assert article.id is not None
    chunks = format_article(article)
    assert ARTICLE_PAGE_SIZE < len(chunks) <= 2 * ARTICLE_PAGE_SIZE, "two pages wanted"

    first = await bot.send(LAYLA, f"/article {article.id}", expect=ARTICLE_PAGE_SIZE)
    assert [_more(m) for m in first[:-1]] == [None] * (ARTICLE_PAGE_SIZE - 1)
    assert _more(first[-1]) == more_of_article(article.id, ARTICLE_PAGE_SIZE)

    rest_count = len(chunks) - ARTICLE_PAGE_SIZE
    answer, rest = await bot.press(LAYLA, first[-1], expect=rest_count)
    assert answer.text == notice_sending_more()
    assert _more(rest[-1]) is None  # the end
    assert [m.text for m in [*first, *rest]] == [c.text for c in chunks]
    await bot.barrier(LAYLA)
    assert len(bot.bot_messages(LAYLA)) == len(chunks) + 1  # nothing sent twice

    # Forged or stale «more» buttons are answered cleanly, nothing is sent.
    past_end, new = await bot.press(LAYLA, first[-1], more_of_article(article.id, 99))
    assert past_end.text == notice_invalid_button() and not new
    gone, new = await bot.press(LAYLA, first[-1], more_of_article("NoSuchId99", 4))
    assert gone.text == notice_article_gone() and not new
    forged, new = await bot.press(LAYLA, first[-1], f"m:{article.id}:٤")
    assert forged.text == notice_invalid_button() and not new


async def test_read_button_deep_link_and_group_read_send_the_first_page(bot: BotHarness) -> None:
    article = await _store(bot, _report(16))
    assert article.id is not None
    chunks = format_article(article)
    page = [c.text for c in chunks[:ARTICLE_PAGE_SIZE]]

    linked = await bot.send(OMAR, f"/start a_{article.id}", expect=ARTICLE_PAGE_SIZE + 1)
    assert [m.text for m in linked[:-1]] == page
    assert _more(linked[-2]) is not None and "أهلاً عمر" in linked[-1].visible_text

    [listing] = await bot.send(LAYLA, "/latest")
    assert listing.callback_data() == [read_article(article.id)]
    _, read = await bot.press(LAYLA, listing, expect=ARTICLE_PAGE_SIZE)
    assert [m.text for m in read] == page

    # In a group the page goes to the presser privately, and «more» continues there.
    [group_listing] = await bot.send(LAYLA, "/latest", chat_id=GROUP, chat_type="group")
    _, private = await bot.press(OMAR, group_listing, expect=ARTICLE_PAGE_SIZE, expect_in=OMAR)
    assert [m.text for m in private] == page
    _, rest = await bot.press(OMAR, private[-1], expect=len(chunks) - ARTICLE_PAGE_SIZE)
    assert [m.text for m in rest] == [c.text for c in chunks[ARTICLE_PAGE_SIZE:]]
    assert len(bot.bot_messages(GROUP)) == 1  # the group saw only its listing


async def test_other_readers_are_answered_while_a_huge_article_is_formatted(
    bot: BotHarness,
) -> None:
    huge = await _store(bot, _huge())
    assert huge.id is not None
    assert len(huge.model_dump_json().encode("utf-8")) > 1_000_000

    before = ARTICLE_TEXTS.formatted
    # The formatting thread is held busy until Omar is answered, so Layla's article is still
    # being formatted however fast or loaded the machine is (no race on who finishes first).
    hold = threading.Event()
    busy = ARTICLE_TEXTS._thread().submit(hold.wait, 60)
    try:
        bot.state.user_sends(LAYLA, f"/article {huge.id}")
        await wait_for(lambda: _started(before), what="formatting started")
        # Layla's article is being formatted now; Omar's /help must not wait for it.
        [answer] = await bot.send(OMAR, "/help")
        assert answer.text == help_message(is_admin=False).text
        assert bot.bot_messages(LAYLA) == []
    finally:
        hold.set()
    assert busy.result() is True

    # A megabyte of article to format (slower still under coverage on a loaded machine).
    page = await bot.expect(LAYLA, ARTICLE_PAGE_SIZE, after=0, within=90)
    assert answer.seq < page[0].seq
    assert _more(page[-1]) == more_of_article(huge.id, ARTICLE_PAGE_SIZE)
    total = len(format_article(huge))
    assert page[0].visible_text.endswith(part_indicator(1, total)) and total > 100

    # The next page comes from the cache: the article is not formatted a second time.
    formatted = ARTICLE_TEXTS.formatted
    await bot.press(LAYLA, page[-1], expect=ARTICLE_PAGE_SIZE)
    assert ARTICLE_TEXTS.formatted == formatted


async def _started(before: int) -> bool:
    return ARTICLE_TEXTS.formatted > before
