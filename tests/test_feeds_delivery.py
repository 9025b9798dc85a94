"""End to end: a new عاجل item in a feed reaches subscribers (sandbox Telegram) within one poll."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bot.delivery.counters import Counter, messages_field
from bot.ingest.feeds import FeedOptions, FeedPoller
from bot.ops.metrics import Metrics
from bot.runtime import Parts, open_runtime
from bot.store import Store
from formatters.labels import CORRECTED_MARK
from tests.constants import AUTH
from tests.delivery_e2e_support import READERS, deliveries_settled, delivery_stack
from tests.delivery_support import delivery_reader, services_over
from tests.ingest_support import (
    FEEDS_DIR,
    FeedServer,
    feed_polls,
    feed_wait,
    make_settings,
    polls_after,
    rss,
)
from tests.ports import free_port
from tests.waiting import wait_for

INTERVAL = 0.5
FLASH = (
    "<item><title>عاجل | زلزال بقوة 6 درجات يضرب الساحل الشمالي</title>"
    "<link>https://quake.example/news/coast</link>"
    "<description>التفاصيل بعد قليل..</description>"
    '<guid isPermaLink="false">quake-coast-1</guid>'
    "<pubDate>Sun, 15 Feb 2026 10:00:00 +0000</pubDate></item>"
)


def starting_feed(corpus_dir: Path | None) -> bytes:
    """The real Al Jazeera feed when the corpus is present, else a small feed of our own."""
    if corpus_dir is not None:
        path = corpus_dir / "feeds" / "aljazeera_net_via_prospect.xml"
        if path.is_file():
            return path.read_bytes()
    return (FEEDS_DIR / "rss_duplicates.xml").read_bytes()


@pytest.fixture
def maybe_corpus(request: pytest.FixtureRequest) -> Path | None:
    try:
        corpus: Path = request.getfixturevalue("corpus_dir")
    except pytest.skip.Exception:
        return None
    return corpus


async def test_new_flash_in_a_feed_reaches_every_subscriber_once_within_one_interval(
    store: Store, feed_server: FeedServer, maybe_corpus: Path | None
) -> None:
    original = starting_feed(maybe_corpus)
    url = feed_server.put("/live.xml", original)
    settings = make_settings(feeds=url, feed_interval=INTERVAL)
    metrics = Metrics()
    async with delivery_stack(store, metrics) as stack, aiohttp.ClientSession() as http:
        poller = FeedPoller(
            settings,
            services_over(store, settings),
            http,
            metrics,
            options=FeedOptions(interval=INTERVAL, timeout=5.0),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        try:
            states = store.feeds
            await wait_for(lambda: states.is_known(url))  # the first poll (old items) is done
            assert all(stack.messages(chat) == [] for chat in READERS)  # no flood of old news

            text = original.decode("utf-8")
            at = text.index("<item>")
            mark = len(feed_server.responses)
            feed_server.put("/live.xml", (text[:at] + FLASH + text[at:]).encode("utf-8"))
            for chat in READERS:
                await stack.sandbox.state.wait_for_bot_messages(chat, 1, timeout=15)
            # Several more finished polls of the changed feed, and every alert delivered to
            # the end: only then can "nothing more arrives" be checked.
            after = feed_polls(metrics, url)
            await wait_for(lambda: feed_polls(metrics, url) >= after + 3)
            await wait_for(lambda: deliveries_settled(store))
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
        for chat in READERS:
            messages = stack.messages(chat)
            assert len(messages) == 1, messages
            assert "زلزال بقوة 6 درجات يضرب الساحل الشمالي" in messages[0]
        # "Within one interval" on the poller's own record, not on a loaded machine's clock:
        # the first poll after the change (scheduled one interval after the previous one) is
        # the only one that downloaded the new document, so it is the one that alerted.
        statuses = polls_after(feed_server, "/live.xml", mark)
        assert statuses[0] == 200 and set(statuses[1:]) == {304} and len(statuses) >= 3
        assert feed_wait(metrics, url) == INTERVAL
    counters = await delivery_reader(store).counters()
    assert counters.get(messages_field("sent")) == len(READERS)
    assert counters.get(Counter.ALERTS_PUBLISHED) == 1


async def test_the_runtime_serves_the_api_and_polls_feeds_until_stopped(
    redis_url: str, store: Store, feed_server: FeedServer
) -> None:
    url = feed_server.put("/f.xml", (FEEDS_DIR / "rss_duplicates.xml").read_bytes())
    port = free_port()
    settings = make_settings(
        redis_url=redis_url, feeds=url, feed_interval=0.2, api_host="127.0.0.1", api_port=port
    )
    newsroom = Parts(bot=False, workers=0, api=True, feeds=True)
    async with asyncio.timeout(15), open_runtime(settings, newsroom):
        states = store.feeds
        await wait_for(lambda: states.is_known(url))
        listing = f"http://127.0.0.1:{port}/api/articles"
        async with aiohttp.ClientSession() as http, http.get(listing, headers=AUTH) as resp:
            assert resp.status == 200
            assert (await resp.json())["total"] == 2  # the feed's items, recorded
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://127.0.0.1:{port}/healthz")


# An item that changes in the feed is a correction ------------------------------------------
EXTRA_READERS = tuple(range(3001, 3021))
STORY = {
    "guid": "fire-1",
    "link": "https://fire.example/news/market-fire",
    "title": "عاجل | مقتل ثلاثة أشخاص في حريق بسوق المدينة",
    "description": "اندلع الحريق فجراً في سوق المدينة القديم وامتدت النيران إلى محال مجاورة.",
}
CORRECTED = "عاجل | إصابة ثلاثة أشخاص في حريق بسوق المدينة"


async def test_an_alerted_item_changed_in_the_feed_edits_every_readers_alert_once(
    store: Store, feed_server: FeedServer
) -> None:
    # No validators: every poll is a full download, so "nothing happens" is really checked.
    served = {"etag": False, "last_modified": False}
    url = feed_server.put("/story.xml", rss("صحيفة المدينة", []), **served)
    settings = make_settings(feeds=url)
    metrics = Metrics()
    async with delivery_stack(store, metrics) as stack, aiohttp.ClientSession() as http:
        for chat in EXTRA_READERS:
            stack.sandbox.state.add_user(chat, f"قارئ {chat}")
            await store.subscribers.subscribe(chat)
        readers = [*READERS, *EXTRA_READERS]
        poller = FeedPoller(
            settings, services_over(store, settings), http, metrics, options=FeedOptions()
        )
        assert (await poller.poll_once(url)).first_poll
        feed_server.put("/story.xml", rss("صحيفة المدينة", [STORY]), **served)
        alerted = await poller.poll_once(url)
        assert len(alerted.alerts) == 1
        await wait_for(lambda: deliveries_settled(store))
        assert all(len(stack.messages(chat)) == 1 for chat in readers)

        feed_server.put(
            "/story.xml", rss("صحيفة المدينة", [{**STORY, "title": CORRECTED}]), **served
        )
        corrected = await poller.poll_once(url)

        def every_alert_edited() -> bool:
            return all(
                [m.edit_count for m in stack.sandbox.state.bot_messages(chat)] == [1]
                for chat in readers
            )

        await wait_for(every_alert_edited, what="every reader's alert edited")
        assert corrected.ingested == [] and corrected.alerts == []
        assert corrected.corrected == alerted.ingested
        assert corrected.edits_queued == len(readers)
        again = await poller.poll_once(url)
        assert again.corrected == [] and again.ingested == [] and again.edits_queued == 0
        await wait_for(lambda: deliveries_settled(store))
    for chat in readers:
        [message] = stack.sandbox.state.bot_messages(chat)  # the alert, never sent again
        assert message.edit_count == 1
        assert "إصابة ثلاثة أشخاص في حريق بسوق المدينة" in message.visible_text
        assert "مقتل" not in message.visible_text and CORRECTED_MARK in message.visible_text
    calls = stack.sandbox.state.stats()["by_method"]
    assert calls["sendMessage"] == len(readers) and calls["editMessageText"] == len(readers)
    view = await store.stories.view(alerted.ingested[0])
    assert view is not None and view.story.version == 2
    assert view.article.title == CORRECTED.removeprefix("عاجل | ")
    [past] = await store.stories.versions(alerted.ingested[0])
    assert past.changed == ["title"] and past.replaced_by == f"feed {url}"
