"""Delivery engine against a real Redis and the Telegram sandbox: what subscribers receive."""

from __future__ import annotations

import time

from bot.delivery.config import PRIORITIES
from bot.delivery.counters import Counter, messages_field
from bot.delivery.metrics import token_listener
from bot.delivery.outcomes import Outcome
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.status import render_status_text
from bot.models import Article, Preference
from bot.ops.health import ReadinessProbe
from bot.pipeline import Ingestor
from bot.store import Store
from bot.store.stats import StatField, ingested_field
from sandbox.server import SandboxServer
from tests.constants import BOT_TOKEN
from tests.delivery_support import (
    DKEYS,
    delivery_reader,
    engine_config,
    fail_chats,
    max_in_window,
    publish,
    record_sends,
    record_slots,
    redis_now_us,
    running,
    seed,
    stored_article,
    wait_done,
)
from tests.waiting import wait_for


async def queued_entries(store: Store) -> int:
    """Entries waiting in every delivery stream (jobs and batches, all priorities)."""
    total = 0
    for priority in PRIORITIES:
        total += await store.redis.xlen(DKEYS.jobs_stream(priority.value))
        total += await store.redis.xlen(DKEYS.batches_stream(priority.value))
        async for key in store.redis.scan_iter(match=DKEYS.alert_batches(priority, "*")):
            total += await store.redis.xlen(key)
    return total


async def test_every_subscriber_gets_the_alert_exactly_once(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 120)
    log = record_sends(sandbox)
    article = await stored_article(store)
    async with running(store, engine_config(sandbox)):
        alert_id = await publish(store, article)
        status = await wait_done(store, alert_id)
    assert log.per_chat() == {chat: 1 for chat in chats}
    assert all("اختبار التوصيل" in m.text for m in log.messages)
    assert (status.queued, status.sent, status.pending) == (120, 120, 0)
    # 120 messages at 200/s take under a second; the bounds leave room for a loaded machine.
    assert status.first_delivery_latency is not None and status.first_delivery_latency < 3.0
    assert status.last_delivery_latency is not None
    assert status.first_delivery_latency <= status.last_delivery_latency < 15.0
    assert status.started_at is not None and status.finished_at is not None


async def test_rate_never_exceeds_the_limit_and_every_message_arrives(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 45)
    sandbox.state.set_flood(True, global_per_second=20)  # the sandbox would answer 429
    log = record_sends(sandbox)
    article = await stored_article(store)
    async with running(store, engine_config(sandbox, rate=20.0)) as service:
        slots = record_slots(service.limiter)
        alert_id = await publish(store, article)
        await wait_done(store, alert_id)
    assert log.per_chat() == {chat: 1 for chat in chats}
    # The schedule, on Redis' clock, never holds more than the rate in any second.  (A stall
    # of the test machine may still bunch sends on arrival; the sandbox then answers 429 like
    # Telegram, and the retries above still deliver everything exactly once.  The achieved
    # rate is a speed figure: bench/delivery.py's limit mode measures it.)
    assert len(slots.slots) >= 45
    assert max_in_window(slots.times()) <= 20


async def test_status_reports_counters_latencies_and_renders(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 10)
    sandbox.state.block(chats[0])
    article = await stored_article(store, title="عاجل: انتخابات")
    async with running(store, engine_config(sandbox)):
        alert_id = await publish(store, article)
        await wait_done(store, alert_id)
    status = await delivery_reader(store).alert_status(alert_id)
    assert status is not None
    assert (status.sent, status.blocked, status.failed, status.bad_request) == (9, 1, 0, 0)
    assert status.title == "عاجل: انتخابات" and status.state == "done"
    text = render_status_text(status)
    assert alert_id in text and "sent 9" in text and "inactive 1" in text and "done" in text
    assert "first delivery after" in text
    assert [s.alert_id for s in await delivery_reader(store).recent_alerts(5)] == [alert_id]
    assert await delivery_reader(store).alert_status("nope") is None
    subscriber = await store.subscribers.get(chats[0])
    assert subscriber is not None and not subscriber.active


