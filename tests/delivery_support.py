"""Delivery test helpers: arrival times, the limiter's slots, seeding, running workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.metrics import DeliveryMetrics
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.ratelimit import Grant, RateLimiter, RatePriority
from bot.delivery.reader import DeliveryReader
from bot.delivery.service import DeliveryService
from bot.delivery.status import AlertStatus
from bot.models import Article, ChatKind, Preference, Section
from bot.newsroom import StoryDesk
from bot.pipeline import Ingestor
from bot.services import Services
from bot.store import Store
from config import Settings
from sandbox.errors import server_error
from sandbox.server import SandboxServer
from tests.constants import BOT_TOKEN

FIRST_CHAT = 1000
#: The delivery engine's keys in the tests' default namespace.
DKEYS = DeliveryKeys()


@dataclass
class Received:
    """One message the sandbox accepted from the bot, with a precise receive time."""

    at: float
    chat_id: int
    text: str


@dataclass
class SendLog:
    """Every bot message the sandbox accepted, in order (the sandbox keeps whole seconds only)."""

    messages: list[Received] = field(default_factory=list)

    def times(self) -> list[float]:
        """Receive times (monotonic seconds)."""
        return [m.at for m in self.messages]

    def per_chat(self) -> dict[int, int]:
        """How many messages each chat received."""
        counts: dict[int, int] = {}
        for message in self.messages:
            counts[message.chat_id] = counts.get(message.chat_id, 0) + 1
        return counts

    def count(self, predicate: Callable[[Received], bool] | None = None) -> int:
        """Messages received (matching ``predicate``)."""
        return sum(1 for m in self.messages if predicate is None or predicate(m))


def record_sends(server: SandboxServer) -> SendLog:
    """Timestamp every message the sandbox records (wraps its history's ``add_message``)."""
    log = SendLog()
    history = server.state.chat_log
    original = history.add_message

    def add_message(message: Any) -> None:
        if message.from_bot:
            log.messages.append(Received(time.monotonic(), message.chat_id, message.text))
        original(message)

    history.add_message = add_message  # type: ignore[method-assign]
    return log


def fail_chats(server: SandboxServer, chat_ids: set[int], status: int = 502) -> None:
    """Make every send to ``chat_ids`` answer ``status`` (the sandbox injects errors globally)."""
    state = server.state
    original = state.check_reachable

    def check_reachable(chat: Any) -> None:
        if chat.id in chat_ids:
            raise server_error(status)
        original(chat)

    state.check_reachable = check_reachable  # type: ignore[method-assign]


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most timestamps inside any half-open window of ``window`` seconds."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def redis_error_reached_worker(records: Sequence[logging.LogRecord]) -> bool:
    """Whether a delivery loop logged a Redis error: it got past the client's own retries."""
    return any(
        "Redis" in r.getMessage()
        for r in records
        if r.levelno >= logging.WARNING and r.name.startswith("bot.delivery")
    )


def engine_config(server: SandboxServer, **overrides: Any) -> DeliveryConfig:
    """A configuration pointed at the sandbox, with short retry delays for tests."""
    base = DeliveryConfig(
        api_url=server.api_url,
        token=BOT_TOKEN,
        rate=200.0,
        max_in_flight=32,
        # A loaded machine stalls the event loop for seconds, and two workers of one test are
        # both alive through it: neither may take the other's batches for abandoned. Tests of
        # the takeover rules set their own (short) values.
        claim_idle=15.0,
        heartbeat_ttl=15.0,
        send_retries=2,
        retry_base=0.05,
        retry_cap=0.2,
    )
    return base.with_overrides(**overrides)


async def seed(
    store: Store,
    server: SandboxServer | None,
    count: int,
    *,
    first: int = FIRST_CHAT,
    preference: Preference = Preference.BREAKING,
) -> list[int]:
    """Subscribe ``count`` private chats (and create their users in the sandbox)."""
    ids = list(range(first, first + count))
    for start in range(0, count, 50):
        part = ids[start : start + 50]
        await asyncio.gather(*(store.subscribers.subscribe(c, ChatKind.PRIVATE) for c in part))
        if preference is Preference.ALL:
            await asyncio.gather(*(store.subscribers.set_preference(c, preference) for c in part))
    if server is not None:
        for chat in ids:
            server.state.add_user(chat, f"قارئ {chat}")
    return ids


#: The test article's second paragraph (see :func:`stored_article`).
SECOND_PARAGRAPH = "فقرة ثانية من الخبر للاختبار."


async def stored_article(
    store: Store, *, breaking: bool = True, title: str = "عاجل: اختبار التوصيل"
) -> Article:
    """A saved article (breaking by default)."""
    article = Article(
        title=title,
        breaking=breaking,
        # Two paragraphs: the alert shows the first, so «اقرأ الخبر كاملاً» has more to open.
        sections=[Section(paragraphs=["فقرة أولى من الخبر للاختبار.", SECOND_PARAGRAPH])],
    )
    return (await store.articles.save(article)).article


def delivery_keys(store: Store) -> DeliveryKeys:
    """The delivery engine's keys in the store's namespace."""
    return DeliveryKeys(store.keys.ns)


def delivery_reader(store: Store) -> DeliveryReader:
    """The engine's read API (alert progress, queue depths, workers) over the store's Redis."""
    return DeliveryReader(store.redis, delivery_keys(store), store.articles)


def engine(
    store: Store,
    config: DeliveryConfig,
    *,
    workers: int = 1,
    metrics: DeliveryMetrics | None = None,
) -> DeliveryService:
    """A delivery engine over the store's Redis client and namespace."""
    return DeliveryService(
        store.redis,
        delivery_keys(store),
        store,
        config,
        workers=workers,
        metrics=metrics or DeliveryMetrics(),
    )


def services_over(store: Store, settings: Settings) -> Services:
    """The services over a test's store (component tests; end-to-end ones use the runtime)."""
    delivery = engine(store, DeliveryConfig.from_settings(settings, require_token=False))
    ingestor = Ingestor(store, delivery.publisher, max_bytes=settings.max_article_bytes)
    desk = StoryDesk(store, delivery.stories, max_bytes=settings.max_article_bytes)
    return Services(settings, store, delivery.publisher, ingestor, delivery.reader, desk)


async def publish(store: Store, article: Article) -> str:
    """Publish an alert for a stored article; returns its id."""
    alert_id = await DeliveryPublisher(store.redis, delivery_keys(store)).publish(article)
    assert alert_id is not None
    return alert_id


@contextlib.asynccontextmanager
async def running(
    store: Store, config: DeliveryConfig, *, workers: int = 1
) -> AsyncIterator[DeliveryService]:
    """Run a delivery service in the background for the duration of the block."""
    service = engine(store, config, workers=workers)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        yield service
    finally:
        stop.set()
        done, _ = await asyncio.wait([task], timeout=5)
        if not done:
            for t in asyncio.all_tasks():
                t.print_stack(limit=8)
            await asyncio.wait_for(task, 10)


async def wait_done(store: Store, alert_id: str, within: float = 20.0) -> AlertStatus:
    """Wait until the alert is finished; returns its status."""
    deadline = time.monotonic() + within
    status = None
    while True:
        with contextlib.suppress(RedisError):  # the Redis restart test polls through it
            status = await delivery_reader(store).alert_status(alert_id)
        if status is not None and status.state == "done":
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"alert not finished in {within}s: {status}")
        await asyncio.sleep(0.05)


