"""The Redis store against a real Redis: articles, idempotency, search, subscribers."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import ARTICLE_ID_RE, Article, ChatKind, Preference, Section
from bot.store import Audience, Store, SubscribeResult


def make_article(title: str, body: str, **extra: object) -> Article:
    return Article(title=title, sections=[Section(paragraphs=[body])], **extra)


async def test_save_assigns_short_stable_id_and_get_returns_the_article(store: Store) -> None:
    article = make_article("انفجار في الميناء", "قالت السلطات إن الانفجار وقع صباحاً.")
    result = await store.articles.save(article)
    assert result.created
    assert ARTICLE_ID_RE.match(result.id) and len(result.id) <= 16
    loaded = await store.articles.get(result.id)
    assert loaded is not None
    assert loaded.title == article.title and loaded.sections == article.sections
    assert loaded.id == result.id


async def test_same_content_twice_returns_same_id_and_one_article(store: Store) -> None:
    article = make_article("عنوان", "نص الخبر كاملاً.")
    first = await store.articles.save(article)
    second = await store.articles.save(article.model_copy())
    assert not second.created
    assert second.id == first.id
    assert await store.articles.count() == 1


async def test_same_url_with_edited_text_is_the_same_article(store: Store) -> None:
    url = "https://example.com/news/1"
    first = await store.articles.save(make_article("عنوان أول", "نص.", url=url))
    second = await store.articles.save(make_article("عنوان معدل", "نص آخر.", url=url))
    assert second.id == first.id and not second.created
    assert await store.articles.count() == 1


async def test_same_content_without_url_matches_the_stored_one(store: Store) -> None:
    with_url = make_article("عنوان", "نص.", url="https://example.com/a")
    first = await store.articles.save(with_url)
    second = await store.articles.save(make_article("عنوان", "نص."))
    assert second.id == first.id


async def test_concurrent_saves_of_one_article_create_it_once(store: Store) -> None:
    article = make_article("خبر متزامن", "يصل الخبر من مصدرين في اللحظة نفسها.")
    results = await asyncio.gather(*(store.articles.save(article) for _ in range(20)))
    assert len({r.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert await store.articles.count() == 1


async def test_latest_is_newest_first_and_limited(store: Store) -> None:
    for day in range(1, 8):
        published = datetime(2024, 8, day, tzinfo=UTC)
        await store.articles.save(make_article(f"خبر {day}", f"نص {day}.", published_at=published))
    latest = await store.articles.latest(3)
    assert [a.title for a in latest] == ["خبر 7", "خبر 6", "خبر 5"]
    assert await store.articles.latest(0) == []


async def test_delete_removes_article_and_its_indexes(store: Store) -> None:
    saved = await store.articles.save(
        make_article("زلزال قوي", "ضرب زلزال المنطقة.", url="https://x.org/1")
    )
    assert await store.articles.delete(saved.id)
    assert await store.articles.get(saved.id) is None
    assert await store.articles.search("زلزال") == []
    assert not await store.articles.delete(saved.id)
    again = await store.articles.save(
        make_article("زلزال قوي", "ضرب زلزال المنطقة.", url="https://x.org/1")
    )
    assert again.created


async def _rewrite_stored(store: Store, article_id: str, **changes: object) -> None:
    """Edit an article's stored JSON as another version of newsbot might have written it."""
    raw = await store.redis.get(store.keys.article(article_id))
    assert raw is not None
    data = json.loads(raw)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    await store.redis.set(store.keys.article(article_id), json.dumps(data, ensure_ascii=False))


async def test_stored_articles_with_unknown_fields_are_still_read(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # A record written by a newer (or older) newsbot: a field this version does not know, at
    # the top and inside a section.
    saved = await store.articles.save(make_article("خبر من إصدار أحدث", "نص الخبر."))
    await _rewrite_stored(
        store,
        saved.id,
        priority="high",
        sections=[{"heading": None, "paragraphs": ["نص الخبر."], "lang": "ar"}],
    )
    with caplog.at_level(logging.WARNING, logger="bot.store.articles"):
        loaded = await store.articles.get(saved.id)
        again = await store.articles.latest(5)
    assert loaded is not None and loaded.title == "خبر من إصدار أحدث"
    assert loaded.paragraphs() == ["نص الخبر."]
    assert [a.id for a in again] == [saved.id]
    warnings = [r for r in caplog.records if saved.id in r.getMessage()]
    assert len(warnings) == 1  # once per article, not on every read
    assert "priority" in warnings[0].getMessage()


async def test_an_unreadable_stored_article_is_missing_not_an_error(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    good = await store.articles.save(
        make_article("خبر سليم", "نص.", published_at=datetime(2024, 1, 1, tzinfo=UTC))
    )
    bad = await store.articles.save(
        make_article("خبر تالف", "نص آخر.", published_at=datetime(2024, 1, 2, tzinfo=UTC))
    )
    await _rewrite_stored(store, bad.id, title=None)  # required field gone
    broken = await store.articles.save(
        make_article("خبر مقطوع", "نص ثالث.", published_at=datetime(2024, 1, 3, tzinfo=UTC))
    )
    await store.redis.set(store.keys.article(broken.id), '{"title": "خبر مقط')
    with caplog.at_level(logging.ERROR, logger="bot.store.articles"):
        assert await store.articles.get(bad.id) is None
        assert await store.articles.get(broken.id) is None
        latest = await store.articles.latest(5)
    assert [a.id for a in latest] == [good.id]  # the readable ones, still in order
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert bad.id in logged and broken.id in logged


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("أعلنت الحكومة إجراءات جديدة", "اعلنت"),
        ("أعلنت الحكومة إجراءات جديدة", "حكومه"),
        ("وصل الرئيس إلى القاهرة", "الي القاهره"),
        ("مُسْتَشْفَى ميداني", "مستشفي"),
        ("الاتفاق الـنووي", "النووي"),
        ("إطلاق ٣ صواريخ", "3"),
    ],
)
async def test_search_folds_arabic_spelling_variants(store: Store, stored: str, query: str) -> None:
    saved = await store.articles.save(make_article("عنوان", stored + "."))
    found = await store.articles.search(query)
    assert [a.id for a in found] == [saved.id]


