"""Per-(alert, chat) outcomes, written once each and group-committed with the batch acks.

Every chat of an alert ends with exactly one outcome, set with ``HSETNX`` in the alert's
outcomes hash; the counters move only when the outcome is new, so they stay exact however often
a batch is replayed after a crash.  A batch is acknowledged (and deleted from its stream) in
the same script that records the last of its outcomes, so "acked" always implies "recorded".

Senders hand outcomes to the ``Recorder``, which writes whatever has accumulated in one script
call per alert while the previous call is in flight (group commit): one round trip per dozens
of messages under load, and no added latency when idle.  A send's in-flight slot is held until
its outcome is durable, so a crash can repeat at most ``max_in_flight`` messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.delivery.config import Priority
from bot.delivery.counters import MESSAGES_PREFIX
from bot.delivery.keys import DeliveryKeys

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    """The final state of one chat for one alert (also the counter field it increments)."""

    SENT = "sent"
    BLOCKED = "blocked"  # marked inactive: blocked the bot, deactivated, chat not found, kicked
    FAILED = "failed"  # network errors / 5xx beyond the retry limit
    BAD_REQUEST = "bad_request"  # Telegram refused the message for this chat (not retried)
    SKIPPED = "skipped"  # left (or changed preference) before its turn came


#: Lua: mark an alert done once it is fully expanded and every queued chat has an outcome, and
#: retire its batch stream from the active alerts.  Called with the alert hash, its outcomes
#: hash, ``now`` (seconds string), ``ttl`` (outcomes retention, seconds), its batch stream, the
#: active set of its priority and its id.  The stream is not deleted but left to expire after
#: ``FINISHED_STREAM_TTL`` seconds: a worker that read the active set a moment ago may still be
#: about to read (or ack) it, and a stream vanishing under a blocked XREADGROUP is an error there.
FINISHED_STREAM_TTL = 3600
FINISH_FUNCTION = """
local function retire(batches, active, id)
  redis.call('ZREM', active, id)
  redis.call('EXPIRE', batches, STREAM_TTL)
end
local function finish(alert, outcomes, now, ttl, batches, active, id)
  local v = redis.call('HMGET', alert, 'expanded', 'state', 'queued', 'sent', 'blocked',
    'failed', 'bad_request', 'skipped')
  if not v[2] then
    retire(batches, active, id)  -- the alert record is gone: nothing more will be sent
    return {0}
  end
  if v[1] ~= '1' or v[2] == 'done' then return {0} end
  local done = 0
  for i = 4, 8 do done = done + tonumber(v[i] or '0') end
  if done < tonumber(v[3] or '0') then return {0} end
  redis.call('HSET', alert, 'state', 'done', 'finished_at', now)
  redis.call('EXPIRE', outcomes, ttl)
  retire(batches, active, id)
  return {1, v[3], v[4], v[5], v[6], v[7], v[8]}
end
""".replace("STREAM_TTL", str(FINISHED_STREAM_TTL))

# KEYS: alert hash, outcomes hash, the batches' stream, counters, the alert's batch stream, the
# active alerts of its priority (the last two are the same stream as the third, except for
# entries drained from the shared stream of an older version)
# ARGV: group, outcomes ttl, field prefix of the outcome counters, alert id, n, then n
# pairs (chat, outcome), then batch entry ids to ack.
# Returns finish()'s answer: {1, queued, sent, blocked, failed, bad_request, skipped} or {0}.
_RECORD = (
    FINISH_FUNCTION
    + """
redis.replicate_commands()
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
local n = tonumber(ARGV[5])
local added = {}
for i = 0, n - 1 do
  local out = ARGV[7 + 2 * i]
  if redis.call('HSETNX', KEYS[2], ARGV[6 + 2 * i], out) == 1 then
    added[out] = (added[out] or 0) + 1
  end
end
for out, count in pairs(added) do
  redis.call('HINCRBY', KEYS[1], out, count)
  redis.call('HINCRBY', KEYS[4], ARGV[3] .. out, count)
end
if added['sent'] then
  redis.call('HSETNX', KEYS[1], 'first_delivery_at', now)
  redis.call('HSET', KEYS[1], 'last_delivery_at', now)
end
for i = 6 + 2 * n, #ARGV do
  redis.call('XACK', KEYS[3], ARGV[1], ARGV[i])
  redis.call('XDEL', KEYS[3], ARGV[i])
end
return finish(KEYS[1], KEYS[2], now, tonumber(ARGV[2]), KEYS[5], KEYS[6], ARGV[4])
"""
)


@dataclass(eq=False, slots=True)
class BatchTicket:
    """One batch stream entry in this worker's hands: acked when its last chat is recorded."""

    alert_id: str
    priority: Priority
    stream: str
    entry_id: str
    remaining: int
    lost: bool = False