async def redis_now_us(store: Store) -> int:
    """Redis' own clock (the clock of the shared schedule), in microseconds."""
    seconds, micros = await store.redis.time()
    return int(seconds) * 1_000_000 + int(micros)


@dataclass(frozen=True)
class Slot:
    """A send slot the shared limiter granted, on Redis' clock (microseconds)."""

    at_us: int  # when the message may go
    asked_us: int  # when Redis evaluated the request
    chat_id: int | None
    priority: RatePriority


@dataclass
class SlotLog:
    """Every slot a limiter granted, in grant order: the schedule the senders followed."""

    slots: list[Slot] = field(default_factory=list)
    #: Requests refused (schedule full, chat busy): (Redis time asked, chat).
    refused: list[tuple[int, int | None]] = field(default_factory=list)

    def waited_us(self, chat_id: int) -> list[int]:
        """For each slot of a chat: microseconds from the first request for it to the slot."""
        waits, asked = [], [t for t, c in self.refused if c == chat_id]
        for slot in (s for s in self.slots if s.chat_id == chat_id):
            first = min([t for t in asked if t <= slot.asked_us] + [slot.asked_us])
            waits.append(slot.at_us - first)
            asked = [t for t in asked if t > slot.asked_us]
        return waits

    def times(self, priority: RatePriority | None = None) -> list[float]:
        """Slot times in seconds on Redis' clock (of one priority, or all)."""
        return [s.at_us / 1e6 for s in self.slots if priority in (None, s.priority)]


def record_slots(limiter: RateLimiter, log: SlotLog | None = None) -> SlotLog:
    """Record every slot ``limiter`` grants (wraps its ``acquire``); several may share a log.

    The schedule is what the engine controls: a stall of the test machine can delay a send
    past its slot (and bunch sends together on arrival) but never books two slots closer.
    """
    log = log if log is not None else SlotLog()
    original = limiter.acquire

    async def acquire(
        chat_ids: Sequence[int | None], priority: RatePriority = RatePriority.LOW
    ) -> list[Grant]:
        grants = await original(chat_ids, priority)
        for chat_id, grant in zip(chat_ids, grants, strict=True):
            asked = grant.at_us - round(grant.delay * 1_000_000)
            if grant.granted:
                log.slots.append(Slot(grant.at_us, asked, chat_id, priority))
            else:
                log.refused.append((asked, chat_id))
        return grants

    limiter.acquire = acquire  # type: ignore[method-assign]
    return log
