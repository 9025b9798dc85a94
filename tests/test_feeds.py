"""The feed poller against a local HTTP server and a real Redis: 304s, first poll, new items."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import aiohttp
import pytest

from bot.ingest.feeds import FeedOptions, FeedPoller, PollOutcome
from bot.ops.metrics import Metrics
from bot.parser import parse_text
from bot.store import Store
from bot.store.feeds import SEEN_RETENTION_SECONDS, TakenItem
from tests.delivery_support import DKEYS, delivery_reader, services_over
from tests.ingest_support import (
    FEEDS_DIR,
    FeedServer,
    feed_polls,
    feed_wait,
    make_settings,
    polls_after,
    rss,
)
from tests.waiting import wait_for

FLASH_TITLE = "عاجل | انهيار مبنى سكني في حي الميناء ووجود عالقين تحت الأنقاض"
FLASH_ITEM = (
    "<item><title>{title}</title>"
    "<link>https://flash.example/news/building-collapse</link>"
    "<description>التفاصيل بعد قليل..</description>"
    '<guid isPermaLink="false">https://flash.example/news/building-collapse</guid>'
    "<pubDate>Sun, 15 Feb 2026 09:00:00 +0000</pubDate></item>"
)


def make_poller(
    store: Store,
    http: aiohttp.ClientSession,
    urls: list[str],
    *,
    metrics: Metrics | None = None,
    **options: float,
) -> FeedPoller:
    settings = make_settings(feeds=",".join(urls))
    services = services_over(store, settings)
    values: dict[str, float] = {"interval": 60.0, "timeout": 5.0, "max_bytes": 1_000_000.0}
    values.update(options)
    return FeedPoller(
        settings,
        services,
        http,
        metrics or Metrics(),
        options=FeedOptions(
            interval=values["interval"],
            timeout=values["timeout"],
            max_bytes=int(values["max_bytes"]),
            backoff_max=values.get("backoff_max", 1800.0),
        ),
    )


async def alert_jobs(store: Store, priority: str) -> int:
    return int(await store.redis.xlen(DKEYS.jobs_stream(priority)))


def with_item(feed: bytes, item: str) -> bytes:
    """The feed with one more item at the top of the channel's items (newest first)."""
    text = feed.decode("utf-8")
    at = text.index("<item>")
    return (text[:at] + item + "\n" + text[at:]).encode("utf-8")


def corpus_feeds(corpus_dir: Path) -> list[Path]:
    feeds = sorted((corpus_dir / "feeds").glob("*.xml"))
    if not feeds:
        pytest.skip("no corpus feeds")
    return feeds


