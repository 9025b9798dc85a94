"""Prometheus metrics: one registry per ``Metrics`` instance, process metrics plus Redis truth.

Two kinds of numbers end up on ``/metrics``:

* Process metrics, updated as things happen here: API requests, feed polls and entries, and
  what a delivery engine running in this process reports (:class:`Metrics` is a
  ``bot.delivery.metrics.DeliveryObserver`` and a ``DeliveryMetrics`` listener)
  (latency and Retry-After histograms, per-process sent/failed counters).
* Cluster totals read from Redis at scrape time (:meth:`Metrics.refresh`): articles stored and
  ingested per source, alerts published, messages sent/failed/429 by every worker process,
  queue depths, live workers, subscribers, feed error streaks. These are the truth even when
  ``newsbot worker`` processes do the sending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from bot.delivery.counters import Counter as DeliveryCounter
from bot.delivery.counters import messages_field, messages_outcome
from bot.delivery.metrics import DeliveryMetrics
from bot.delivery.outcomes import Outcome
from bot.delivery.reader import DeliveryReader
from bot.store import FeedState, Store
from bot.store.stats import StatField, ingested_field

logger = logging.getLogger(__name__)

IngestSource = Literal["api", "feed", "cli", "telegram"]
INGEST_SOURCES: tuple[IngestSource, ...] = ("api", "feed", "cli", "telegram")

#: Message outcomes that are not failures (each has its own family).
_NOT_FAILED = frozenset({Outcome.SENT.value, Outcome.SKIPPED.value})

#: Longest a scrape waits for Redis before reporting ``newsbot_redis_up 0``.
SCRAPE_TIMEOUT = 3.0

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
RETRY_AFTER_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass
class RedisSnapshot:
    """Cluster-wide numbers read from Redis for one scrape."""

    up: bool = False
    stats: dict[str, int] = field(default_factory=dict)
    delivery: dict[str, int] = field(default_factory=dict)
    articles_stored: int = 0
    subscribers_active: int = 0
    queue_depth: dict[str, int] = field(default_factory=dict)
    workers_alive: int | None = None
    feeds: list[FeedState] = field(default_factory=list)
    taken_at: float = 0.0


class Metrics:
    """The metrics of one process (or one test app): objects, observer and Redis collector."""

    def __init__(self, *, scrape_timeout: float = SCRAPE_TIMEOUT) -> None:
        self.scrape_timeout = scrape_timeout
        self.registry = CollectorRegistry()
        r = self.registry
        self.api_requests = Counter(
            "newsbot_api_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.api_unhandled_errors = Counter(
            "newsbot_api_unhandled_errors",
            "HTTP requests that hit an unexpected exception (answered 500).",
            registry=r,
        )
        self.feed_polls = Counter(
            "newsbot_feed_polls",
            "Feed polls by outcome: ok, not_modified, error.",
            ["feed", "outcome"],
            registry=r,
        )
        self.feed_entries = Counter(
            "newsbot_feed_entries",
            "Feed entries by outcome: ingested, recorded (first poll), skipped, duplicate, "
            "malformed (an undefined entity in a feed that is not well-formed), corrected (an "
            "entry taken before changed, and its article with it).",
            ["feed", "outcome"],
            registry=r,
        )
        self.feed_wait = Gauge(
            "newsbot_feed_next_poll_delay_seconds",
            "Seconds each feed's loop waits after its latest poll: the interval while the feed "
            "is healthy, the backoff after failures in a row.",
            ["feed"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "newsbot_delivery_latency_seconds",
            "Time from an alert's publication to one of its messages being accepted by Telegram.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.retry_after = Histogram(
            "newsbot_telegram_retry_after_seconds",
            "retry_after of the 429 answers seen by delivery workers in this process.",
            buckets=RETRY_AFTER_BUCKETS,
            registry=r,
        )
        self.process_failed = Counter(
            "newsbot_process_messages_failed",
            "Messages given up on by delivery workers in this process, by reason.",
            ["reason"],
            registry=r,
        )
        self.process_delivery_events = Counter(
            "newsbot_process_delivery_events",
            "Delivery events of the workers in this process (sent, blocked, failed, "
            "bad_request, skipped, retry_after = 429, transient_error).",
            ["event"],
            registry=r,
        )
        self.snapshot = RedisSnapshot()
        r.register(_RedisCollector(self))

    # bot.delivery.metrics.DeliveryObserver -------------------------------------------------
    def message_sent(self, latency_s: float) -> None:
        """Observer: one message delivered, ``latency_s`` after its alert was published."""
        self.delivery_latency.observe(max(0.0, latency_s))

    def message_failed(self, reason: str) -> None:
        """Observer: one message given up on."""
        self.process_failed.labels(reason=reason or "unknown").inc()

    def rate_limited(self, retry_after: float) -> None:
        """Observer: one 429 from Telegram."""
        self.retry_after.observe(max(0.0, retry_after))

    def delivery_listener(self, event: str, amount: int) -> None:
        """Listener for ``bot.delivery.metrics.DeliveryMetrics.add_listener``: event counts."""
        self.process_delivery_events.labels(event=event).inc(amount)

    def follow(self, delivery: DeliveryMetrics) -> None:
        """Count a delivery engine's events and observe its messages (latency, 429s, failures)."""
        delivery.add_listener(self.delivery_listener)
        delivery.add_observer(self)

    # Scrape -------------------------------------------------------------------------------
    async def refresh(
        self,
        store: Store,
        *,
        feeds: Iterable[str] = (),
        delivery: DeliveryReader | None = None,
    ) -> RedisSnapshot:
        """Read the cluster totals from Redis (before rendering); ``up`` is False when it fails.

        Bounded by ``scrape_timeout``: a scrape must answer even while Redis is unreachable.
        """
        snap = RedisSnapshot(taken_at=time.time())
        try:
            async with asyncio.timeout(self.scrape_timeout):
                await self._read(snap, store, feeds, delivery)
            snap.up = True
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("metrics: cannot read Redis: %s", exc or type(exc).__name__)
            snap = RedisSnapshot(up=False, taken_at=snap.taken_at)
        self.snapshot = snap
        return snap

    @staticmethod
    async def _read(
        snap: RedisSnapshot,
        store: Store,
        feeds: Iterable[str],
        delivery: DeliveryReader | None,
    ) -> None:
        snap.stats = await store.stats.all()
        snap.articles_stored = await store.articles.count()
        snap.subscribers_active = await store.subscribers.count()
        snap.feeds = await store.feeds.get_many(list(feeds))
        if delivery is not None:
            snap.delivery = await delivery.counters()
            snap.queue_depth = await delivery.queue_depths()
            snap.workers_alive = await delivery.live_worker_count()

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