async def test_cluster_counters_use_the_stats_field_names(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 5)
    sandbox.state.block(chats[0])
    ingestor = Ingestor(store, DeliveryPublisher(store.redis, DKEYS), max_bytes=1 << 20)
    result = await ingestor.ingest(Article(title="عاجل: عدّاد", breaking=True), source="api")
    assert result.alert_id is not None
    async with running(store, engine_config(sandbox)):
        await wait_done(store, result.alert_id)
    # Each owner counts in its own hash: the store what it stored, the engine what it sent.
    assert await store.stats.all() == {StatField.ARTICLES_INGESTED: 1, ingested_field("api"): 1}
    assert await delivery_reader(store).counters() == {
        Counter.ALERTS_PUBLISHED: 1,
        messages_field(Outcome.SENT): 4,
        messages_field(Outcome.BLOCKED): 1,
    }


async def test_publish_is_idempotent(store: Store, sandbox: SandboxServer) -> None:
    chats = await seed(store, sandbox, 15)
    log = record_sends(sandbox)
    publisher = DeliveryPublisher(store.redis, DKEYS)
    ingestor = Ingestor(store, publisher, max_bytes=1 << 20)
    article = Article(title="عاجل: خبر واحد", breaking=True)
    first = await ingestor.ingest(article)
    again = await ingestor.ingest(article)  # a CMS retrying the same article
    assert first.alert_id is not None and again.alert_id == first.alert_id
    assert await publisher.publish(first.article) == first.alert_id
    async with running(store, engine_config(sandbox)):
        await wait_done(store, first.alert_id)
        assert await publisher.publish(first.article) == first.alert_id  # after delivery too
        # The repeats queued nothing (the one script that queues also counts), so nothing can
        # be sent again: no need to wait and see.
        assert (await delivery_reader(store).counters())[Counter.ALERTS_PUBLISHED] == 1
        assert await queued_entries(store) == 0
        status = await delivery_reader(store).alert_status(first.alert_id)
    assert status is not None and (status.state, status.sent, status.pending) == ("done", 15, 0)
    assert log.per_chat() == {chat: 1 for chat in chats}
    assert len(await delivery_reader(store).recent_alerts(10)) == 1


async def test_alert_published_while_no_worker_runs_is_delivered_later(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 20)
    log = record_sends(sandbox)
    alert_id = await publish(store, await stored_article(store))
    waiting = await delivery_reader(store).alert_status(alert_id)
    assert waiting is not None and waiting.state == "queued"
    assert await queued_entries(store) == 1  # its job waits in the queue
    assert log.count() == 0
    async with running(store, engine_config(sandbox)):
        await wait_done(store, alert_id)
    assert log.per_chat() == {chat: 1 for chat in chats}


async def test_blocked_deactivated_and_missing_chats_become_inactive(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 10)
    sandbox.state.block(chats[1])
    sandbox.state.deactivate(chats[2])
    await store.subscribers.subscribe(5555)  # never talked to the bot: chat not found
    log = record_sends(sandbox)
    async with running(store, engine_config(sandbox)):
        alert_id = await publish(store, await stored_article(store))
        status = await wait_done(store, alert_id)
    assert (status.sent, status.blocked) == (8, 3)
    reasons = {}
    for chat in (chats[1], chats[2], 5555):
        subscriber = await store.subscribers.get(chat)
        assert subscriber is not None and not subscriber.active
        reasons[chat] = subscriber.inactive_reason
    assert reasons == {chats[1]: "blocked", chats[2]: "deactivated", 5555: "chat_not_found"}
    assert await store.subscribers.count() == 8
    # Not retried: each failing chat was asked exactly once.
    assert sandbox.state.stats()["errors_403"] == 2
    assert log.count() == 8
    # The next alert no longer tries them.
    async with running(store, engine_config(sandbox)):
        second = await publish(store, await stored_article(store, title="عاجل: خبر ثان"))
        status = await wait_done(store, second)
    assert (status.queued, status.sent, status.blocked) == (8, 8, 0)


async def test_an_unreadable_article_fails_its_alert_and_the_worker_goes_on(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 6)
    log = record_sends(sandbox)
    article = await stored_article(store, title="عاجل: سجل تالف")
    # The stored record was written by another version of newsbot and no longer validates.
    await store.redis.set(store.keys.article(article.id or ""), '{"title": 5, "lang": "ar"}')
    broken = await publish(store, article)
    async with running(store, engine_config(sandbox)):
        status = await wait_done(store, broken)
        assert (status.sent, status.failed) == (0, 6)
        # The same worker is still delivering.
        second = await publish(store, await stored_article(store, title="عاجل: خبر سليم"))
        assert (await wait_done(store, second)).sent == 6
    assert log.per_chat() == {chat: 1 for chat in chats}
    assert all("خبر سليم" in m.text for m in log.messages)


