"""The shared ingestion pipeline: one alert per article, and silence stays silence."""

from __future__ import annotations

from bot.delivery.publisher import DeliveryPublisher
from bot.models import Article, Section
from bot.pipeline import Ingestor
from bot.store import Store
from tests.conftest import SAMPLE_ARTICLE
from tests.delivery_support import DKEYS, delivery_reader


def ingestor(store: Store) -> Ingestor:
    return Ingestor(store, DeliveryPublisher(store.redis, DKEYS), max_bytes=1_000_000)


async def test_breaking_article_is_stored_and_alerted_once_however_often_it_comes(
    store: Store,
) -> None:
    pipeline = ingestor(store)
    data = SAMPLE_ARTICLE.read_bytes()
    first = await pipeline.ingest_bytes(data, source="cli")
    repeats = [await pipeline.ingest_bytes(data, source="api") for _ in range(3)]
    assert first.created and first.alert_id == first.id
    assert all(not r.created and r.id == first.id and r.alert_id == first.id for r in repeats)
    assert [a.alert_id for a in await delivery_reader(store).recent_alerts(10)] == [first.id]
    stats = await store.stats.all()
    assert stats["ingested:cli"] == 1 and "ingested:api" not in stats


async def test_article_first_stored_silently_never_alerts_later(store: Store) -> None:
    article = Article(
        title="عاجل | انقطاع الكهرباء في العاصمة",
        breaking=True,
        sections=[Section(paragraphs=["انقطع التيار الكهربائي عن أحياء واسعة."])],
        url="https://news.example/1",
    )
    pipeline = ingestor(store)
    silent = await pipeline.ingest(article, alert=False, source="feed")
    assert silent.created and silent.alert_id is None
    again = await pipeline.ingest(article, source="feed")
    assert not again.created and again.alert_id is None
    assert await delivery_reader(store).recent_alerts(10) == []


async def test_repeat_completes_a_hand_over_lost_between_store_and_queue(store: Store) -> None:
    # A crash right after the article was stored, before its alert was queued.
    article = Article(
        title="زلزال يضرب المنطقة",
        breaking=True,
        sections=[Section(paragraphs=["التفاصيل بعد قليل."])],
    )
    await store.articles.save(article, alert_wanted=True)
    retried = await ingestor(store).ingest(article)
    assert not retried.created
    assert retried.alert_id == retried.id
    assert [a.alert_id for a in await delivery_reader(store).recent_alerts(10)] == [retried.id]
