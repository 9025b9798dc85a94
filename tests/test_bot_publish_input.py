"""``/publish`` with input a JSON body can carry but no text is (issue 9), and its metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.constants import ADMIN_ID
from tests.e2e_harness import BotHarness, open_bot_harness
from tests.ingest_support import metric_value


@pytest.fixture
async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    """A running bot with its editor known to the sandbox."""
    async with open_bot_harness(redis_url) as harness:
        harness.add_user(ADMIN_ID, "المحرر", "editor")
        yield harness


async def ingested(bot: BotHarness, source: str) -> float | None:
    """``newsbot_articles_ingested_total{source=...}`` as the bot's /metrics would show it."""
    metrics = bot.stack.runtime.metrics
    await metrics.refresh(bot.store)
    return metric_value(
        metrics.render().decode(), "newsbot_articles_ingested_total", {"source": source}
    )


async def test_publish_of_a_lone_surrogate_is_refused_in_arabic(bot: BotHarness) -> None:
    # The editor types a JSON article whose \u escape spells a lone surrogate: no text.
    [refused] = await bot.send(ADMIN_ID, '/publish {"title": "عنوان", "body": "نص \\ud800"}')
    assert "لم يُنشر الخبر" in refused.visible_text and "«body»" in refused.visible_text
    assert await bot.store.articles.count() == 0
    [confirm] = await bot.send(ADMIN_ID, "/publish عنوان سليم\nنص سليم للخبر.")
    assert "تم نشر الخبر" in confirm.visible_text  # the bot is still answering


async def test_publish_counts_under_its_own_source(bot: BotHarness) -> None:
    [confirm] = await bot.send(ADMIN_ID, "/publish افتتاح معرض الكتاب\nافتتح اليوم معرض الكتاب.")
    assert "تم نشر الخبر" in confirm.visible_text
    assert await ingested(bot, "telegram") == 1
    assert await ingested(bot, "other") == 0