# Real feeds ---------------------------------------------------------------------------------
async def test_corpus_feeds_first_poll_stores_items_without_alerting_then_304(
    corpus_dir: Path, store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    paths = corpus_feeds(corpus_dir)
    urls = [feed_server.put(f"/{p.name}", p.read_bytes()) for p in paths]
    items = sum(p.read_bytes().count(b"<item>") for p in paths)
    poller = make_poller(store, http, urls)

    first = await poller.poll_all()
    assert [r.outcome for r in first] == [PollOutcome.OK] * len(urls)
    assert all(r.first_poll for r in first)
    assert sum(len(r.ingested) for r in first) + sum(r.skipped for r in first) == items
    assert await store.articles.count() == sum(len(r.ingested) for r in first) > 0
    # Old news is stored for /latest but nobody is pushed anything.
    assert await alert_jobs(store, "breaking") == 0 and await alert_jobs(store, "routine") == 0
    assert all(r.alerts == [] for r in first)
    latest = await store.articles.latest(100)
    assert {a.source for a in latest} >= {"Al Jazeera - Article Feed"}
    assert all(a.url and a.url.startswith("https://") for a in latest)
    assert all("<" not in p for a in latest for p in a.paragraphs())
    assert not any("appeared first on" in p for a in latest for p in a.paragraphs())
    flashes = [a for a in latest if a.breaking]
    assert len(flashes) == 1 and not flashes[0].title.startswith("عاجل")

    second = await poller.poll_all()
    assert [r.outcome for r in second] == [PollOutcome.NOT_MODIFIED] * len(urls)
    for path in paths:
        assert feed_server.statuses(f"/{path.name}") == [200, 304]
    conditional = [h for p, h in feed_server.requests if p == f"/{paths[0].name}"][1]
    assert conditional["If-None-Match"] and conditional["If-Modified-Since"]


async def test_new_breaking_item_in_a_real_feed_alerts_once(
    corpus_dir: Path, store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    path = next((p for p in corpus_feeds(corpus_dir) if "aljazeera" in p.name), None)
    if path is None:
        pytest.skip("Al Jazeera corpus feed absent")
    original = path.read_bytes()
    url = feed_server.put("/aj.xml", original)
    poller = make_poller(store, http, [url])
    await poller.poll_once(url)
    before = await store.articles.count()

    feed_server.put("/aj.xml", with_item(original, FLASH_ITEM.format(title=FLASH_TITLE)))
    result = await poller.poll_once(url)
    assert result.outcome is PollOutcome.OK and not result.first_poll
    assert len(result.ingested) == 1 and len(result.alerts) == 1
    article = await store.articles.get(result.ingested[0])
    assert article is not None and article.breaking
    assert article.title == FLASH_TITLE.removeprefix("عاجل | ")
    assert article.url == "https://flash.example/news/building-collapse"
    assert await store.articles.count() == before + 1
    assert await alert_jobs(store, "breaking") == 1

    # Polled again (unchanged: 304) and once more after a restart: still one alert.
    assert (await poller.poll_once(url)).outcome is PollOutcome.NOT_MODIFIED
    await store.feeds.record_success(url, etag=None, last_modified=None, title=None)
    restarted = make_poller(store, http, [url])
    again = await restarted.poll_once(url)
    assert again.outcome is PollOutcome.OK and again.ingested == []
    assert await alert_jobs(store, "breaking") == 1


# Own feeds: edge cases ----------------------------------------------------------------------
async def test_items_added_later_alert_breaking_and_routine_audiences(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    url = feed_server.put("/own.xml", rss("صحيفة الاختبار", []))
    poller = make_poller(store, http, [url])
    assert (await poller.poll_once(url)).first_poll
    routine = {
        "title": "تدشين خط حافلات جديد بين المدينتين",
        "link": "https://own.example/bus",
        "guid": "bus-1",
        "description": "دشنت الشركة خطاً جديداً للحافلات يعمل على مدار الساعة.",
    }
    flash = {"title": FLASH_TITLE, "guid": "flash-1", "link": "https://own.example/flash"}
    feed_server.put("/own.xml", rss("صحيفة الاختبار", [flash, routine]))
    result = await poller.poll_once(url)
    assert len(result.ingested) == 2 and len(result.alerts) == 2
    assert await alert_jobs(store, "breaking") == 1
    assert await alert_jobs(store, "routine") == 1
    stored = {a.title: a for a in await store.articles.latest(10)}
    assert stored[routine["title"]].source == "صحيفة الاختبار"
    assert stored[FLASH_TITLE.removeprefix("عاجل | ")].has_body() is False


async def test_atom_feed_with_html_content_becomes_clean_paragraphs(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    url = feed_server.put(
        "/atom.xml",
        (FEEDS_DIR / "atom_html.xml").read_bytes(),
        content_type="application/atom+xml",
    )
    result = await make_poller(store, http, [url]).poll_once(url)
    assert result.outcome is PollOutcome.OK and len(result.ingested) == 2
    articles = {a.url: a for a in await store.articles.latest(10)}
    budget = articles["https://atom.example/news/budget"]
    assert budget.title == "وزير المالية يعلن موازنة العام المقبل"
    assert budget.source == "أخبار & تقارير"
    text = "\n".join(budget.paragraphs() + [s.heading or "" for s in budget.sections])
    assert "<" not in text and "&amp;" not in text and "&nbsp;" not in text
    assert "trackReader" not in text and "color" not in text
    assert "أولوياتها" in text and "& أولوياتها" in text
    assert "أبرز البنود" in text
    assert "• زيادة مخصصات التعليم" in text and "• دعم صغار المزارعين" in text
    # <br> is a paragraph break; &nbsp; became a plain space.
    assert budget.paragraphs()[-2:] == [
        "وقال الوزير إن العجز سينخفض تدريجياً.",
        "وأضاف أن ذلك سيتم خلال ثلاث سنوات مقبلة.",
    ]
    assert budget.published_at is not None and budget.published_at.year == 2024
    fair = articles["https://atom.example/culture/book-fair"]
    assert fair.published_at is None and fair.has_body()


async def test_duplicate_guids_give_one_article_the_first_in_the_feed(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    url = feed_server.put("/dup.xml", (FEEDS_DIR / "rss_duplicates.xml").read_bytes())
    result = await make_poller(store, http, [url]).poll_once(url)
    assert len(result.ingested) == 2
    titles = {a.title for a in await store.articles.latest(10)}
    assert titles == {"ارتفاع أسعار الذهب في الأسواق المحلية", "افتتاح جسر جديد يربط ضفتي النهر"}


async def test_missing_dates_title_only_items_and_no_links(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    url = feed_server.put("/nodate.xml", rss("نشرة", []), etag=False, last_modified=False)
    poller = make_poller(store, http, [url])
    await poller.poll_once(url)
    feed_server.put(
        "/nodate.xml",
        (FEEDS_DIR / "rss_no_dates.xml").read_bytes(),
        etag=False,
        last_modified=False,
    )
    result = await poller.poll_once(url)
    # The dated-less routine item and the headline-only flash are taken; the non-breaking
    # headline without body is skipped (and remembered, so it is not retried every poll).
    assert len(result.ingested) == 2 and result.skipped == 1
    articles = {a.title: a for a in await store.articles.latest(10)}
    wheat = articles["بدء موسم حصاد القمح في السهول الشمالية"]
    assert wheat.published_at is None and wheat.url == "https://nodate.example/wheat"
    flash = articles["انقطاع التيار الكهربائي عن أحياء واسعة من العاصمة"]
    assert flash.breaking and flash.url is None
    assert await alert_jobs(store, "breaking") == 1
    # Without validators every poll is a full 200, and nothing is taken twice.
    again = await poller.poll_once(url)
    assert again.outcome is PollOutcome.OK and again.ingested == [] and again.skipped == 0
    assert feed_server.statuses("/nodate.xml") == [200, 200, 200]


async def test_malformed_feed_is_an_error_kept_in_rotation_and_recovers(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    url = feed_server.put("/bad.xml", (FEEDS_DIR / "malformed.xml").read_bytes())
    poller = make_poller(store, http, [url])
    states = store.feeds
    for streak in (1, 2):
        result = await poller.poll_once(url)
        assert result.outcome is PollOutcome.ERROR and "not a valid RSS/Atom feed" in (
            result.error or ""
        )
        assert (await states.get(url)).errors == streak
    assert await store.articles.count() == 0
    feed_server.put("/bad.xml", (FEEDS_DIR / "rss_duplicates.xml").read_bytes())
    result = await poller.poll_once(url)
    assert result.outcome is PollOutcome.OK and result.first_poll
    state = await states.get(url)
    assert state.errors == 0 and state.last_ok_at is not None
    assert state.last_error and "not a valid" in state.last_error  # kept for the record


@pytest.mark.parametrize(
    ("serve", "options", "message"),
    [
        ({"status": 500}, {}, "HTTP 500"),
        ({"status": 404}, {}, "HTTP 404"),
        ({}, {"max_bytes": 500.0}, "over 500"),
        ({"chunked": True}, {"max_bytes": 500.0}, "over 500"),
        ({"delay": 1.0}, {"timeout": 0.2}, "timed out after 0.2s"),
        ({"body": b"<html><body>not a feed</body></html>", "content_type": "text/html"}, {},
         "not"),
    ],
)  # fmt: skip
async def test_fetch_failures_are_recorded_not_raised(
    store: Store,
    feed_server: FeedServer,
    http: aiohttp.ClientSession,
    serve: dict[str, object],
    options: dict[str, float],
    message: str,
) -> None:
    serve = dict(serve)  # the parameter is shared by every run of the test in this process
    body = serve.pop("body", (FEEDS_DIR / "rss_duplicates.xml").read_bytes())
    assert isinstance(body, bytes)
    url = feed_server.put("/f.xml", body, **serve)
    metrics = Metrics()
    result = await make_poller(store, http, [url], metrics=metrics, **options).poll_once(url)
    assert result.outcome is PollOutcome.ERROR
    assert message in (result.error or "")
    state = await store.feeds.get(url)
    assert state.errors == 1 and message in (state.last_error or "")
    assert await store.articles.count() == 0
    polls = metrics.registry.get_sample_value(
        "newsbot_feed_polls_total", {"feed": url, "outcome": "error"}
    )
    assert polls == 1


async def test_unreachable_feed_is_an_error(store: Store, http: aiohttp.ClientSession) -> None:
    url = "http://127.0.0.1:9/feed.xml"  # the discard port: nothing listens
    result = await make_poller(store, http, [url], timeout=2.0).poll_once(url)
    assert result.outcome is PollOutcome.ERROR and result.error


def test_backoff_doubles_per_failure_and_is_capped() -> None:
    options = FeedOptions(interval=60, backoff_max=300)
    assert [options.delay_after(n) for n in range(7)] == [60, 60, 120, 240, 300, 300, 300]
    assert FeedOptions(interval=600, backoff_max=300).delay_after(5) == 600
    assert FeedOptions(interval=1, backoff_max=10).delay_after(10_000) == 10


# The running poller -------------------------------------------------------------------------
async def test_running_poller_alerts_a_new_flash_within_one_interval(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    interval = 0.3
    url = feed_server.put("/live.xml", (FEEDS_DIR / "rss_duplicates.xml").read_bytes())
    metrics = Metrics()
    poller = make_poller(store, http, [url], metrics=metrics, interval=interval)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    try:
        states = store.feeds
        await wait_for(lambda: states.is_known(url))
        assert await alert_jobs(store, "breaking") == 0
        # The loop's own record, not the wall clock of a loaded machine: after a healthy poll
        # it waits exactly one interval, and the first poll after the change is the one that
        # downloads the new document (the feed server's log: one 200, then 304s).
        mark = len(feed_server.responses)
        feed_server.put(
            "/live.xml",
            with_item(
                (FEEDS_DIR / "rss_duplicates.xml").read_bytes(),
                FLASH_ITEM.format(title=FLASH_TITLE),
            ),
        )

        async def alerted() -> bool:
            return await alert_jobs(store, "breaking") == 1

        await wait_for(alerted)
        # Two more complete polls of the changed feed (a poll is counted once it has finished
        # ingesting): neither may queue a second alert.
        after = feed_polls(metrics, url)
        await wait_for(lambda: feed_polls(metrics, url) >= after + 2)
        assert await alert_jobs(store, "breaking") == 1
        # Only a 200 carries items, and only the first poll after the change got one: that
        # poll, one interval after the previous, is the one that alerted the flash.
        statuses = polls_after(feed_server, "/live.xml", mark)
        assert statuses[0] == 200 and set(statuses[1:]) == {304} and len(statuses) >= 2
        assert feed_wait(metrics, url) == interval
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_a_failing_feed_stays_in_rotation_and_does_not_block_others(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    bad = feed_server.put("/down.xml", b"", status=503)
    good = feed_server.put("/up.xml", (FEEDS_DIR / "rss_duplicates.xml").read_bytes())
    metrics = Metrics()
    poller = make_poller(store, http, [bad, good], metrics=metrics, interval=0.05, backoff_max=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    try:
        # The failing feed is retried (three failed polls) while the good one is taken in.
        await wait_for(lambda: feed_polls(metrics, bad, "error") >= 3)
        await wait_for(lambda: feed_polls(metrics, good, "ok") >= 1)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert set(feed_server.statuses("/down.xml")) == {503}
    assert feed_server.statuses("/up.xml")[0] == 200
    assert await store.articles.count() == 2


async def test_backoff_restarts_from_the_interval_once_a_feed_recovers(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    interval = 0.05
    body = (FEEDS_DIR / "rss_duplicates.xml").read_bytes()
    url = feed_server.put("/flaky.xml", body, status=503)
    metrics = Metrics()
    poller = make_poller(store, http, [url], metrics=metrics, interval=interval, backoff_max=60)
    delay_after = poller.options.delay_after

    def polls(outcome: str) -> int:
        return feed_polls(metrics, url, outcome)

    def waiting() -> float | None:
        """The wait the loop chose after its latest poll (set before it starts waiting)."""
        name = "newsbot_feed_next_poll_delay_seconds"
        return metrics.registry.get_sample_value(name, {"feed": url})

    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    try:
        # The probes below are plain functions and the checks follow them without an await,
        # so each check sees the poll counts and the chosen wait of the same moment.
        await wait_for(lambda: polls("error") >= 4, what="four failed polls")
        assert waiting() == delay_after(polls("error")) >= 8 * interval
        feed_server.put("/flaky.xml", body)  # the feed is back
        await wait_for(lambda: polls("ok") >= 1 and polls("not_modified") >= 2)
        assert waiting() == interval
        assert feed_server.statuses("/flaky.xml")[-3:] == [200, 304, 304]
        # A failure after the recovery starts a new streak: its backoff starts again at the
        # interval instead of carrying on from the old streak.
        before = polls("error")
        feed_server.put("/flaky.xml", body, status=503)
        await wait_for(lambda: polls("error") > before, what="a failed poll after recovery")
        assert waiting() == delay_after(polls("error") - before) < 8 * interval
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_run_without_feeds_returns_at_once(store: Store, http: aiohttp.ClientSession) -> None:
    await asyncio.wait_for(make_poller(store, http, []).run(asyncio.Event()), 1)


async def test_redis_outage_is_a_failed_poll_not_a_crash(
    feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    dead = Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    try:
        url = feed_server.put("/f.xml", (FEEDS_DIR / "rss_duplicates.xml").read_bytes())
        result = await make_poller(Store.create(dead), http, [url]).poll_once(url)
        assert result.outcome is PollOutcome.ERROR
        assert result.error == "Redis unavailable: ConnectionError"
    finally:
        await dead.aclose()


BILLION_LAUGHS_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;"><!ENTITY lol9 "&lol2;&lol2;">]>
<rss version="2.0"><channel><title>خلاصة معطوبة</title>
{items}
</channel></rss>"""
LOL_ITEM = (
    "<item><title>عاجل | &lol9;</title><guid>lol</guid><description>&lol9;</description></item>"
)
TYPO_ITEM = (
    "<item><title>ارتفاع أسعار الوقود</title><guid>typo</guid>"
    "<description>قررت الحكومة رفع الأسعار &notanentity; اعتباراً من الغد.</description></item>"
)
CDATA_ITEM = (
    "<item><title>نتائج مسابقة البرمجة</title><guid>cdata</guid>"
    "<description><![CDATA[<p>كتب الفائز الرمز &foo; في حله.</p>]]></description></item>"
)
GOOD_ITEM = (
    "<item><title>عاجل | انفجار في مستودع بالميناء</title><guid>port</guid>"
    "<description>التفاصيل &amp; الصور بعد قليل &quot;مصدر&quot;.</description></item>"
)


async def test_entries_with_undefined_entities_in_a_malformed_feed_never_alert(
    store: Store,
    feed_server: FeedServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = feed_server.put("/lol.xml", rss("خلاصة معطوبة", []))
    metrics = Metrics()
    poller = make_poller(store, http, [url], metrics=metrics)
    assert (await poller.poll_once(url)).first_poll
    items = LOL_ITEM + TYPO_ITEM + CDATA_ITEM + GOOD_ITEM
    feed_server.put("/lol.xml", BILLION_LAUGHS_FEED.format(items=items).encode())
    with caplog.at_level(logging.WARNING, logger="bot.ingest.feeds"):
        result = await poller.poll_once(url)
    # The intact items alert; the two whose text lost an entity are skipped and said so. In
    # CDATA "&foo;" is the author's HTML text, kept as written.
    assert result.outcome is PollOutcome.OK and result.skipped == 2
    assert len(result.ingested) == len(result.alerts) == 2
    assert await alert_jobs(store, "breaking") == 1
    stored = {a.title: a for a in await store.articles.latest(10)}
    assert set(stored) == {"انفجار في مستودع بالميناء", "نتائج مسابقة البرمجة"}
    port = stored["انفجار في مستودع بالميناء"]
    assert port.paragraphs() == ['التفاصيل & الصور بعد قليل "مصدر".']
    assert stored["نتائج مسابقة البرمجة"].paragraphs() == ["كتب الفائز الرمز &foo; في حله."]
    malformed = metrics.registry.get_sample_value(
        "newsbot_feed_entries_total", {"feed": url, "outcome": "malformed"}
    )
    assert malformed == 2
    logged = [r.getMessage() for r in caplog.records if "undefined entity" in r.getMessage()]
    assert len(logged) == 2 and all(url in line for line in logged)
    assert any("&lol9;" in line for line in logged)
    assert any("&notanentity;" in line for line in logged)
    # Taken once: the next poll of the same feed skips nothing again and alerts nothing.
    feed_server.put("/lol.xml", BILLION_LAUGHS_FEED.format(items=items).encode(), etag=False)
    again = await poller.poll_once(url)
    assert again.skipped == 0 and again.ingested == [] and await alert_jobs(store, "breaking") == 1


async def test_a_well_formed_feed_keeps_an_escaped_entity_as_written(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    url = feed_server.put("/own.xml", rss("صحيفة", []))
    poller = make_poller(store, http, [url])
    await poller.poll_once(url)
    item = {
        "title": "رمز &amp;lol9; في رسالة المختبر",
        "guid": "lab-1",
        "description": "كتب الباحثون &amp;notanentity; و&amp;amp; حرفياً.",
    }
    feed_server.put("/own.xml", rss("صحيفة", [item]))
    result = await poller.poll_once(url)
    assert len(result.alerts) == 1
    article = await store.articles.get(result.ingested[0])
    assert article is not None and article.title == "رمز &lol9; في رسالة المختبر"
    assert article.paragraphs() == ["كتب الباحثون &notanentity; و& حرفياً."]


# Items that change: corrections ------------------------------------------------------------
ROUTINE = {
    "guid": "bridge-1",
    "link": "https://own.example/bridge",
    "title": "افتتاح جسر جديد فوق النهر",
    "description": "افتتحت البلدية جسراً جديداً يربط ضفتي النهر بطول ثلاثمئة متر.",
}


async def actions_of(store: Store, article_id: str) -> list[str]:
    status = await delivery_reader(store).alert_status(article_id)
    return [a.alert_id for a in status.actions] if status is not None else []


async def test_a_changed_item_never_alerted_only_updates_the_stored_article(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    url = feed_server.put("/own.xml", rss("صحيفة", [ROUTINE]))
    metrics = Metrics()
    poller = make_poller(store, http, [url], metrics=metrics)
    [article_id] = (await poller.poll_once(url)).ingested  # the first poll: stored silently
    longer = ROUTINE["description"] + " ويُتوقع أن يخفف الازدحام في وسط المدينة."
    feed_server.put("/own.xml", rss("صحيفة", [{**ROUTINE, "description": longer}]))
    result = await poller.poll_once(url)
    assert result.corrected == [article_id] and result.edits_queued == 0
    article = await store.articles.get(article_id)
    assert article is not None and article.paragraphs() == [longer]
    assert [v.changed for v in await store.stories.versions(article_id)] == [["lead"]]
    assert await alert_jobs(store, "breaking") == 0 and await alert_jobs(store, "routine") == 0
    assert await store.articles.count() == 1
    corrected = metrics.registry.get_sample_value(
        "newsbot_feed_entries_total", {"feed": url, "outcome": "corrected"}
    )
    assert corrected == 1


async def test_unchanged_reworded_markup_and_vanished_items_change_nothing(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    served = {"etag": False, "last_modified": False}  # every poll a full download
    url = feed_server.put("/own.xml", rss("صحيفة", []), **served)
    poller = make_poller(store, http, [url])
    await poller.poll_once(url)
    feed_server.put("/own.xml", rss("صحيفة", [ROUTINE]), **served)
    [article_id] = (await poller.poll_once(url)).alerts
    jobs = await alert_jobs(store, "routine")
    # The same item again, then with only its markup changed, then gone from the feed.
    marked_up = {**ROUTINE, "description": f"<![CDATA[<p>{ROUTINE['description']}</p>]]>"}
    for items in ([ROUTINE], [marked_up], []):
        feed_server.put("/own.xml", rss("صحيفة", items), **served)
        result = await poller.poll_once(url)
        assert result.outcome is PollOutcome.OK and result.corrected == [] and not result.ingested
    # Nothing was revised, so no alert is edited to read «تصحيح» over the same text.
    assert await store.stories.versions(article_id) == []
    assert await actions_of(store, article_id) == []
    assert await alert_jobs(store, "routine") == jobs and await alert_jobs(store, "breaking") == 0
    assert feed_server.statuses("/own.xml") == [200] * 5


async def test_a_changed_item_of_a_retracted_article_stays_retracted(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    url = feed_server.put("/own.xml", rss("صحيفة", []))
    poller = make_poller(store, http, [url])
    await poller.poll_once(url)
    feed_server.put("/own.xml", rss("صحيفة", [ROUTINE]))
    [article_id] = (await poller.poll_once(url)).alerts
    desk = services_over(store, make_settings()).stories
    await desk.retract(article_id, "خبر غير دقيق", by="test")
    retracted = await actions_of(store, article_id)
    feed_server.put("/own.xml", rss("صحيفة", [{**ROUTINE, "title": "افتتاح جسرين فوق النهر"}]))
    result = await poller.poll_once(url)
    assert result.outcome is PollOutcome.OK and result.corrected == []
    view = await store.stories.view(article_id)
    assert view is not None and view.story.retracted and view.article.title == ROUTINE["title"]
    assert await actions_of(store, article_id) == retracted  # the retraction only


async def test_items_forgotten_after_the_retention_lose_their_article_too(store: Store) -> None:
    url = "https://own.example/rss"
    states = store.feeds
    old = time.time() - SEEN_RETENTION_SECONDS - 60
    await states.mark_seen(url, ["gone"], now=old)
    await states.mark_seen(url, ["kept"])
    for key in ("gone", "kept"):
        await states.remember_item(url, key, TakenItem(f"id-{key}", "digest"))
    assert await states.prune_seen(url) == 1
    assert await states.taken_items(url, ["gone", "kept"]) == {
        "kept": TakenItem("id-kept", "digest")
    }
    assert await states.seen_count(url) == 1


async def test_items_taken_before_their_article_was_recorded_are_followed_by_their_link(
    store: Store, feed_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    url = feed_server.put("/own.xml", rss("صحيفة", [ROUTINE]))
    poller = make_poller(store, http, [url])
    [article_id] = (await poller.poll_once(url)).ingested
    # As an older version left it: the entry seen, no record of what it became.
    await store.redis.delete(store.keys.feed_items(url))
    desk = services_over(store, make_settings()).stories
    by_api = parse_text(f"افتتاح الجسر الجديد فوق النهر رسمياً\n{ROUTINE['description']}")
    await desk.correct(article_id, by_api, by="api")
    # The feed still shows its first text: the newsroom's own correction is not undone.
    feed_server.put("/own.xml", rss("صحيفة", [ROUTINE]), etag=False)
    assert (await poller.poll_once(url)).corrected == []
    feed_server.put("/own.xml", rss("صحيفة", [{**ROUTINE, "title": "افتتاح جسرين فوق النهر"}]))
    assert (await poller.poll_once(url)).corrected == [article_id]
    article = await store.articles.get(article_id)
    assert article is not None and article.title == "افتتاح جسرين فوق النهر"
