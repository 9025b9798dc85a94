"""The queue's crash-safety mechanics, step by step: expansion, ownership, idle takeover."""

from __future__ import annotations

import asyncio

from bot.delivery.config import DeliveryConfig, Priority
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.queue import Entry, Queues
from bot.models import Article
from bot.store import Store
from tests.delivery_support import DKEYS, delivery_reader

B = Priority.BREAKING
CONFIG = DeliveryConfig(
    api_url="http://unused/bot", token="", batch_size=10, expand_chunk=2, claim_idle=0.05
)


async def _setup(store: Store, subscribers: int) -> tuple[str, Queues, Queues]:
    for chat in range(1, subscribers + 1):
        await store.subscribers.subscribe(chat)
    article = (await store.articles.save(Article(title="عاجل: خبر", breaking=True))).article
    alert_id = await DeliveryPublisher(store.redis, DKEYS).publish(article)
    assert alert_id is not None
    first, second = (
        Queues(store.redis, DKEYS, store.subscribers, CONFIG, "worker-a"),
        Queues(store.redis, DKEYS, store.subscribers, CONFIG, "worker-b"),
    )
    await first.ensure_groups()
    return alert_id, first, second


def _chats(entries: list[Entry]) -> list[int]:
    return [int(c) for e in entries for c in e.fields["chats"].split(",")]


async def test_expansion_interrupted_and_taken_over_queues_each_chat_once(store: Store) -> None:
    alert_id, first, second = await _setup(store, 95)
    (job,) = await first.read(first.job_streams(), 1)
    assert not (await first.expand(job)).done  # 20 chats, then "crash"
    # The job's worker is gone: another one takes the job over and finishes the expansion.
    await asyncio.sleep(0.1)  # idle longer than claim_idle: the worker looks dead
    (taken,) = await second.claim_idle(second.jobs(B), B, 10)
    steps = 0
    while not (await second.expand(taken)).done:
        steps += 1
    # The dead worker comes back to life with a stale cursor: its step is refused.
    late = await first.expand(job)
    assert late.done and not late.moved  # the alert is expanded: the job is simply dropped
    batches = await second.read({second.batches(B, alert_id): B}, 100)
    assert sorted(_chats(batches)) == list(range(1, 96))
    assert all(len(e.fields["chats"].split(",")) <= 10 for e in batches)
    status = await delivery_reader(store).alert_status(alert_id)
    assert status is not None and status.queued == 95 and status.expanded
    assert await store.redis.xlen(first.jobs(B)) == 0


async def test_a_racing_expander_is_refused_not_duplicated(store: Store) -> None:
    alert_id, first, second = await _setup(store, 50)
    (job,) = await first.read(first.job_streams(), 1)
    await asyncio.sleep(0.1)  # idle longer than claim_idle: the worker looks dead
    (taken,) = await second.claim_idle(second.jobs(B), B, 10)
    # Both workers now hold the job.  ``first`` reads its page (cursor and chats)...
    step = await first.read_step(job)
    assert step.chats == tuple(range(1, 21))
    # ...``second`` expands the same step meanwhile...
    assert not (await second.expand(taken)).moved
    # ...so ``first``'s write finds the cursor moved and queues nothing.
    assert (await first.write_step(step)).moved
    while not (await second.expand(taken)).done:
        pass
    batches = await second.read({second.batches(B, alert_id): B}, 100)
    assert sorted(_chats(batches)) == list(range(1, 51))


async def test_refresh_reports_entries_taken_over_by_another_worker(store: Store) -> None:
    alert_id, first, second = await _setup(store, 30)
    (job,) = await first.read(first.job_streams(), 1)
    while not (await first.expand(job)).done:
        pass
    stream = first.batches(B, alert_id)
    batches = await first.read({stream: B}, 10)
    ids = [e.entry_id for e in batches]
    assert await first.refresh(stream, ids) == []  # still ours, idle time reset
    await asyncio.sleep(0.1)
    stolen = await second.claim_idle(stream, B, 1)
    assert len(stolen) == 1
    assert await first.refresh(stream, ids) == [stolen[0].entry_id]


async def test_dead_consumers_holding_nothing_are_forgotten(store: Store) -> None:
    _, first, second = await _setup(store, 5)
    await second.read({second.shared_batches(B): B}, 1)  # joins the group, holds nothing
    await first.read(first.job_streams(), 1)  # holds the job
    await second.forget_idle_consumers(0)
    names = {c["name"] for c in await store.redis.xinfo_consumers(first.jobs(B), first.group)}
    assert names == {"worker-a"}


async def test_each_alert_gets_its_own_stream_and_a_read_takes_from_every_active_one(
    store: Store,
) -> None:
    first_id, first, second = await _setup(store, 40)
    article = (await store.articles.save(Article(title="عاجل: خبر آخر", breaking=True))).article
    second_id = await DeliveryPublisher(store.redis, DKEYS).publish(article)
    jobs = await first.read(first.job_streams(), 10)
    assert [j.fields["alert"] for j in jobs] == [first_id, second_id]
    for job in jobs:
        assert not (await first.expand(job)).done  # 20 chats each: two batches per alert
    assert await first.active(B) == [first_id, second_id]
    # One read takes a batch of each alert, not two of the older one.
    entries = await second.read(await second.batch_streams(), 1)
    assert sorted(e.stream for e in entries) == sorted(
        [second.batches(B, first_id), second.batches(B, str(second_id))]
    )
    assert all(e.priority is B for e in entries)
    assert await first.lag(first.batches(B, first_id)) == 1
    assert await first.lag(first.batches(B, "not-started")) == 0


async def test_an_alert_whose_record_is_gone_leaves_the_active_list(store: Store) -> None:
    alert_id, first, _ = await _setup(store, 30)
    (job,) = await first.read(first.job_streams(), 1)
    await first.expand(job)
    assert await first.active(B) == [alert_id]
    await store.redis.delete(DKEYS.alert(alert_id))  # deleted by hand, mid-delivery
    assert (await first.expand(job)).done
    assert await first.active(B) == []
    assert await store.redis.ttl(first.batches(B, alert_id)) > 0


async def test_the_sweep_retires_alerts_finished_elsewhere_and_keeps_the_others(
    store: Store,
) -> None:
    done_id, first, _ = await _setup(store, 30)
    article = (await store.articles.save(Article(title="عاجل: خبر جار", breaking=True))).article
    going_id = await DeliveryPublisher(store.redis, DKEYS).publish(article)
    for job in await first.read(first.job_streams(), 10):
        await first.expand(job)
    # An older worker, which knows nothing of the active lists, finished the first one.
    await store.redis.hset(DKEYS.alert(done_id), "state", "done")
    assert await first.sweep_active() == 1
    assert await first.active(B) == [going_id]
    assert await store.redis.ttl(first.batches(B, done_id)) > 0
    assert await store.redis.ttl(first.batches(B, str(going_id))) == -1  # still being sent
