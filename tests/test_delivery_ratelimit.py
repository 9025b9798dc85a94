"""The shared Redis rate limiter and the PTB reply limiter built on it."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from telegram.error import RetryAfter

from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.ratelimit import GrantKind, RateLimiter, RatePriority
from bot.delivery.reply_limiter import RedisReplyLimiter
from bot.redis_conn import client_options
from bot.store import Store
from tests.delivery_support import DKEYS, record_slots, redis_now_us
from tests.waiting import wait_for


def limits(**overrides: Any) -> DeliveryConfig:
    """A limiter configuration with round numbers (no jitter margin)."""
    base = DeliveryConfig(api_url="http://unused/bot", token="", rate=10.0, rate_safety=1.0)
    return base.with_overrides(**overrides)


def limiter(store: Store, **overrides: Any) -> RateLimiter:
    """A limiter over the test Redis."""
    return RateLimiter(store.redis, DKEYS, limits(**overrides))


async def test_slots_are_spaced_at_the_rate(store: Store) -> None:
    rl = limiter(store, rate=100.0)
    grants = await rl.acquire(list(range(1, 11)), RatePriority.HIGH)
    assert all(g.granted for g in grants)
    gaps = [b.at_us - a.at_us for a, b in itertools.pairwise(grants)]
    assert gaps == [10_000] * 9
    # One script call, one Redis clock reading: the delays are exact, whatever the load.
    assert [g.delay for g in grants] == pytest.approx([i / 100 for i in range(10)], abs=1e-6)


async def test_broadcasts_book_only_a_short_horizon_ahead(store: Store) -> None:
    rl = limiter(store, rate=10.0, horizon=0.15)
    grants = await rl.acquire([1, 2, 3, 4, 5])
    kinds = [g.kind for g in grants]
    assert kinds == [GrantKind.GRANTED] * 2 + [GrantKind.SCHEDULE_FULL] * 3
    # A reply is not held back by the horizon: it takes the very next slot (or "now", if the
    # test was slow enough for the booked slots to pass already), never one closer.
    (reply,) = await rl.acquire([99], RatePriority.HIGH)
    assert reply.granted and reply.delay <= 0.2
    assert reply.at_us >= grants[1].at_us + 100_000


async def test_each_chat_has_its_own_spacing(store: Store) -> None:
    rl = limiter(store, rate=1000.0, private_spacing=1.0, group_spacing=3.0)
    first = await rl.acquire([7, -100_7], RatePriority.HIGH)
    again = await rl.acquire([7, -100_7, 8], RatePriority.HIGH)
    assert all(g.granted for g in first)
    assert [g.kind for g in again] == [GrantKind.CHAT_BUSY, GrantKind.CHAT_BUSY, GrantKind.GRANTED]
    # Busy until exactly one spacing after their own slot (times on Redis' clock).
    assert again[0].at_us - first[0].at_us == 1_000_000
    assert again[1].at_us - first[1].at_us == 3_000_000


async def test_replies_to_a_private_chat_may_burst_broadcasts_may_not(store: Store) -> None:
    rl = limiter(store, rate=1000.0, private_spacing=1.0, group_spacing=3.0, reply_burst=3)
    # A reply of four messages (a long article): three at once, the fourth one spacing later.
    first = await rl.acquire([7, 7, 7, 7], RatePriority.HIGH)
    assert [g.kind for g in first] == [GrantKind.GRANTED] * 3 + [GrantKind.CHAT_BUSY]
    assert first[2].at_us - first[0].at_us == 2 * 1000  # back-to-back global slots
    assert first[3].at_us - first[0].at_us == 1_000_000
    # A broadcast to that chat waits until the burst is paid back (three spacings).
    (broadcast,) = await rl.acquire([7])
    assert broadcast.kind is GrantKind.CHAT_BUSY
    assert broadcast.at_us - first[0].at_us == 3_000_000
    # Broadcasts to another chat, and replies to a group, keep the strict spacing.
    assert [g.kind for g in await rl.acquire([8, 8])] == [GrantKind.GRANTED, GrantKind.CHAT_BUSY]
    group = await rl.acquire([-100_9, -100_9], RatePriority.HIGH)
    assert [g.kind for g in group] == [GrantKind.GRANTED, GrantKind.CHAT_BUSY]


async def test_replies_are_strictly_spaced_by_default(store: Store) -> None:
    # The sandbox (like a strict reading of Telegram's 1 message per second per chat) answers
    # 429 to a second message within a second: no burst unless configured.
    rl = limiter(store, rate=1000.0, private_spacing=1.0)
    grants = await rl.acquire([7, 7], RatePriority.HIGH)
    assert [g.kind for g in grants] == [GrantKind.GRANTED, GrantKind.CHAT_BUSY]
    assert grants[1].at_us - grants[0].at_us == 1_000_000


async def test_429_on_a_private_chat_pauses_everyone_for_exactly_retry_after(
    store: Store,
) -> None:
    rl = limiter(store, rate=1000.0)
    before = await redis_now_us(store)
    await rl.penalize(5, 2.0)
    after = await redis_now_us(store)
    (grant,) = await rl.acquire([6], RatePriority.HIGH)
    assert grant.granted and before + 2_000_000 <= grant.at_us <= after + 2_000_000
    (broadcast,) = await rl.acquire([7])
    assert broadcast.kind is GrantKind.SCHEDULE_FULL


async def test_429_on_a_group_pauses_only_that_group(store: Store) -> None:
    rl = limiter(store, rate=1000.0)
    before = await redis_now_us(store)
    await rl.penalize(-100_5, 4.0)
    after = await redis_now_us(store)
    group, other = await rl.acquire([-100_5, 6], RatePriority.HIGH)
    assert group.kind is GrantKind.CHAT_BUSY
    assert before + 4_000_000 <= group.at_us <= after + 4_000_000
    assert other.granted and other.delay == 0  # the global schedule was not touched


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.lists(st.integers(-3, 40), min_size=1, max_size=8)),
        min_size=1,
        max_size=12,
    )
)
def test_limiters_sharing_redis_never_grant_slots_closer_than_the_interval(
    redis_url: str, calls: list[tuple[int, list[int]]]
) -> None:
    async def scenario() -> list[int]:
        client = Redis.from_url(redis_url, **client_options())
        keys = DeliveryKeys(f"prop-{uuid.uuid4().hex}")  # a fresh schedule for each example
        try:
            config = limits(rate=500.0, horizon=0.05)
            workers = [RateLimiter(client, keys, config), RateLimiter(client, keys, config)]
            slots: list[int] = []
            for who, chats in calls:
                priority = RatePriority.HIGH if who else RatePriority.LOW
                grants = await workers[who].acquire(list(chats), priority)
                slots += [g.at_us for g in grants if g.granted]
            return slots
        finally:
            await client.aclose()

    slots = sorted(asyncio.run(scenario()))
    assert all(b - a >= 2000 for a, b in itertools.pairwise(slots))


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_reply_limiter_retries_after_a_429(store: Store) -> None:
    replies = RedisReplyLimiter(limiter(store, rate=1000.0), max_retries=3)
    attempts: list[float] = []

    async def send(**_: object) -> bool:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RetryAfter(timedelta(milliseconds=300))
        return True

    data = {"chat_id": 42, "text": "مرحبا"}
    result = await replies.process_request(send, (), {}, "sendMessage", data, None)
    assert result is True
    assert len(attempts) == 2
    # Retried after the pause, never before it (a loaded machine can only make it later).
    assert 0.29 <= attempts[1] - attempts[0] < 3.0


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_reply_to_a_group_hit_by_a_429_pauses_that_group_not_every_reader(
    store: Store,
) -> None:
    # A group's 429 is that group's own limit: the alert going out to everyone else goes on.
    rl = limiter(store, rate=1000.0)
    paused = asyncio.Event()
    penalize = rl.penalize

    async def penalize_and_tell(chat_id: int | str | None, retry_after: float) -> float:
        seconds = await penalize(chat_id, retry_after)
        paused.set()
        return seconds

    rl.penalize = penalize_and_tell  # type: ignore[method-assign]
    attempts = 0

    async def send(**_: object) -> bool:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RetryAfter(timedelta(seconds=1))
        return True

    replies = RedisReplyLimiter(rl, max_retries=1)
    data = {"chat_id": -100_5, "text": "مرحبا"}
    reply = asyncio.create_task(replies.process_request(send, (), {}, "sendMessage", data, None))
    await wait_for(paused.is_set)
    (broadcast,) = await rl.acquire([6])  # another reader, during the group's pause
    assert broadcast.granted and broadcast.delay == 0
    assert await reply is True and attempts == 2


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_reply_limiter_gives_up_after_max_retries(store: Store) -> None:
    replies = RedisReplyLimiter(limiter(store, rate=1000.0), max_retries=2)
    attempts = 0

    async def always_429(**_: object) -> bool:
        nonlocal attempts
        attempts += 1
        raise RetryAfter(timedelta(milliseconds=50))

    with pytest.raises(RetryAfter):
        await replies.process_request(always_429, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert attempts == 3  # the request, then exactly max_retries retries
    # A call's own rate_limit_args (PTB's per-request override) wins over the default.
    attempts = 0
    with pytest.raises(RetryAfter):
        await replies.process_request(always_429, (), {}, "sendMessage", {"chat_id": 1}, 0)
    assert attempts == 1


async def test_reply_limiter_shares_the_budget_with_broadcasts(store: Store) -> None:
    # One message per second: a broadcast slot is booked, then a reply and a callback answer.
    rl = limiter(store, rate=1.0, horizon=0.15)
    slots = record_slots(rl)
    started = time.monotonic()
    (slot, _) = await rl.acquire([1, 2])  # the second does not fit in the horizon
    assert slot.granted
    replies = RedisReplyLimiter(rl)
    sent_at: list[float] = []

    async def send(**_: object) -> bool:
        sent_at.append(time.monotonic())
        return True

    await replies.process_request(send, (), {}, "sendMessage", {"chat_id": 50}, None)
    await replies.process_request(send, (), {}, "answerCallbackQuery", {"text": "x"}, None)
    assert len(sent_at) == 2
    # On Redis' clock the reply took the next slot, one interval after the broadcast's (never
    # sooner), and the callback answer (no chat: not a message) took none at all.
    [broadcast, reply] = slots.slots
    assert (broadcast.chat_id, reply.chat_id) == (1, 50)
    assert reply.at_us - broadcast.at_us == 1_000_000
    # The reply waited for its slot (a loaded machine can only make it later).
    assert sent_at[0] - started >= 0.99
