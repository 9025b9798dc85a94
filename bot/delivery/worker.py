"""One delivery worker: a consumer of the queue that feeds its dispatcher and keeps its claims.

Three loops run side by side: the *feeder* (claim new jobs, expand each a step at a time, read
batches into the dispatcher, breaking first), the *dispatcher* (book slots and send, see
``dispatch``) and *maintenance* (heartbeat, refresh the entries held so they do not look
abandoned, take over entries abandoned by dead workers).  A stop lets in-flight sends finish
and be recorded, then hands what is left back to the group for others to claim at once.

Alerts of the same priority share the sending: the feeder reads from every active alert's
stream, favouring the alerts it holds fewest chats of, and always takes a batch of an urgent
alert it holds nothing of (even with its hands full), so a new alert starts going out at once
instead of after the chats of the alerts before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.delivery import metrics as m
from bot.delivery.alerts import AlertCatalog
from bot.delivery.codec import as_text
from bot.delivery.config import PRIORITIES, DeliveryConfig, Priority
from bot.delivery.dispatch import Delivery, Dispatcher, parse_ledger
from bot.delivery.keys import DeliveryKeys
from bot.delivery.outcomes import BatchTicket, Outcome, Recorder, UnitKind, outcome_event
from bot.delivery.queue import Entry, Queues
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.sender import DirectSender
from bot.store import Store

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
        redis: Redis,
        keys: DeliveryKeys,
        store: Store,
        config: DeliveryConfig,
        *,
        sender: DirectSender,
        limiter: RateLimiter,
        metrics: m.DeliveryMetrics,
        worker_id: str | None = None,
    ) -> None:
        self.id = worker_id or new_worker_id()
        self._redis = redis
        self._keys = keys
        self._subscribers = store.subscribers
        self._config = config
        self._metrics = metrics
        self._queues = Queues(redis, keys, store.subscribers, config, self.id)
        self._catalog = AlertCatalog(redis, keys, store.articles, config)
        self._recorder = Recorder(
            redis,
            keys,
            ttl_days=config.outcomes_ttl_days,
            on_outcome=lambda kind, outcome: metrics.incr(outcome_event(kind, outcome)),
        )
        self._dispatcher = Dispatcher(
            config,
            redis,
            keys,
            store.subscribers,
            limiter,
            sender,
            self._recorder,
            metrics,
            self._catalog,
        )
        self._jobs: dict[tuple[str, str], Entry] = {}
        self._batches: dict[tuple[str, str], BatchTicket] = {}
        self._stopping = asyncio.Event()
        self._last_cleanup = 0.0
        self._job_streams = set(self._queues.job_streams())

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
            # Bounded: with Redis gone for good the outcomes cannot be written anyway, and the
            # unrecorded chats are simply sent again by whoever claims their batches. Set before
            # waiting for the sends in flight, which wait for their outcomes to be written.
            self._recorder.give_up_after(_DRAIN_SECONDS)
            await self._dispatcher.stop()
            await _settle(loops, _LOOP_EXIT_SECONDS)
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
            streams = {**self._queues.job_streams(), **await self._queues.batch_streams()}
            await self._take(await self._queues.read(streams, 1, 250))
        else:
            self._dispatcher.hungry.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dispatcher.hungry.wait(), 0.1)

    async def _feed_once(self) -> bool:
        queues = self._queues
        jobs = await queues.read(queues.job_streams(), 1)
        await self._take(jobs)
        progressed = bool(jobs)
        # One step per job and pass: every alert's expansion advances, each bounded by its own
        # look-ahead, so none waits for another's audience to be expanded.
        by_urgency = sorted(self._jobs.items(), key=lambda i: PRIORITIES.index(i[1].priority))
        for key, entry in by_urgency:
            if await queues.lag(queues.job_batches(entry)) >= self._config.expand_lag:
                continue
            result = await queues.expand(entry)
            if result.done or result.moved:
                self._jobs.pop(key, None)
            # An update waiting for its alert's outcomes is no progress: the feeder may wait.
            progressed = progressed or not (result.moved or result.waiting)
        urgent = True  # only the most urgent priority with alerts in progress may overfill
        for priority in PRIORITIES:
            active = await queues.active(priority)
            entries = await self._read_batches(priority, active, overfill=urgent)
            urgent = urgent and not active
            progressed = progressed or bool(entries)
        return progressed

    async def _read_batches(
        self, priority: Priority, active: list[str], *, overfill: bool
    ) -> list[Entry]:
        """Read batches of one priority's alerts, spreading this worker's hands over them."""
        queues = self._queues
        held = self._held_per_alert()
        entries: list[Entry] = []
        if overfill:
            # An alert this worker holds nothing of gets a batch even when the hands are full:
            # its first messages then go out within a few slots (the dispatcher alternates
            # between alerts) instead of after everything already held.  At most one batch per
            # alert in progress beyond ``prefetch``: memory stays bounded.
            starved = [a for a in active if held.get(a, 0) == 0][:_READ_BATCHES]
            if starved:
                streams = {queues.batches(priority, a): priority for a in starved}
                entries += await self._take(await queues.read(streams, 1))
        want = self._dispatcher.prefetch - self._dispatcher.held()
        if want <= 0:
            return entries
        if entries:
            held = self._held_per_alert()
        # Small reads keep each admission step short (the event loop also drives the sends).
        budget = min(-(-want // self._config.batch_size), _READ_BATCHES)
        # The alerts this worker holds fewest chats of first (oldest first among equals).
        fewest = sorted(active, key=lambda a: held.get(a, 0))[:budget]
        count = -(-budget // max(1, len(fewest)))
        streams = {queues.batches(priority, a): priority for a in fewest}
        streams[queues.shared_batches(priority)] = priority
        entries += await self._take(await queues.read(streams, count))
        return entries

    def _held_per_alert(self) -> dict[str, int]:
        """Chats of each alert in this worker's hands (without an outcome yet)."""
        held: dict[str, int] = {}
        for ticket in self._batches.values():
            if ticket.remaining > 0 and not ticket.lost:
                held[ticket.alert_id] = held.get(ticket.alert_id, 0) + ticket.remaining
        return held

    async def _take(self, entries: list[Entry]) -> list[Entry]:
        """Adopt jobs and admit batches read or claimed from the queue; returns them."""
        batches: list[Entry] = []
        for entry in entries:
            if entry.stream in self._job_streams:
                self._jobs[(entry.stream, entry.entry_id)] = entry
            elif (entry.stream, entry.entry_id) not in self._batches:
                batches.append(entry)
        if batches:
            await self._admit(batches)
        return entries

    async def _admit(self, entries: list[Entry]) -> None:
        """Turn batch entries into deliveries, skipping chats that already have an outcome.

        Whether a chat is still subscribed is checked later, when its slot is booked (see
        ``Dispatcher``): a reader who says /stop while the alert is going out gets nothing
        after the confirmation. An action's chats come with their alert message's id from the
        ledger; those the alert never reached end at once (``unsent`` for an edit, ``skipped``
        for an update). A catch-up entry (``fix``) edits a chat its alert already reached.
        """
        keys = self._keys
        plans = []
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                alert = await self._catalog.get(entry.fields.get("alert", ""))
                chats = [int(c) for c in entry.fields.get("chats", "").split(",") if c]
                plans.append((entry, alert, chats))
                if alert is not None and chats:
                    pipe.hmget(keys.alert_outcomes(alert.alert_id), chats)
                    if alert.kind is not UnitKind.ALERT:
                        pipe.hmget(keys.alert_outcomes(alert.owner), chats)
            answers = iter(await pipe.execute())
        for entry, alert, chats in plans:
            alert_id = entry.fields.get("alert", "")
            fix = entry.fields.get("fix") == "1"
            ticket = BatchTicket(
                alert_id,
                entry.priority,
                entry.stream,
                entry.entry_id,
                0,
                kind=alert.kind if alert is not None else UnitKind.ALERT,
                parent=alert.parent if alert is not None else "",
                fix=fix and alert is not None and alert.kind is UnitKind.ALERT,
            )
            if alert is None or not chats:
                self._recorder.ack_empty(ticket)
                continue
            outcomes = next(answers)
            ledger = next(answers) if alert.kind is not UnitKind.ALERT else outcomes
            if ticket.fix:
                todo = chats[:1]  # a catch-up has one chat, which has its outcome already
            else:
                todo = [c for c, outcome in zip(chats, outcomes, strict=True) if outcome is None]
            ticket.remaining = len(todo)
            if ticket.remaining == 0:
                self._recorder.ack_empty(ticket)
                continue
            self._batches[(entry.stream, entry.entry_id)] = ticket
            shown = dict(zip(chats, ledger, strict=True))
            deliveries: list[Delivery] = []
            for chat in todo:
                if alert.kind is UnitKind.ALERT and not ticket.fix:
                    deliveries.append(Delivery(chat, ticket, alert))
                    continue
                found = parse_ledger(shown.get(chat))
                if found is None:
                    # The alert never reached this chat (or it was sent before message ids
                    # were kept): nothing to edit or to reply to.
                    none = Outcome.UNSENT if ticket.kind is UnitKind.EDIT else Outcome.SKIPPED
                    self._recorder.record(ticket, chat, none)
                    continue
                deliveries.append(Delivery(chat, ticket, alert, message_id=found[0]))
            if deliveries:
                self._dispatcher.add(deliveries)

    # Maintenance ------------------------------------------------------------------------------
    async def _maintain(self) -> None:
        beat = self._config.heartbeat_interval
        # The idle takeover (the safety net for stuck workers) only matters at claim_idle's scale.
        idle_every = min(max(self._config.claim_idle / 3, beat), 10.0)
        last_idle = -idle_every  # at once on start: entries handed back by a graceful stop
        while not self._stopping.is_set():
            try:
                await self._heartbeat()
                # Every beat: a worker that stalled past its heartbeat learns at once which of
                # its entries were taken over, and stops sending them.
                await self._refresh()
                await self._take_over_dead()
                if time.monotonic() - last_idle >= idle_every:
                    last_idle = time.monotonic()
                    await self._take_over()
            except RedisError as exc:
                logger.warning("delivery maintenance: Redis error %s", type(exc).__name__)
            except Exception:
                logger.exception("delivery maintenance failed; retrying")
            await self._pause(beat)

    async def _pause(self, seconds: float) -> None:
        """Sleep, cut short by a stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _heartbeat(self) -> None:
        keys = self._keys
        ttl_ms = int(max(self._config.heartbeat_ttl, 2 * self._config.heartbeat_interval) * 1000)
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(keys.worker_heartbeat(self.id), str(self._dispatcher.held()), px=ttl_ms)
            pipe.zadd(keys.workers, {self.id: now})
            pipe.zremrangebyscore(keys.workers, "-inf", now - _FORGET_WORKERS_AFTER)
            await pipe.execute()
        if now - self._last_cleanup > _CLEANUP_EVERY:
            self._last_cleanup = now
            await self._queues.forget_idle_consumers(_FORGET_WORKERS_AFTER)
            await self._queues.sweep_active()

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

    async def _dead_workers(self) -> list[str]:
        """Workers seen recently whose heartbeat has expired (they crashed or were killed)."""
        ids = [as_text(i) for i in await self._redis.zrange(self._keys.workers, 0, -1)]
        others = [i for i in ids if i != self.id]
        if not others:
            return []
        beats = await self._redis.mget([self._keys.worker_heartbeat(i) for i in others])
        return [i for i, beat in zip(others, beats, strict=True) if beat is None]

    async def _take_over_dead(self) -> None:
        """Take over at once what dead workers held; forget a dead worker once it holds nothing.

        A worker without a heartbeat is dead: waiting ``claim_idle`` for its entries to look
        abandoned would leave its readers without the alert for that long after a crash.
        """
        dead = await self._dead_workers()
        if not dead:
            return
        queues = self._queues
        streams: dict[str, Priority] = {**queues.job_streams(), **await queues.batch_streams()}
        for worker in dead:
            left = False
            for stream, priority in streams.items():
                want = max(1, -(-(self._dispatcher.prefetch - self._dispatcher.held())
                                // self._config.batch_size))  # fmt: skip
                taken = await self._take(
                    await queues.take_from(stream, priority, worker, min(want, _READ_BATCHES))
                )
                if taken:
                    logger.info(
                        "took over %d entries of dead worker %s from %s", len(taken), worker, stream
                    )
                    left = True  # there may be more: look again next round
            if not left:
                await self._redis.zrem(self._keys.workers, worker)

    async def _take_over(self) -> None:
        queues = self._queues
        for priority in PRIORITIES:
            await self._take(await queues.claim_idle(queues.jobs(priority), priority, 10))
        urgent = True  # as when reading: an urgent alert this worker holds nothing of is taken
        for priority in PRIORITIES:
            active = await queues.active(priority)
            streams = {queues.batches(priority, a): a for a in active}
            streams[queues.shared_batches(priority)] = ""
            for stream, alert_id in streams.items():
                want = self._dispatcher.prefetch - self._dispatcher.held()
                starved = urgent and alert_id != "" and alert_id not in self._held_per_alert()
                if want <= 0 and not starved:
                    continue
                count = max(1, min(-(-want // self._config.batch_size), _READ_BATCHES))
                await self._take(await queues.claim_idle(stream, priority, count))
            urgent = urgent and not active

    async def _hand_back(self) -> None:
        """Make what this worker still holds claimable by the others right away."""
        for stream, ids in self._held_by_stream().items():
            await self._queues.release(stream, ids)
        # Without its heartbeat this worker counts as dead: the others take over what it still
        # holds at once (and then forget it).
        await self._redis.delete(self._keys.worker_heartbeat(self.id))

    async def _ready(self, stop: asyncio.Event) -> bool:
        """Create the consumer groups, waiting for Redis; ``False`` if stopped meanwhile."""
        delay = 0.1
        while not stop.is_set():
            try:
                await self._queues.ensure_groups()
                # Alive before reading anything: another worker must not take this one for dead.
                await self._heartbeat()
                return True
            except RedisError as exc:
                logger.warning("delivery worker: Redis unavailable (%s)", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 5.0)
        return False
