"""Several alerts of the same priority at once: they share the sending instead of queueing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from bot.delivery.config import Priority
from bot.store import Store
from sandbox.server import SandboxServer
from tests.delivery_support import (
    DKEYS,
    Received,
    engine_config,
    max_in_window,
    publish,
    record_sends,
    record_slots,
    running,
    seed,
    stored_article,
    wait_done,
)
from tests.waiting import wait_for

FIRST, SECOND, THIRD = "عاجل: الخبر الأول", "عاجل: الخبر الثاني", "عاجل: الخبر الثالث"
#: The token's limit in the take-turns test. Its claims are counted in messages and slots, not
#: seconds, so they hold at any rate; at 50/s its 600 messages take ~12 s (at 20/s, ~30 s).
TURNS_RATE = 50


def about(title: str) -> Callable[[Received], bool]:
    """A predicate: the message is the alert with that title."""

    def check(message: Received) -> bool:
        return title in message.text

    return check


def delivery_errors(
    log_messages: list[Received], chats: list[int], titles: list[str]
) -> dict[str, object]:
    """What differs from every chat getting exactly one message of each alert (empty: nothing)."""
    got = Counter((m.chat_id, t) for m in log_messages for t in titles if t in m.text)
    want = {(c, t) for c in chats for t in titles}
    errors: dict[str, object] = {
        "twice": sorted((key, n) for key, n in got.items() if n > 1),
        "missing": sorted(want - set(got)),
        "unexpected": [m.text[:60] for m in log_messages if not any(t in m.text for t in titles)],
    }
    return {name: found for name, found in errors.items() if found}


async def test_a_second_alert_starts_while_the_first_is_sent_and_they_take_turns(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 300)
    sandbox.state.set_flood(True, global_per_second=TURNS_RATE)  # the sandbox would answer 429
    log = record_sends(sandbox)
    first = await stored_article(store, title=FIRST)
    second = await stored_article(store, title=SECOND)
    is_first, is_second = about(FIRST), about(SECOND)
    async with running(store, engine_config(sandbox, rate=float(TURNS_RATE))) as service:
        slots = record_slots(service.limiter)
        first_id = await publish(store, first)
        await wait_for(lambda: log.count() >= 40)  # the first alert in full swing
        second_id = await publish(store, second)
        await wait_for(lambda: log.count(is_second) >= 1)
        first_sent_by_then = log.count(is_first)
        first_status = await wait_done(store, first_id, within=90)
        second_status = await wait_done(store, second_id, within=90)
    # Queued behind the first alert, the second would have waited for its remaining ~260
    # messages; sharing the sending, it starts within a few slots (counted in messages, not
    # seconds: a stall of the machine delays both alerts alike).
    assert first_sent_by_then < 200
    # While both were in progress they took turns: about half the messages each.
    order = [is_second(m) for m in log.messages]
    second_first = order.index(True)
    first_last = len(order) - 1 - order[::-1].index(False)
    both = order[second_first : first_last + 1]
    assert 0.3 <= sum(both) / len(both) <= 0.7
    # Every reader got each alert exactly once, and the schedule both shared (on Redis'
    # clock) never held more than the token's limit in any second.
    assert delivery_errors(log.messages, chats, [FIRST, SECOND]) == {}
    assert (first_status.sent, second_status.sent) == (300, 300)
    assert max_in_window(slots.times()) <= TURNS_RATE
    # Finished alerts leave no work behind: off the active list, their streams empty and
    # expiring.
    keys = DKEYS
    assert await store.redis.zcard(keys.active_alerts(Priority.BREAKING.value)) == 0
    for alert_id in (first_id, second_id):
        stream = keys.alert_batches(Priority.BREAKING.value, alert_id)
        assert await store.redis.xlen(stream) == 0
        assert 0 < await store.redis.ttl(stream) <= 3600


async def test_alerts_queued_together_interleave_across_two_workers_without_duplicates(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 300)
    log = record_sends(sandbox)
    titles = [FIRST, SECOND, THIRD]
    # All three wait in the queue before any worker runs: a FIFO would finish them in order.
    ids = [await publish(store, await stored_article(store, title=t)) for t in titles]
    config = engine_config(sandbox, rate=150.0, prefetch_chats=100, max_in_flight=8)
    async with running(store, config) as one, running(store, config) as two:
        statuses = [await wait_done(store, alert_id, within=30) for alert_id in ids]
    assert delivery_errors(log.messages, chats, titles) == {}
    assert [s.sent for s in statuses] == [300, 300, 300]
    assert one.metrics.get("sent") > 0 and two.metrics.get("sent") > 0
    assert one.metrics.get("sent") + two.metrics.get("sent") == 900
    # The last alert started long before the first one ended (one after the other, the first
    # would end after ~2 s, the last start after ~4 s).  All three go to the same chats in the
    # same order, so each waits a chat's 1-second spacing after the one before: the last
    # starts after ~2 s, while the first, sharing the rate, ends after ~6 s.
    first, last = statuses[0], statuses[2]
    assert first.last_delivery_at is not None and last.first_delivery_at is not None
    assert last.first_delivery_at < first.last_delivery_at


async def test_batches_left_in_the_shared_stream_by_an_older_version_are_delivered(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 25)
    log = record_sends(sandbox)
    alert_id = await publish(store, await stored_article(store))
    # What an older worker left behind when it was upgraded: the job expanded into the
    # priority's shared batch stream (20 chats), the last 5 chats still to be expanded.
    keys, redis = DKEYS, store.redis
    jobs = keys.jobs_stream(Priority.BREAKING.value)
    shared = keys.batches_stream(Priority.BREAKING.value)
    await redis.xgroup_create(jobs, keys.consumer_group, id="0", mkstream=True)
    await redis.xgroup_create(shared, keys.consumer_group, id="0", mkstream=True)
    for part in (chats[:10], chats[10:20]):
        await redis.xadd(shared, {"alert": alert_id, "chats": ",".join(map(str, part))})
    await redis.hset(
        keys.alert(alert_id),
        mapping={"state": "sending", "cursor": str(chats[19]), "queued": "20"},
    )
    async with running(store, engine_config(sandbox)):
        status = await wait_done(store, alert_id)
    assert log.per_chat() == {chat: 1 for chat in chats}
    assert (status.queued, status.sent) == (25, 25)
    assert await redis.xlen(shared) == 0
    assert await redis.zcard(keys.active_alerts(Priority.BREAKING.value)) == 0