async def test_search_needs_every_word_and_ranks_newest_first(store: Store) -> None:
    old = await store.articles.save(
        make_article("غزة", "قصف على غزة.", published_at=datetime(2024, 1, 1, tzinfo=UTC))
    )
    new = await store.articles.save(
        make_article("غزة", "هدنة في غزة.", published_at=datetime(2024, 2, 1, tzinfo=UTC))
    )
    assert [a.id for a in await store.articles.search("غزة")] == [new.id, old.id]
    assert [a.id for a in await store.articles.search("هدنة غزة")] == [new.id]
    assert await store.articles.search("غزة بيروت") == []
    assert await store.articles.search("   ") == []


async def test_subscribe_is_idempotent_and_reports_what_happened(store: Store) -> None:
    subs = store.subscribers
    assert await subs.subscribe(42) is SubscribeResult.NEW
    assert await subs.subscribe(42) is SubscribeResult.ALREADY
    assert await subs.count() == 1
    assert await subs.unsubscribe(42)
    assert not await subs.unsubscribe(42)
    assert await subs.count() == 0
    assert await subs.subscribe(42) is SubscribeResult.REACTIVATED
    assert await subs.count() == 1


async def test_preference_survives_leaving_and_rejoining(store: Store) -> None:
    subs = store.subscribers
    await subs.subscribe(7)
    assert await subs.set_preference(7, Preference.ALL)
    assert await subs.count(Audience.ALL_NEWS) == 1
    await subs.unsubscribe(7)
    assert await subs.count(Audience.ALL_NEWS) == 0
    await subs.subscribe(7)
    subscriber = await subs.get(7)
    assert subscriber is not None and subscriber.preference is Preference.ALL
    assert await subs.count(Audience.ALL_NEWS) == 1
    assert await subs.set_preference(7, Preference.BREAKING)
    assert await subs.count(Audience.ALL_NEWS) == 0
    assert not await subs.set_preference(999, Preference.ALL)


async def test_blocked_subscriber_is_inactive_with_reason_and_counted(store: Store) -> None:
    subs = store.subscribers
    await subs.subscribe(5)
    assert await subs.deactivate(5, "blocked")
    subscriber = await subs.get(5)
    assert subscriber is not None and not subscriber.active
    assert subscriber.inactive_reason == "blocked"
    assert await subs.inactive_reasons() == {"blocked": 1}
    assert await subs.subscribe(5) is SubscribeResult.REACTIVATED
    reactivated = await subs.get(5)
    assert reactivated is not None and reactivated.active and reactivated.inactive_reason is None


async def test_iteration_streams_every_active_chat_once_in_pages(store: Store) -> None:
    subs = store.subscribers
    chat_ids = [*range(1, 2501), -1001234567890, -42]
    for chat_id in chat_ids:
        kind = ChatKind.SUPERGROUP if chat_id < 0 else ChatKind.PRIVATE
        await subs.subscribe(chat_id, kind)
    await subs.unsubscribe(10)
    pages = [page async for page in subs.iterate(page_size=700)]
    assert max(len(p) for p in pages) <= 700
    seen = [chat_id for page in pages for chat_id in page]
    assert sorted(seen) == sorted(set(chat_ids) - {10})
    assert len(seen) == len(set(seen))
    kinds = await subs.kinds([-42, 1])
    assert kinds == {-42: ChatKind.SUPERGROUP, 1: ChatKind.PRIVATE}


async def test_page_cursor_resumes_after_a_given_chat(store: Store) -> None:
    for chat_id in (3, 1, 2, 5, 4):
        await store.subscribers.subscribe(chat_id)
    assert await store.subscribers.page(Audience.BREAKING, after=2, count=2) == [3, 4]
    assert await store.subscribers.page(Audience.BREAKING, after=5) == []


async def test_namespaces_do_not_see_each_other(store: Store) -> None:
    other = Store.create(store.redis, namespace="other")
    await store.articles.save(make_article("عنوان", "نص."))
    await store.subscribers.subscribe(1)
    assert await other.articles.count() == 0
    assert await other.subscribers.count() == 0


async def test_search_of_common_words_returns_the_newest_and_leaves_no_scratch_keys(
    store: Store,
) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(30):
        article = Article(
            title=f"خبر رقم {i} من غزة",
            sections=[Section(paragraphs=[f"أعلنت الوزارة اليوم تفاصيل الخبر {i}."])],
            published_at=base + timedelta(minutes=i),
        )
        await store.articles.save(article)
    found = await store.articles.search("غزه الوزاره اليوم", limit=5)
    assert [a.title for a in found] == [f"خبر رقم {i} من غزة" for i in range(29, 24, -1)]
    assert await store.articles.search("غزة كلمةغائبة") == []
    assert [k async for k in store.redis.scan_iter(match="*search_scratch*")] == []
