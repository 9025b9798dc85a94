"""The send loop of one worker: book slots, send concurrently, decide what each answer means.

Chats waiting in this worker sit in one queue per alert, grouped by priority (breaking first);
within a priority the alerts take turns, one chat each, so a new alert is not held up by the
chats of an earlier one.  The scheduler books rate-limit slots for as many of them as there
are free in-flight places, in one Redis call, and starts a task at each granted slot (from a
timer) that sends and records the outcome.  A chat that must wait (its own spacing, a
backoff after an error) is parked in a timer heap, so one slow or failing chat never holds up
the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import random
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.delivery import metrics as m
from bot.delivery.alerts import AlertCatalog, AlertInfo, edit_body, reply_body, send_body
from bot.delivery.codec import as_text
from bot.delivery.config import PRIORITIES, DeliveryConfig, Priority
from bot.delivery.counters import Counter
from bot.delivery.keys import DeliveryKeys
from bot.delivery.outcomes import BatchTicket, Outcome, Recorder, UnitKind
from bot.delivery.ratelimit import GrantKind, RateLimiter
from bot.delivery.sender import DirectSender
from bot.delivery.window import InFlightWindow
from bot.models import Audience, ChatKind, Preference
from bot.store import SubscriberStore
from bot.telegram_errors import EDIT_TARGET_GONE, NOT_MODIFIED, ResultKind, SendResult

logger = logging.getLogger(__name__)

#: Most slots booked per limiter call.
_ACQUIRE_MAX = 64
#: Most concurrent Redis calls made by send tasks (the client's pool is finite).
_REDIS_CALLS = 16
#: How long the "token rejected" flag outlives a 401 pause: the retry at the pause's end
#: renews it while the token is still revoked, so /readyz does not flicker ready meanwhile.
_TOKEN_FLAG_MARGIN = 5.0


@dataclass(eq=False, slots=True)
class Delivery:
    """One chat of one unit (an alert or an action), in this worker's hands until it has an
    outcome."""

    chat_id: int
    ticket: BatchTicket
    alert: AlertInfo
    attempt: int = 0
    #: The chat's message of the alert (what an edit changes, what an update replies to).
    message_id: int | None = None
    #: The revision of the alert's text this delivery sent (set when its body is built).
    revision: int = 0
    #: Where the message goes when that is not ``chat_id``: the supergroup a group became
    #: while the alert was going out. The outcome stays the audience's chat's.
    target: int | None = None

    @property
    def send_to(self) -> int:
        """The chat the message is addressed to (and whose spacing it keeps)."""
        return self.chat_id if self.target is None else self.target

    @property
    def edits(self) -> bool:
        """Whether this delivery edits the chat's alert message (a correction or catch-up)."""
        return self.ticket.kind is UnitKind.EDIT or self.ticket.fix


def parse_ledger(value: object) -> tuple[int, int] | None:
    """``(message id, revision shown)`` from an alert outcome ``"<id>/<revision>"``; else None."""
    if value is None:
        return None
    mid, sep, rev = as_text(value).partition("/")
    if not sep or not mid.isdigit() or not rev.isdigit():
        return None
    return int(mid), int(rev)