class _RedisCollector(Collector):
    """Turns the latest :class:`RedisSnapshot` into metric families at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        """The cluster-wide families (only ``newsbot_redis_up`` when Redis was unreadable)."""
        snap = self._metrics.snapshot
        yield GaugeMetricFamily(
            "newsbot_redis_up", "1 when the last scrape could read Redis.", value=int(snap.up)
        )
        if not snap.up:
            return
        stats = snap.stats
        sent = snap.delivery
        yield GaugeMetricFamily(
            "newsbot_articles_stored", "Articles in the store.", value=snap.articles_stored
        )
        yield _ingested_family(stats)
        yield CounterMetricFamily(
            "newsbot_alerts_published",
            "Alerts queued for delivery (all processes).",
            value=sent.get(DeliveryCounter.ALERTS_PUBLISHED, 0),
        )
        yield CounterMetricFamily(
            "newsbot_messages_sent",
            "Messages accepted by Telegram (all workers).",
            value=sent.get(messages_field(Outcome.SENT), 0),
        )
        yield _failed_family(sent)
        yield CounterMetricFamily(
            "newsbot_messages_skipped",
            "Messages not sent because the chat left the audience meanwhile (all workers).",
            value=sent.get(messages_field(Outcome.SKIPPED), 0),
        )
        yield CounterMetricFamily(
            "newsbot_telegram_rate_limited",
            "429 Too Many Requests answers from Telegram (all workers).",
            value=sent.get(DeliveryCounter.RATE_LIMITED, 0),
        )
        yield GaugeMetricFamily(
            "newsbot_subscribers_active", "Active subscribers.", value=snap.subscribers_active
        )
        depth = GaugeMetricFamily(
            "newsbot_queue_depth", "Delivery work waiting, per queue.", labels=["queue"]
        )
        for queue, value in sorted(snap.queue_depth.items()):
            depth.add_metric([queue], value)
        yield depth
        if snap.workers_alive is not None:
            yield GaugeMetricFamily(
                "newsbot_delivery_workers_alive",
                "Delivery workers with a fresh heartbeat (all processes).",
                value=snap.workers_alive,
            )
        yield from _feed_families(snap.feeds)


def _ingested_family(stats: Mapping[str, int]) -> CounterMetricFamily:
    """Created articles per source; ``other`` is what no source claimed (older tools)."""
    family = CounterMetricFamily(
        "newsbot_articles_ingested",
        "New articles stored, by source (api, feed, cli, telegram, other).",
        labels=["source"],
    )
    claimed = 0
    for source in INGEST_SOURCES:
        value = stats.get(ingested_field(source), 0)
        claimed += value
        family.add_metric([source], value)
    family.add_metric(["other"], max(0, stats.get(StatField.ARTICLES_INGESTED, 0) - claimed))
    return family


def _failed_family(stats: Mapping[str, int]) -> CounterMetricFamily:
    """Messages given up on, by reason: every ``messages_<outcome>`` but sent and skipped."""
    family = CounterMetricFamily(
        "newsbot_messages_failed",
        "Messages given up on (all workers), by reason (blocked, bad_request, failed, ...).",
        labels=["reason"],
    )
    for name, value in sorted(stats.items()):
        outcome = messages_outcome(name)
        if outcome is not None and outcome not in _NOT_FAILED:
            family.add_metric([outcome], value)
    return family


def _feed_families(feeds: list[FeedState]) -> Iterable[Metric]:
    """Per-feed error streaks and last success times."""
    errors = GaugeMetricFamily(
        "newsbot_feed_consecutive_errors",
        "Failed polls in a row per configured feed (0 = healthy).",
        labels=["feed"],
    )
    last_ok = GaugeMetricFamily(
        "newsbot_feed_last_success_timestamp_seconds",
        "Unix time of each feed's last successful poll.",
        labels=["feed"],
    )
    for state in feeds:
        errors.add_metric([state.url], state.errors)
        if state.last_ok_at is not None:
            last_ok.add_metric([state.url], state.last_ok_at)
    yield errors
    yield last_ok