@dataclass(slots=True)
class _Item:
    ticket: BatchTicket
    chat_id: int
    outcome: Outcome
    future: asyncio.Future[None] | None


@dataclass(slots=True)
class _Flush:
    """One script call: outcomes of one alert plus the batches they complete."""

    ticket: BatchTicket
    pairs: list[str] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    futures: list[asyncio.Future[None]] = field(default_factory=list)


def log_finished(alert_id: str, result: list[object]) -> None:
    """The end-of-alert log line, from a finish() answer."""
    queued, sent, blocked, failed, bad, skipped = (int(str(x)) for x in result[1:7])
    logger.info(
        "alert %s finished: %d chats, %d sent, %d inactive, %d failed, %d refused, %d skipped",
        alert_id,
        queued,
        sent,
        blocked,
        failed,
        bad,
        skipped,
    )


class Recorder:
    """Group-commits outcomes and batch acks; ``record`` resolves once they are in Redis."""

    def __init__(
        self,
        redis: Redis,
        keys: DeliveryKeys,
        *,
        ttl_days: int,
        on_outcome: Callable[[Outcome], None],
    ) -> None:
        self._keys = keys
        self._group = keys.consumer_group
        self._ttl = ttl_days * 86400
        self._on_outcome = on_outcome
        self._script = redis.register_script(_RECORD)
        self._pending: list[_Item] = []
        self._acks: list[BatchTicket] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._give_up_at: float | None = None

    def record(self, ticket: BatchTicket, chat_id: int, outcome: Outcome) -> asyncio.Future[None]:
        """Queue an outcome; the returned future resolves when it is durable."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(ticket, chat_id, outcome, future))
        self._idle.clear()
        self._wake.set()
        return future

    def ack_empty(self, ticket: BatchTicket) -> None:
        """Acknowledge a batch with nothing left to send (all chats already had outcomes)."""
        self._acks.append(ticket)
        self._idle.clear()
        self._wake.set()

    def close(self, timeout: float) -> None:
        """Let ``run`` return once everything is written (or after ``timeout`` of failures)."""
        self._give_up_at = time.monotonic() + timeout
        self._wake.set()

    async def run(self) -> None:
        """Write queued outcomes until closed; Redis errors are retried, never dropped."""
        while True:
            if self._give_up_at is not None and self._idle.is_set():
                return
            await self._wake.wait()
            self._wake.clear()
            flushes = self._take()
            for flush in flushes:
                if not await self._write(flush):
                    return
            if not self._pending and not self._acks:
                self._idle.set()

    def _take(self) -> list[_Flush]:
        items, self._pending = self._pending, []
        empties, self._acks = self._acks, []
        flushes: dict[tuple[str, str], _Flush] = {}
        for item in items:
            key = (item.ticket.alert_id, item.ticket.stream)
            flush = flushes.setdefault(key, _Flush(item.ticket))
            flush.pairs += [str(item.chat_id), item.outcome.value]
            item.ticket.remaining -= 1
            if item.ticket.remaining == 0:
                flush.acks.append(item.ticket.entry_id)
            if item.future is not None:
                flush.futures.append(item.future)
            self._on_outcome(item.outcome)
        for ticket in empties:
            key = (ticket.alert_id, ticket.stream)
            flushes.setdefault(key, _Flush(ticket)).acks.append(ticket.entry_id)
        return list(flushes.values())

    async def _write(self, flush: _Flush) -> bool:
        keys = self._keys
        ticket = flush.ticket
        # The counters are named ``messages_field(outcome)``: the script appends the outcome.
        args: list[str | int] = [
            self._group,
            self._ttl,
            MESSAGES_PREFIX,
            ticket.alert_id,
            len(flush.pairs) // 2,
        ]
        args += flush.pairs
        args += flush.acks
        delay = 0.05
        while True:
            try:
                result = await self._script(
                    keys=[
                        keys.alert(ticket.alert_id),
                        keys.alert_outcomes(ticket.alert_id),
                        ticket.stream,
                        keys.counters,
                        keys.alert_batches(ticket.priority.value, ticket.alert_id),
                        keys.active_alerts(ticket.priority.value),
                    ],
                    args=args,
                )
                break
            except Exception as exc:
                # Any error is retried (RedisError quietly): the senders wait on these outcomes,
                # so giving up here would stall the worker rather than end it cleanly.
                if self._give_up_at is not None and time.monotonic() > self._give_up_at:
                    logger.error("stopping with %d outcomes unrecorded", len(flush.pairs) // 2)
                    return False
                if isinstance(exc, RedisError):
                    logger.warning("recording outcomes failed (%s); retrying", type(exc).__name__)
                else:
                    logger.exception("recording outcomes failed; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        for future in flush.futures:
            if not future.done():
                future.set_result(None)
        if result and int(result[0]) == 1:
            log_finished(ticket.alert_id, result)
        return True