class Dispatcher:
    """Schedules and sends the deliveries a worker holds; at most ``window.size`` at a time."""

    def __init__(
        self,
        config: DeliveryConfig,
        redis: Redis,
        keys: DeliveryKeys,
        subscribers: SubscriberStore,
        limiter: RateLimiter,
        sender: DirectSender,
        recorder: Recorder,
        metrics: m.DeliveryMetrics,
        catalog: AlertCatalog,
    ) -> None:
        self._config = config
        self._catalog = catalog
        self._redis = redis
        self._keys = keys
        self._subscribers = subscribers
        self._limiter = limiter
        self._sender = sender
        self._recorder = recorder
        self._metrics = metrics
        # Per priority, per alert (in turn order): the chats ready to be booked.
        self._ready: dict[Priority, OrderedDict[str, deque[Delivery]]] = {
            p: OrderedDict() for p in PRIORITIES
        }
        self._timers: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._held = 0
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        #: Sends booked whose timer has not started them yet (they hold in-flight places).
        self._timed = 0
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._paused_until = 0.0
        self._refusals_logged: set[str] = set()
        self._redis_gate = asyncio.Semaphore(_REDIS_CALLS)
        # Broadcasts book at most ``horizon`` ahead: asking for more slots per call is waste.
        self._per_call = max(1, min(_ACQUIRE_MAX, math.ceil(config.rate * config.horizon) + 1))
        #: Requests allowed in flight, following the measured round trip (Little's law).
        self.window = InFlightWindow(config.rate, config.horizon, config.max_in_flight)
        #: Set whenever this worker holds less than half its prefetch: the feeder should read.
        self.hungry = asyncio.Event()
        self.hungry.set()

    # Feeding ----------------------------------------------------------------------------------
    def add(self, deliveries: list[Delivery]) -> None:
        """Take deliveries into their alert's queue (a new alert joins the turns last)."""
        for delivery in deliveries:
            self._queue_of(delivery).append(delivery)
        self._held += len(deliveries)
        self._update_hunger()
        self._wake.set()

    def held(self) -> int:
        """Deliveries in this worker's hands (queued, parked or in flight)."""
        return self._held

    @property
    def prefetch(self) -> int:
        """How many chats this worker should hold: enough to keep its window full."""
        return self._config.prefetch(self.window.size)

    def in_flight(self) -> int:
        """Sends started (booked, waiting for their slot or for Telegram's answer)."""
        return self._in_flight

    def _update_hunger(self) -> None:
        if self._held < self.prefetch // 2:
            self.hungry.set()
        else:
            self.hungry.clear()

    def _done(self) -> None:
        self._held -= 1
        self._update_hunger()

    # Scheduling -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Book slots and start sends until ``stop`` is called."""
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            free = self.window.size - self._in_flight
            picks = self._pick(min(free, self._per_call), loop.time()) if free > 0 else []
            if not picks:
                await self._sleep(self._next_timer(loop.time()), wake=True)
                continue
            if loop.time() < self._paused_until:
                self._push_back(picks)
                await self._sleep(self._paused_until - loop.time())
                continue
            try:
                picks = await self._prepare(picks)
                if not picks:
                    continue
                grants = await self._limiter.acquire([d.send_to for d in picks])
            except RedisError as exc:
                logger.warning("rate limiter unavailable (%s); retrying", type(exc).__name__)
                self._push_back(picks)
                await self._sleep(0.5)
                continue
            except Exception:
                # Only ``stop`` ends this loop: an unexpected error must not end delivery.
                logger.exception("rate limiter call failed; retrying")
                self._push_back(picks)
                await self._sleep(1.0)
                continue
            back: list[Delivery] = []
            full_for = 0.0
            for delivery, grant in zip(picks, grants, strict=True):
                if grant.granted:
                    self._launch(delivery, grant.delay)
                elif grant.kind is GrantKind.CHAT_BUSY:
                    self._park(delivery, grant.delay)
                else:
                    back.append(delivery)
                    full_for = grant.delay
            if back:
                self._push_back(back)
                # Come back when half the horizon has drained, to book several slots per call.
                await self._sleep(full_for + self._config.horizon / 2)

    async def _prepare(self, picks: list[Delivery]) -> list[Delivery]:
        """The picks still to send now; the others get their outcome without a message.

        Checked right before the slot is booked, not when the batch was read (a worker holds
        seconds of chats in hand): an alert or update goes only to chats still in its audience,
        so a reader who says /stop meanwhile gets nothing after the confirmation (a chat that
        left after this check has a slot booked before the confirmation's, which waits for the
        chat's own spacing: it still comes first). An edit goes to every chat that can still
        be written to (a reader who left still has the wrong text on screen), and only when the
        chat's message shows an older revision than the current one. And the current revision
        of each alert is read here, so a correction reaches the chats not yet served directly.
        """
        # Every lookup first: a Redis error then leaves the picks untouched for a retry.
        revisions = await self._revisions({d.alert.owner for d in picks})
        sends = [d for d in picks if not d.edits]
        audiences = {d.alert.audience for d in sends}
        subscribed: set[tuple[Audience, int]] = set()
        for audience in audiences:
            chats = [d.send_to for d in sends if d.alert.audience is audience]
            members = await self._subscribers.members(audience, chats)
            subscribed.update((audience, c) for c, ok in zip(chats, members, strict=True) if ok)
        edits = [d for d in picks if d.edits]
        reachable: set[int] = set()
        shown: dict[tuple[str, int], tuple[int, int] | None] = {}
        if edits:
            chats = [d.chat_id for d in edits]
            ok = await self._subscribers.reachable(chats)
            reachable = {c for c, fine in zip(chats, ok, strict=True) if fine}
            async with self._redis_gate, self._redis.pipeline(transaction=False) as pipe:
                for d in edits:
                    pipe.hget(self._keys.alert_outcomes(d.alert.owner), str(d.chat_id))
                values = await pipe.execute()
            for d, value in zip(edits, values, strict=True):
                shown[(d.alert.owner, d.chat_id)] = parse_ledger(value)
        kept: list[Delivery] = []
        for delivery in picks:
            outcome = self._settled(delivery, revisions, subscribed, reachable, shown)
            if outcome is None:
                kept.append(delivery)
            else:
                self._recorder.record(delivery.ticket, delivery.chat_id, outcome)
                self._done()
        return kept

    def _settled(
        self,
        delivery: Delivery,
        revisions: dict[str, tuple[int, bool]],
        subscribed: set[tuple[Audience, int]],
        reachable: set[int],
        shown: dict[tuple[str, int], tuple[int, int] | None],
    ) -> Outcome | None:
        """The outcome a pick has without sending anything, or ``None`` to send it."""
        current, retracted = revisions.get(delivery.alert.owner, (0, False))
        if not delivery.edits:
            if (delivery.alert.audience, delivery.send_to) not in subscribed:
                return Outcome.SKIPPED
            # A retracted alert is not sent to readers it had not reached yet, nor updated.
            return Outcome.SKIPPED if retracted else None
        if delivery.chat_id not in reachable:
            return Outcome.SKIPPED
        ledger = shown.get((delivery.alert.owner, delivery.chat_id))
        if ledger is None:
            return Outcome.UNSENT
        delivery.message_id = ledger[0]
        return Outcome.UNCHANGED if ledger[1] >= current else None

    async def _revisions(self, owners: set[str]) -> dict[str, tuple[int, bool]]:
        """The current revision (and whether retracted) of each alert; loads newer texts."""
        ordered = sorted(owners)
        async with self._redis_gate, self._redis.pipeline(transaction=False) as pipe:
            for owner in ordered:
                pipe.hmget(self._keys.alert(owner), ["rev", "retracted"])
            rows = await pipe.execute()
        out: dict[str, tuple[int, bool]] = {}
        for owner, (rev, retracted) in zip(ordered, rows, strict=True):
            revision = int(as_text(rev)) if rev is not None else 0
            out[owner] = (revision, retracted is not None and as_text(retracted) == "1")
            await self._catalog.text(owner, revision)
        return out

    async def stop(self) -> None:
        """Stop booking new slots and wait for the sends already started to be recorded."""
        self._stop.set()
        self._wake.set()
        while self._tasks or self._timed:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            else:  # booked sends whose slot has not come yet (at most ``horizon`` away)
                await asyncio.sleep(0.01)

    def _pick(self, count: int, now: float) -> list[Delivery]:
        picks: list[Delivery] = []
        while self._timers and self._timers[0][0] <= now and len(picks) < count:
            self._keep(heapq.heappop(self._timers)[2], picks)
        for priority in PRIORITIES:
            alerts = self._ready[priority]
            while alerts and len(picks) < count:
                alert_id, queue = next(iter(alerts.items()))
                self._keep(queue.popleft(), picks)
                if queue:
                    alerts.move_to_end(alert_id)  # the next alert's turn
                else:
                    del alerts[alert_id]
        return picks

    def _queue_of(self, delivery: Delivery) -> deque[Delivery]:
        alerts = self._ready[delivery.alert.priority]
        queue = alerts.get(delivery.alert.alert_id)
        if queue is None:
            queue = alerts[delivery.alert.alert_id] = deque()
        return queue

    def _keep(self, delivery: Delivery, picks: list[Delivery]) -> None:
        if delivery.ticket.lost:  # another worker took the batch over: it sends this chat
            self._done()
        else:
            picks.append(delivery)

    def _push_back(self, deliveries: list[Delivery]) -> None:
        for delivery in reversed(deliveries):
            self._queue_of(delivery).appendleft(delivery)

    def _park(self, delivery: Delivery, delay: float) -> None:
        due = asyncio.get_running_loop().time() + delay
        heapq.heappush(self._timers, (due, next(self._seq), delivery))

    def _next_timer(self, now: float) -> float:
        return max(0.0, self._timers[0][0] - now) if self._timers else 1.0

    async def _sleep(self, seconds: float, *, wake: bool = False) -> None:
        """Sleep, cut short by ``stop`` (and by new work when ``wake``)."""
        if wake:
            self._wake.clear()
        waiters = [asyncio.ensure_future(self._stop.wait())]
        if wake:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # Sending ----------------------------------------------------------------------------------
    def _launch(self, delivery: Delivery, delay: float) -> None:
        self._in_flight += 1
        if delay > 0:
            # A timer starts the send at its slot: cheaper than a task sleeping until then
            # (one future and one task step fewer per message, at 1,000 a second).
            self._timed += 1
            asyncio.get_running_loop().call_later(delay, self._start_timed, delivery)
        else:
            self._start(delivery)

    def _start_timed(self, delivery: Delivery) -> None:
        self._timed -= 1
        self._start(delivery)

    def _start(self, delivery: Delivery) -> None:
        task = asyncio.create_task(self._send(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, delivery: Delivery) -> None:
        try:
            if delivery.ticket.lost:
                self._done()
            elif asyncio.get_running_loop().time() < self._paused_until:
                self._push_back([delivery])  # booked before a 429 paused everything
            elif (request := self._request(delivery)) is None:
                await self._finish(delivery, Outcome.FAILED)
                self._metrics.gave_up("unformattable")
            else:
                loop = asyncio.get_running_loop()
                # Woken late by a stalled loop, with every other send booked during the stall:
                # go out in turn, within the pace, not all together.
                await self._limiter.pace.wait()
                started = loop.time()
                result = await self._sender.send(request[1], request[0])
                self.window.observe(loop.time() - started)
                await self._handle(delivery, result)
        except RedisError as exc:
            logger.warning("chat %s requeued: Redis error %s", delivery.chat_id, type(exc).__name__)
            self._park(delivery, 1.0)
        except Exception:
            logger.exception("unexpected error sending to chat %s; requeued", delivery.chat_id)
            self._park(delivery, 5.0)
        finally:
            self._in_flight -= 1
            self._wake.set()

    def _request(self, delivery: Delivery) -> tuple[str, bytes] | None:
        """The Bot API method and body for a delivery; ``None`` when it has no message.

        An alert sends the newest revision of its text this worker knows (refreshed at each
        booking), an edit brings the chat's message to it, an update replies under it.
        """
        chat = delivery.send_to
        alert = delivery.alert
        if alert.kind is UnitKind.REPLY:
            if alert.body_tail is None or delivery.message_id is None:
                return None
            return "sendMessage", reply_body(alert.body_tail, chat, delivery.message_id)
        text = self._catalog.known_text(alert.owner)
        if text is None:
            return None
        delivery.revision = text.revision
        if delivery.edits:
            if text.edit_tail is None or delivery.message_id is None:
                return None
            return "editMessageText", edit_body(text.edit_tail, chat, delivery.message_id)
        if text.send_tail is None:
            return None
        return "sendMessage", send_body(text.send_tail, chat)

    async def _finish(
        self, delivery: Delivery, outcome: Outcome, *, message_id: int | None = None
    ) -> None:
        shows = outcome is Outcome.SENT or outcome in (Outcome.EDITED, Outcome.UNCHANGED)
        await self._recorder.record(
            delivery.ticket,
            delivery.chat_id,
            outcome,
            message_id=message_id,
            revision=delivery.revision if shows else None,
        )
        self._done()

    async def _handle(self, delivery: Delivery, result: SendResult) -> None:
        kind = result.kind
        if kind is ResultKind.BAD_REQUEST and delivery.edits:
            # Telegram's answers that mean the edit has nothing (more) to do.
            text = result.description.lower()
            if NOT_MODIFIED in text:
                await self._finish(delivery, Outcome.UNCHANGED)
                return
            if EDIT_TARGET_GONE in text:
                await self._finish(delivery, Outcome.GONE)
                return
        if kind is ResultKind.OK:
            if delivery.edits:
                await self._finish(delivery, Outcome.EDITED)
                return
            message_id = result.message_id if delivery.alert.kind is UnitKind.ALERT else None
            await self._finish(delivery, Outcome.SENT, message_id=message_id)
            if delivery.alert.kind is UnitKind.ALERT:
                self._metrics.sent(time.time() - delivery.alert.published_at)
        elif kind is ResultKind.RETRY_AFTER:
            await self._rate_limited(delivery, result.retry_after)
        elif kind is ResultKind.INACTIVE:
            async with self._redis_gate:
                await self._subscribers.deactivate(delivery.chat_id, result.reason)
            await self._finish(delivery, Outcome.BLOCKED)
            self._metrics.gave_up(result.reason)
        elif kind is ResultKind.MIGRATED and result.migrate_to is not None:
            async with self._redis_gate:
                await self._migrate(delivery.send_to, result.migrate_to)
            if delivery.target is None and not delivery.edits:
                # The readers are still there, in the supergroup: the alert goes to it, once
                # (its membership and spacing are checked when it is booked again).
                logger.info(
                    "chat %s became supergroup %s: alert resent there",
                    delivery.chat_id,
                    result.migrate_to,
                )
                delivery.target = result.migrate_to
                self._push_back([delivery])
                return
            await self._finish(delivery, Outcome.BLOCKED)
            self._metrics.gave_up("migrated")
        elif kind is ResultKind.BAD_REQUEST or kind is ResultKind.MIGRATED:
            await self._log_refusal(delivery, result.description)
            await self._finish(delivery, Outcome.BAD_REQUEST)
            self._metrics.gave_up(Outcome.BAD_REQUEST.value)
        elif kind is ResultKind.INVALID_TOKEN:
            now = asyncio.get_running_loop().time()
            if now >= self._paused_until:  # the other sends of the same burst say it again
                logger.error(
                    "Telegram rejected the bot token; sending paused for %ss",
                    self._config.invalid_token_pause,
                )
            self._paused_until = max(self._paused_until, now + self._config.invalid_token_pause)
            self._metrics.unauthorized()
            self._push_back([delivery])
            await self._share_token_pause()
        else:
            self._metrics.incr(m.TRANSIENT_ERROR)
            delivery.attempt += 1
            if delivery.attempt > self._config.send_retries:
                logger.info(
                    "chat %s failed after %d attempts: %s",
                    delivery.chat_id,
                    delivery.attempt,
                    result.description,
                )
                await self._finish(delivery, Outcome.FAILED)
                self._metrics.gave_up(Outcome.FAILED.value)
            else:
                base = self._config.retry_base * 2 ** (delivery.attempt - 1)
                self._park(delivery, min(self._config.retry_cap, base) * random.uniform(0.8, 1.2))

    async def _share_token_pause(self) -> None:
        """Pause every sender of the bot, in every process, and tell every ``/readyz``.

        The pause is the shared schedule pushed past it (as for a 429), so other workers and
        the bot's replies wait too; the flag outlives the pause by a margin and is renewed by
        the refusals that follow it while the token stays revoked.
        """
        pause = self._config.invalid_token_pause
        try:
            async with self._redis_gate:
                await self._limiter.penalize(None, pause)
                await self._redis.set(
                    self._keys.token_rejected,
                    "Telegram rejected the bot token while delivering (401)",
                    px=int((pause + _TOKEN_FLAG_MARGIN) * 1000),
                )
        except RedisError:
            logger.warning("could not share the token pause through Redis")

    async def _rate_limited(self, delivery: Delivery, retry_after: float) -> None:
        self._metrics.rate_limited(retry_after)
        share = True
        if delivery.chat_id > 0:
            # Per-chat spacing is ours to keep, so a 429 here means the token's budget: pause
            # this worker at once, and every other sender through the shared schedule.
            resume = asyncio.get_running_loop().time() + retry_after
            share = resume > self._paused_until + 0.05  # else a 429 of the same burst did
            if share:
                logger.info("429: all sending paused for %ss", retry_after)
                self._paused_until = resume
        if share:
            try:
                async with self._redis_gate:
                    await self._limiter.penalize(delivery.chat_id, retry_after)
            except RedisError:
                logger.warning("could not share a 429 pause through Redis")
        self._push_back([delivery])  # retried, never dropped
        with contextlib.suppress(RedisError):
            async with self._redis_gate:
                await self._redis.hincrby(self._keys.counters, Counter.RATE_LIMITED, 1)

    async def _migrate(self, old: int, new: int) -> None:
        """A group became a supergroup: move the subscription to its new id."""
        subscribers = self._subscribers
        previous = await subscribers.get(old)
        await subscribers.subscribe(new, ChatKind.SUPERGROUP)
        if previous is not None and previous.preference is Preference.ALL:
            await subscribers.set_preference(new, Preference.ALL)
        await subscribers.deactivate(old, "migrated")

    async def _log_refusal(self, delivery: Delivery, description: str) -> None:
        alert_id = delivery.alert.alert_id
        if alert_id in self._refusals_logged:
            return
        self._refusals_logged.add(alert_id)
        if len(self._refusals_logged) > 1024:
            self._refusals_logged.clear()
        logger.warning(
            "alert %s: Telegram refused it for chat %s: %s (further refusals are only counted)",
            alert_id,
            delivery.chat_id,
            description,
        )
