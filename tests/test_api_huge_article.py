"""GET of a huge article through the API never holds up ``/healthz`` (issue 9, item 7)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.article_text import ARTICLE_TEXTS
from bot.models import Article, Section
from bot.store import Store
from formatters import part_indicator
from tests.constants import AUTH
from tests.ingest_support import ApiHarness, api_harness
from tests.waiting import wait_for


@pytest.fixture
async def api(store: Store) -> AsyncIterator[ApiHarness]:
    """The API over the test store; every test formats its articles afresh."""
    ARTICLE_TEXTS.clear()
    async with api_harness(store) as harness:
        yield harness
    ARTICLE_TEXTS.clear()


def _huge() -> Article:
    sections = [
        Section(heading=f"القسم {i}", paragraphs=["أعلنت الوزارة اليوم ارتفاع عدد الضحايا " * 2])
        for i in range(10_000)
    ]
    return Article(title="تقرير ضخم جداً", sections=sections)


async def test_healthz_is_answered_while_four_gets_format_a_huge_article(
    api: ApiHarness,
) -> None:
    saved = await api.store.articles.save(_huge())
    found = await api.store.articles.get_versioned(saved.id)
    assert found is not None
    version = found[1]
    finished: list[str] = []

    async def get(path: str, name: str) -> dict[str, object]:
        resp = await api.client.get(path, headers=AUTH)
        assert resp.status == 200
        body: dict[str, object] = await resp.json()
        finished.append(name)
        return body

    before = ARTICLE_TEXTS.formatted
    gets = [asyncio.create_task(get(f"/api/articles/{saved.id}", f"article{i}")) for i in range(4)]

    async def started() -> bool:
        return ARTICLE_TEXTS.formatted > before

    await wait_for(started, what="formatting started")
    await get("/healthz", "healthz")
    # Answered while the article was still being formatted, not after.
    assert not ARTICLE_TEXTS.cached(saved.id, version)
    bodies = await asyncio.gather(*gets)

    assert finished[0] == "healthz"
    # The four share one formatting, and each gets every message of the article.
    assert ARTICLE_TEXTS.formatted == before + 1
    messages = bodies[0]["messages"]
    assert isinstance(messages, list) and len(messages) > 100
    assert all(body["messages"] == messages for body in bodies[1:])
    assert messages[0]["text"].endswith(part_indicator(1, len(messages)))
    assert "القسم 9999" in messages[-1]["text"]
