"""One delivery worker: a consumer of the queue that feeds its dispatcher and keeps its claims.

Three loops run side by side: the *feeder* (claim new jobs, expand them a step at a time, read
batches into the dispatcher, breaking first), the *dispatcher* (book slots and send, see
``dispatch``) and *maintenance* (heartbeat, refresh the entries held so they do not look
abandoned, take over entries abandoned by dead workers).  A stop lets in-flight sends finish
and be recorded, then hands what is left back to the group for others to claim at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

from redis.exceptions import RedisError

from bot.delivery import metrics as m
from bot.delivery.alerts import AlertCatalog
from bot.delivery.config import PRIORITIES, DeliveryConfig, Priority
from bot.delivery.dispatch import Delivery, Dispatcher
from bot.delivery.outcomes import BatchTicket, Outcome, Recorder
from bot.delivery.queue import Entry, Queues
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.sender import DirectSender
from bot.store import Audience, Store

logger = logging.getLogger(__name__)

#: Most batch entries read (or claimed) per step.
_READ_BATCHES = 8
#: Dead workers are forgotten (worker list, consumer group) after an hour without a heartbeat.
_FORGET_WORKERS_AFTER = 3600.0
_CLEANUP_EVERY = 300.0
#: How long a stop waits for the loops, and for outcomes to be written.
_LOOP_EXIT_SECONDS = 5.0
_DRAIN_SECONDS = 10.0
#: Backoff of the feeder after an error (doubling up to the maximum).
_BACKOFF_MIN = 0.1
_BACKOFF_MAX = 5.0


async def _settle(tasks: list[asyncio.Task[None]], seconds: float) -> None:
    """Wait for tasks to end by themselves; cancel whatever is still running after ``seconds``."""
    _, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=1.0)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            logger.error("delivery loop failed", exc_info=task.exception())


def new_worker_id() -> str:
    """A consumer name unique to this worker: host, process and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Consumes alert jobs and batches from the shared queue and delivers them."""

    def __init__(
        self,
        store: Store,
        config: DeliveryConfig,
        *,
        sender: DirectSender,
        limiter: RateLimiter,
        metrics: m.DeliveryMetrics,
        worker_id: str | None = None,
    ) -> None:
        self.id = worker_id or new_worker_id()
        self._store = store
        self._config = config
        self._metrics = metrics
        self._queues = Queues(store, config, self.id)
        self._catalog = AlertCatalog(store, config)
        self._recorder = Recorder(
            store,
            self._queues.group,
            ttl_days=config.outcomes_ttl_days,
            on_outcome=lambda outcome: metrics.incr(outcome.value),
        )
        self._dispatcher = Dispatcher(config, store, limiter, sender, self._recorder, metrics)
        self._jobs: dict[tuple[str, str], tuple[Entry, Priority]] = {}
        self._batches: dict[tuple[str, str], BatchTicket] = {}
        self._stopping = asyncio.Event()
        self._last_cleanup = 0.0
        self._priority_of = {self._queues.jobs(p): p for p in PRIORITIES}
        self._priority_of.update({self._queues.batches(p): p for p in PRIORITIES})

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then stop gracefully."""
        # The loops end when ``_stopping`` is set rather than by cancellation: redis-py's
        # asyncio client can swallow a CancelledError that lands inside a command, which would
        # leave a cancelled loop running forever.
        if not await self._ready(stop):
            return
        logger.info("delivery worker %s started", self.id)
        recorder = asyncio.create_task(self._recorder.run())
        loops = [
            asyncio.create_task(self._dispatcher.run()),
            asyncio.create_task(self._feed()),
            asyncio.create_task(self._maintain()),
        ]
        stopper = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait([stopper, *loops], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper:
                    task.result()  # a loop ended: surface its error
        finally:
            self._stopping.set()
            stopper.cancel()
            await self._dispatcher.stop()
            await _settle(loops, _LOOP_EXIT_SECONDS)
            # Bounded: with Redis gone for good the outcomes cannot be written anyway, and the
            # unrecorded chats are simply sent again by whoever claims their batches.
            self._recorder.close(_DRAIN_SECONDS)
            await _settle([recorder], _DRAIN_SECONDS + 1)
            with contextlib.suppress(RedisError):
                await asyncio.wait_for(self._hand_back(), 5)
            logger.info("delivery worker %s stopped", self.id)

    # Feeding ----------------------------------------------------------------------------------
    async def _feed(self) -> None:
        # Only a stop ends this loop: a Redis outage (longer than the client's own reconnect
        # retries) or an unexpected error is logged and retried with backoff, so a worker
        # idling through a Redis restart is still there to deliver the next alert.
        backoff = _BACKOFF_MIN
        while not self._stopping.is_set():
            try:
                await self._feed_step()
                backoff = _BACKOFF_MIN
            except RedisError as exc:
                logger.warning("delivery feed: Redis error %s; retrying", type(exc).__name__)
                await self._pause(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)
            except Exception:
                logger.exception("delivery feed failed; retrying")
                await self._pause(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)

    async def _feed_step(self) -> None:
        """Read and expand what there is; when there is nothing, wait for work (briefly)."""
        if await self._feed_once():
            return
        if self._dispatcher.held() == 0 and not self._jobs:
            await self._take(await self._queues.read(self._queues.all_streams(), 1, 250))
        else:
            self._dispatcher.hungry.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dispatcher.hungry.wait(), 0.1)

    async def _feed_once(self) -> bool:
        queues = self._queues
        jobs = await queues.read([queues.jobs(p) for p in PRIORITIES], 1)
        await self._take(jobs)
        progressed = bool(jobs)
        by_urgency = sorted(self._jobs.items(), key=lambda item: PRIORITIES.index(item[1][1]))
        for key, (entry, priority) in by_urgency:
            if await queues.lag(queues.batches(priority)) >= self._config.expand_lag:
                continue
            result = await queues.expand(entry, priority)
            if result.done or result.moved:
                self._jobs.pop(key, None)
            progressed = progressed or not result.moved
        for priority in PRIORITIES:
            want = self._config.prefetch - self._dispatcher.held()
            if want <= 0:
                break
            # Small reads keep each admission step short (the event loop also drives the sends).
            count = min(-(-want // self._config.batch_size), _READ_BATCHES)
            entries = await queues.read([queues.batches(priority)], count)
            await self._take(entries)
            progressed = progressed or bool(entries)
        return progressed

    async def _take(self, entries: list[Entry]) -> None:
        """Adopt jobs and admit batches read or claimed from the queue."""
        batches: list[Entry] = []
        for entry in entries:
            priority = self._priority_of.get(entry.stream, Priority.BREAKING)
            if entry.stream == self._queues.jobs(priority):
                self._jobs[(entry.stream, entry.entry_id)] = (entry, priority)
            elif (entry.stream, entry.entry_id) not in self._batches:
                batches.append(entry)
        if batches:
            await self._admit(batches)

    async def _admit(self, entries: list[Entry]) -> None:
        """Turn batch entries into deliveries, skipping chats already done or gone."""
        keys = self._store.keys
        plans = []
        async with self._store.redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                alert = await self._catalog.get(entry.fields.get("alert", ""))
                chats = [int(c) for c in entry.fields.get("chats", "").split(",") if c]
                plans.append((entry, alert, chats))
                if alert is not None and chats:
                    audience = (
                        keys.subscribers_all_news
                        if alert.audience is Audience.ALL_NEWS
                        else keys.subscribers_active
                    )
                    pipe.hmget(keys.alert_outcomes(alert.alert_id), chats)
                    pipe.zmscore(audience, [str(c) for c in chats])
            answers = iter(await pipe.execute())
        for entry, alert, chats in plans:
            ticket = BatchTicket(alert.alert_id if alert else "", entry.stream, entry.entry_id, 0)
            if alert is None or not chats:
                self._recorder.ack_empty(ticket)
                continue
            outcomes, scores = next(answers), next(answers)
            todo: list[int] = []
            gone: list[int] = []
            for chat, outcome, score in zip(chats, outcomes, scores, strict=True):
                if outcome is None:
                    (todo if score is not None else gone).append(chat)
            ticket.remaining = len(todo) + len(gone)
            if ticket.remaining == 0:
                self._recorder.ack_empty(ticket)
                continue
            self._batches[(entry.stream, entry.entry_id)] = ticket
            for chat in gone:
                self._recorder.record(ticket, chat, Outcome.SKIPPED)
            self._dispatcher.add([Delivery(chat, ticket, alert) for chat in todo])

    # Maintenance ------------------------------------------------------------------------------
    async def _maintain(self) -> None:
        interval = min(max(self._config.claim_idle / 3, 0.2), 10.0)
        while not self._stopping.is_set():
            try:
                await self._heartbeat(interval)
                await self._refresh()
                await self._take_over()
            except RedisError as exc:
                logger.warning("delivery maintenance: Redis error %s", type(exc).__name__)
            except Exception:
                logger.exception("delivery maintenance failed; retrying")
            await self._pause(interval)

    async def _pause(self, seconds: float) -> None:
        """Sleep, cut short by a stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _heartbeat(self, interval: float) -> None:
        keys = self._store.keys
        ttl_ms = int(max(interval * 3, self._config.claim_idle) * 1000)
        now = time.time()
        async with self._store.redis.pipeline(transaction=False) as pipe:
            pipe.set(keys.worker_heartbeat(self.id), str(self._dispatcher.held()), px=ttl_ms)
            pipe.zadd(keys.workers, {self.id: now})
            pipe.zremrangebyscore(keys.workers, "-inf", now - _FORGET_WORKERS_AFTER)
            await pipe.execute()
        if now - self._last_cleanup > _CLEANUP_EVERY:
            self._last_cleanup = now
            await self._queues.forget_idle_consumers(_FORGET_WORKERS_AFTER)

    def _held_by_stream(self) -> dict[str, list[str]]:
        for key in [k for k, t in self._batches.items() if t.remaining <= 0 or t.lost]:
            del self._batches[key]
        held: dict[str, list[str]] = {}
        for stream, entry_id in [*self._batches, *self._jobs]:
            held.setdefault(stream, []).append(entry_id)
        return held

    async def _refresh(self) -> None:
        for stream, ids in self._held_by_stream().items():
            for entry_id in await self._queues.refresh(stream, ids):
                ticket = self._batches.pop((stream, entry_id), None)
                if ticket is not None:
                    ticket.lost = True
                self._jobs.pop((stream, entry_id), None)

    async def _take_over(self) -> None:
        for priority in PRIORITIES:
            await self._take(await self._queues.claim_idle(self._queues.jobs(priority), 10))
            want = self._config.prefetch - self._dispatcher.held()
            if want > 0:
                count = min(-(-want // self._config.batch_size), _READ_BATCHES)
                stream = self._queues.batches(priority)
                await self._take(await self._queues.claim_idle(stream, count))

    async def _hand_back(self) -> None:
        """Make what this worker still holds claimable by the others right away."""
        for stream, ids in self._held_by_stream().items():
            await self._queues.release(stream, ids)
        keys = self._store.keys
        await self._store.redis.delete(keys.worker_heartbeat(self.id))
        await self._store.redis.zrem(keys.workers, self.id)

    async def _ready(self, stop: asyncio.Event) -> bool:
        """Create the consumer groups, waiting for Redis; ``False`` if stopped meanwhile."""
        delay = 0.1
        while not stop.is_set():
            try:
                await self._queues.ensure_groups()
                return True
            except RedisError as exc:
                logger.warning("delivery worker: Redis unavailable (%s)", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 5.0)
        return False