async def test_server_errors_are_retried_until_success(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 10)
    sandbox.state.inject_errors(4, 500)
    log = record_sends(sandbox)
    async with running(store, engine_config(sandbox, send_retries=5)):
        alert_id = await publish(store, await stored_article(store))
        status = await wait_done(store, alert_id)
    assert log.per_chat() == {chat: 1 for chat in chats}
    assert (status.sent, status.failed) == (10, 0)
    assert sandbox.state.stats()["errors_5xx"] == 4


async def test_persistent_errors_fail_after_the_limit_and_others_get_through(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 12)
    broken = {chats[3], chats[7]}
    fail_chats(sandbox, broken, 502)
    log = record_sends(sandbox)
    config = engine_config(sandbox, send_retries=2, retry_base=0.05, retry_cap=0.2)
    started = time.monotonic()
    async with running(store, config):
        alert_id = await publish(store, await stored_article(store))
        status = await wait_done(store, alert_id)
    assert (status.sent, status.failed) == (10, 2)
    assert set(log.per_chat()) == set(chats) - broken
    assert sandbox.state.stats()["errors_5xx"] == 2 * 3  # first try + 2 retries each
    # Retries back off 0.05 → 0.2 s and stop at the limit: the alert never hangs on them
    # (about a second; the bound leaves room for a loaded machine).
    assert time.monotonic() - started < 15
    for chat in broken:  # a network failure says nothing about the reader: still subscribed
        subscriber = await store.subscribers.get(chat)
        assert subscriber is not None and subscriber.active


class FailureLog:
    """A delivery observer keeping the reasons of the messages given up on."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def message_sent(self, latency_s: float) -> None:
        """Not needed here."""

    def message_failed(self, reason: str) -> None:
        """Keep the reason."""
        self.reasons.append(reason)

    def rate_limited(self, retry_after: float) -> None:
        """Not needed here."""


async def test_each_message_given_up_on_is_reported_once_with_its_reason(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 8)
    fail_chats(sandbox, {chats[1], chats[2]}, 502)
    sandbox.state.block(chats[3])
    gone = await stored_article(store, title="عاجل: سيحذف")
    await store.articles.delete(gone.id or "")
    failures = FailureLog()
    async with running(store, engine_config(sandbox, send_retries=1)) as service:
        service.metrics.add_observer(failures)
        first = await publish(store, await stored_article(store))
        await wait_done(store, first)
        second = await publish(store, gone)  # its article is gone: nothing can be sent
        await wait_done(store, second)
    assert sorted(failures.reasons) == ["blocked", "failed", "failed"] + ["unformattable"] * 7


async def test_a_rejected_token_turns_readiness_off_until_sends_work_again(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 5)
    log = record_sends(sandbox)
    sandbox.state.configure(rejected_tokens={BOT_TOKEN})  # revoked in @BotFather
    readiness = ReadinessProbe(store, delivery=None)
    readiness.telegram_ready("newsbot_test_bot")
    config = engine_config(sandbox, invalid_token_pause=0.5)
    async with running(store, config) as service:
        service.metrics.add_listener(
            token_listener(readiness.telegram_failed, readiness.telegram_ready)
        )
        alert_id = await publish(store, await stored_article(store))
        await wait_for(lambda: service.metrics.get("unauthorized") > 0)
        checked = await readiness.check()
        assert not checked.ready and not checked.checks["telegram"]["ok"]
        assert "token" in str(checked.checks["telegram"]["detail"])
        assert log.count() == 0
        sandbox.state.configure(rejected_tokens=set())  # a valid token again
        status = await wait_done(store, alert_id)
        assert (await readiness.check()).ready
    assert status.sent == 5 and log.per_chat() == {chat: 1 for chat in chats}


async def test_other_bad_requests_are_counted_not_retried(
    store: Store, sandbox: SandboxServer
) -> None:
    await seed(store, sandbox, 10)
    sandbox.state.inject_errors(2, 400)
    async with running(store, engine_config(sandbox)):
        alert_id = await publish(store, await stored_article(store))
        status = await wait_done(store, alert_id)
    assert (status.sent, status.bad_request, status.blocked) == (8, 2, 0)
    assert sandbox.state.stats()["requests"] == 10
    assert await store.subscribers.count() == 10


async def test_429_storm_loses_nothing(store: Store, sandbox: SandboxServer) -> None:
    chats = await seed(store, sandbox, 60)
    log = record_sends(sandbox)
    async with running(store, engine_config(sandbox, rate=100.0)):
        alert_id = await publish(store, await stored_article(store))
        await wait_for(lambda: log.count() >= 10)
        sandbox.state.inject_429(seconds=0.6, retry_after=1)
        status = await wait_done(store, alert_id)
    assert log.per_chat() == {chat: 1 for chat in chats}
    assert status.sent == 60
    answered_429 = sandbox.state.stats()["errors_429"]
    assert answered_429 >= 1
    assert (await delivery_reader(store).counters())[Counter.RATE_LIMITED] == answered_429


async def test_429_pauses_for_exactly_retry_after(store: Store, sandbox: SandboxServer) -> None:
    chats = await seed(store, sandbox, 40)
    log = record_sends(sandbox)
    async with running(store, engine_config(sandbox, rate=50.0)) as service:
        limiter = service.limiter
        slots = record_slots(limiter)
        pauses: list[tuple[int, int, int]] = []  # Redis' clock before, after, and the resume
        penalize = limiter.penalize

        async def recorded(chat_id: int | str | None, retry_after: float) -> float:
            before = await redis_now_us(store)
            paused = await penalize(chat_id, retry_after)
            after = await redis_now_us(store)
            resume = int(await store.redis.get(service.keys.rate_global) or 0)
            pauses.append((before, after, resume))
            return paused

        limiter.penalize = recorded  # type: ignore[method-assign]
        alert_id = await publish(store, await stored_article(store))
        await wait_for(lambda: log.count() >= 5)
        sandbox.state.inject_429(count=1, retry_after=1)
        await wait_done(store, alert_id)
    assert sandbox.state.stats()["errors_429"] == 1
    assert log.per_chat() == {chat: 1 for chat in chats}
    # On Redis' clock (the one every worker books on): the whole bot paused for exactly the
    # retry_after Telegram asked for, counted from the moment the 429 was handled...
    [(before, after, resume)] = pauses
    assert before + 1_000_000 <= resume <= after + 1_000_000
    # ...nothing booked after that went out before the pause ended, and sending resumed at
    # its end: the first slot is the pause's end (or the moment it was asked for, if later).
    later = [s for s in slots.slots if s.asked_us >= after]
    assert later and all(s.at_us >= resume for s in later)
    assert later[0].at_us == max(resume, later[0].asked_us)


async def test_breaking_alert_overtakes_queued_routine_notifications(
    store: Store, sandbox: SandboxServer
) -> None:
    await seed(store, sandbox, 100, preference=Preference.ALL)
    log = record_sends(sandbox)
    # No per-chat spacing to wait for: only the priorities decide who goes first, whatever
    # the machine's speed (with it, a breaking message may wait a second for a chat that has
    # just had the routine one, and routine ones to other chats fill that second).
    config = engine_config(sandbox, rate=40.0, private_spacing=0.0)
    async with running(store, config):
        routine = await publish(store, await stored_article(store, breaking=False, title="خبر"))
        await wait_for(lambda: log.count() >= 5)
        breaking = await publish(store, await stored_article(store, title="عاجل: طارئ"))
        await wait_done(store, breaking)
        await wait_done(store, routine)
    order = ["breaking" if "طارئ" in m.text else "routine" for m in log.messages]
    assert order.count("breaking") == order.count("routine") == 100
    first, last = order.index("breaking"), len(order) - 1 - order[::-1].index("breaking")
    # The routine alert was in progress when the breaking one started...
    assert first >= 5 and "routine" in order[last:]
    # ...and the breaking one went out in one block: without priorities the two would take
    # turns (about 50 routine messages in between); a few booked just before it may land
    # among its first messages when sends are bunched by a stall.
    assert order[first : last + 1].count("routine") <= 10


async def test_two_workers_share_the_work_and_send_each_message_once(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 600)
    log = record_sends(sandbox)
    config = engine_config(sandbox, rate=600.0, prefetch_chats=100, max_in_flight=8)
    async with running(store, config) as one, running(store, config) as two:
        alert_id = await publish(store, await stored_article(store))
        status = await wait_done(store, alert_id)
    assert log.per_chat() == {chat: 1 for chat in chats}
    assert status.sent == 600
    assert one.metrics.get("sent") > 0 and two.metrics.get("sent") > 0
    assert one.metrics.get("sent") + two.metrics.get("sent") == 600
