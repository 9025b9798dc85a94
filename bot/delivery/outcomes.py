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
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from bot.delivery.config import Priority
from bot.delivery.counters import EDITS_PREFIX, MESSAGES_PREFIX, UPDATES_PREFIX
from bot.delivery.keys import DeliveryKeys

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    """The final state of one chat for one alert or action (also the counter field it moves)."""

    SENT = "sent"
    BLOCKED = "blocked"  # marked inactive: blocked the bot, deactivated, chat not found, kicked
    FAILED = "failed"  # network errors / 5xx beyond the retry limit
    BAD_REQUEST = "bad_request"  # Telegram refused the message for this chat (not retried)
    SKIPPED = "skipped"  # left (or changed preference) before its turn came; not reachable
    # Edits (corrections, retractions) of a message already delivered:
    EDITED = "edited"  # the message now shows the newest revision
    UNCHANGED = "unchanged"  # it already did ("message is not modified", or edited meanwhile)
    GONE = "gone"  # the reader deleted it ("message to edit not found")
    UNSENT = "unsent"  # the alert had not reached this chat: it gets the newest text directly


#: Outcomes that leave the chat's message showing the revision the edit sent.
SHOWS_REVISION = (Outcome.EDITED, Outcome.UNCHANGED)


class UnitKind(StrEnum):
    """What a delivery unit (one record, one batch stream) sends to each of its chats."""

    ALERT = "alert"  # the alert itself (sendMessage); its record is the alert hash
    EDIT = "edit"  # a correction or retraction (editMessageText of each delivered alert)
    REPLY = "reply"  # an update (sendMessage replying to each delivered alert)


#: The counter prefix (``delivery:counters``) of each kind of unit's outcomes.
UNIT_PREFIXES = {
    UnitKind.ALERT: MESSAGES_PREFIX,
    UnitKind.EDIT: EDITS_PREFIX,
    UnitKind.REPLY: UPDATES_PREFIX,
}


#: Lua: mark a unit (an alert or an action) done once it is fully expanded and every queued chat
#: has an outcome, and retire its batch stream from the active alerts.  Called with the unit
#: hash, its outcomes hash, ``now`` (seconds string), ``ttl`` (outcomes retention, seconds), its
#: batch stream, the active set of its priority, its id, and its chats list ('' for an action,
#: whose list is its alert's).  The stream is not deleted but left to expire after
#: ``FINISHED_STREAM_TTL`` seconds: a worker that read the active set a moment ago may still be
#: about to read (or ack) it, and a stream vanishing under a blocked XREADGROUP is an error there.
FINISHED_STREAM_TTL = 3600
FINISH_FUNCTION = """
local function retire(batches, active, id)
  redis.call('ZREM', active, id)
  redis.call('EXPIRE', batches, STREAM_TTL)
end
local function finish(alert, outcomes, now, ttl, batches, active, id, chats)
  local v = redis.call('HMGET', alert, 'expanded', 'state', 'queued', 'sent', 'blocked',
    'failed', 'bad_request', 'skipped', 'fixed', 'edited', 'unchanged', 'gone', 'unsent')
  if not v[2] then
    retire(batches, active, id)  -- the alert record is gone: nothing more will be sent
    return {0}
  end
  if v[1] ~= '1' or v[2] == 'done' then return {0} end
  local done = 0
  for i = 4, 13 do done = done + tonumber(v[i] or '0') end
  if done < tonumber(v[3] or '0') then return {0} end
  redis.call('HSET', alert, 'state', 'done', 'finished_at', now)
  redis.call('EXPIRE', outcomes, ttl)
  if chats ~= '' then redis.call('EXPIRE', chats, ttl) end
  retire(batches, active, id)
  return {1, v[3], v[4], v[5], v[6], v[7], v[8]}
end
""".replace("STREAM_TTL", str(FINISHED_STREAM_TTL))

# KEYS: 1 unit hash, 2 unit outcomes, 3 the batches' stream, 4 counters, 5 the unit's batch
# stream, 6 the active units of its priority (5 and 6: the same stream as 3, except for entries
# drained from the shared stream of an older version), 7 the message-id ledger (the alert's
# outcomes: KEYS[2] for an alert, its alert's for an action), 8 the alert hash (KEYS[1] for an
# alert), 9 the alert's chats list
# ARGV: 1 group, 2 outcomes ttl, 3 counter prefix, 4 unit id, 5 n, 6 unit kind, 7 counter prefix
# of catch-up edits, 8 the n items of 4 fields (chat, outcome, message id, revision) as one
# comma-separated string (redis-py encodes every argument in Python, which costs more than
# splitting one string here), then acks: a batch entry id, or for a catch-up edit
# "F<entry id>:<chat>:<outcome>:<revision>".
#
# An alert's sent chat is stored as "<message id>/<revision shown>" (the ledger). A chat sent a
# revision older than the alert's current one (a correction landed while its message was on the
# way) gets a catch-up edit queued in the alert's own stream, counted in ``queued``: the alert
# is done only when every reader shows the newest text. A catch-up counts (``fixed``) when its
# entry is acknowledged, so replays count it once.
# Returns finish()'s answer: {1, queued, sent, blocked, failed, bad_request, skipped} or {0}.
_RECORD = (
    FINISH_FUNCTION
    + """
redis.replicate_commands()
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
local n = tonumber(ARGV[5])
local kind = ARGV[6]
if redis.call('EXISTS', KEYS[1]) == 0 then
  -- The unit's record is gone (deleted by hand, or a Redis restarted without persistence):
  -- ack its entries, record nothing, and do not bring a partial record back to life.
  for i = 9, #ARGV do
    local ack = ARGV[i]
    if string.sub(ack, 1, 1) == 'F' then ack = string.match(ack, '^F([^:]+):') end
    redis.call('XACK', KEYS[3], ARGV[1], ack)
    redis.call('XDEL', KEYS[3], ack)
  end
  return {0}
end
local current = tonumber(redis.call('HGET', KEYS[8], 'rev') or '0')
local added = {}
local stale = {}
local function shows(chat, rev)
  if rev == '' then return end
  local v = redis.call('HGET', KEYS[7], chat)
  if not v then return end
  local m, r = string.match(v, '^(%d+)/(%d+)$')
  if m and tonumber(r) < tonumber(rev) then redis.call('HSET', KEYS[7], chat, m .. '/' .. rev) end
end
local fields = {}
if n > 0 then
  for f in string.gmatch(ARGV[8] .. ',', '([^,]*),') do fields[#fields + 1] = f end
end
for i = 0, n - 1 do
  local chat, out = fields[1 + 4 * i], fields[2 + 4 * i]
  local mid, rev = fields[3 + 4 * i], fields[4 + 4 * i]
  local value = out
  local ledger = kind == 'alert' and out == 'sent' and mid ~= '' and rev ~= ''
  if ledger then value = mid .. '/' .. rev end
  if redis.call('HSETNX', KEYS[2], chat, value) == 1 then
    added[out] = (added[out] or 0) + 1
    if ledger and tonumber(rev) < current then
      stale[#stale + 1] = chat
    end
  end
  if kind == 'edit' and (out == 'edited' or out == 'unchanged') then shows(chat, rev) end
end
for out, count in pairs(added) do
  redis.call('HINCRBY', KEYS[1], out, count)
  redis.call('HINCRBY', KEYS[4], ARGV[3] .. out, count)
end
if added['sent'] or added['edited'] then
  redis.call('HSETNX', KEYS[1], 'first_delivery_at', now)
  redis.call('HSET', KEYS[1], 'last_delivery_at', now)
end
local fixed = 0
for i = 9, #ARGV do
  local ack = ARGV[i]
  if string.sub(ack, 1, 1) == 'F' then
    local id, chat, out, rev = string.match(ack, '^F([^:]+):([^:]+):([^:]+):([^:]*)$')
    if redis.call('XACK', KEYS[3], ARGV[1], id) == 1 then
      fixed = fixed + 1
      redis.call('HINCRBY', KEYS[4], ARGV[7] .. out, 1)
      if (out == 'edited' or out == 'unchanged') and rev ~= '' then
        shows(chat, rev)
        if tonumber(rev) < current then stale[#stale + 1] = chat end
      end
    end
    redis.call('XDEL', KEYS[3], id)
  else
    redis.call('XACK', KEYS[3], ARGV[1], ack)
    redis.call('XDEL', KEYS[3], ack)
  end
end
if fixed > 0 then redis.call('HINCRBY', KEYS[1], 'fixed', fixed) end
if #stale > 0 then
  if redis.call('EXISTS', KEYS[5]) == 0 then
    redis.call('XGROUP', 'CREATE', KEYS[5], ARGV[1], '0', 'MKSTREAM')
  end
  redis.call('ZADD', KEYS[6], 'NX', now, ARGV[4])
  for _, chat in ipairs(stale) do
    redis.call('XADD', KEYS[5], '*', 'alert', ARGV[4], 'chats', chat, 'fix', '1')
  end
  redis.call('HINCRBY', KEYS[1], 'queued', #stale)
end
local chats = ''
if kind == 'alert' then chats = KEYS[9] end
return finish(KEYS[1], KEYS[2], now, tonumber(ARGV[2]), KEYS[5], KEYS[6], ARGV[4], chats)
"""
)


@dataclass(eq=False, slots=True)
class BatchTicket:
    """One batch stream entry in this worker's hands: acked when its last chat is recorded."""

    alert_id: str  # the unit: an alert, or an action (``<alert>.r<n>``, ``<alert>.u<n>``)
    priority: Priority
    stream: str
    entry_id: str
    remaining: int
    lost: bool = False
    kind: UnitKind = UnitKind.ALERT
    #: The alert whose message ids the unit uses (the alert itself for an alert).
    parent: str = ""
    #: A catch-up edit of an alert (one chat sent an older revision than the current one).
    fix: bool = False

    @property
    def ledger_owner(self) -> str:
        """The alert whose outcomes hash holds the message ids."""
        return self.parent or self.alert_id


@dataclass(slots=True)
class _Item:
    ticket: BatchTicket
    chat_id: int
    outcome: Outcome
    future: asyncio.Future[None] | None
    message_id: int | None = None
    revision: int | None = None


@dataclass(slots=True)
class _Flush:
    """One script call: outcomes of one unit plus the batches they complete."""

    ticket: BatchTicket
    pairs: list[str] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    futures: list[asyncio.Future[None]] = field(default_factory=list)


def outcome_event(kind: UnitKind, outcome: Outcome) -> str:
    """The metrics event of an outcome: ``sent``... for alerts, ``edit_<outcome>`` for edits
    and catch-ups, ``update_<outcome>`` for updates."""
    if kind is UnitKind.EDIT:
        return f"edit_{outcome.value}"
    if kind is UnitKind.REPLY:
        return f"update_{outcome.value}"
    return outcome.value


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


def _unrecorded() -> RedisConnectionError:
    return RedisConnectionError("outcome not recorded: the worker stopped while Redis was down")


class Recorder:
    """Group-commits outcomes and batch acks; ``record`` resolves once they are in Redis."""

    def __init__(
        self,
        redis: Redis,
        keys: DeliveryKeys,
        *,
        ttl_days: int,
        on_outcome: Callable[[UnitKind, Outcome], None],
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
        self._closing = False
        #: Set once outcomes were given up (Redis gone at a stop): later records fail at once.
        self._abandoned = False

    def record(
        self,
        ticket: BatchTicket,
        chat_id: int,
        outcome: Outcome,
        *,
        message_id: int | None = None,
        revision: int | None = None,
    ) -> asyncio.Future[None]:
        """Queue an outcome; the returned future resolves when it is durable.

        ``message_id`` (a sent alert) and ``revision`` (the revision of the alert's text the
        chat now shows) feed the message-id ledger.
        """
        future = asyncio.get_running_loop().create_future()
        if self._abandoned:
            future.set_exception(_unrecorded())
            return future
        self._pending.append(_Item(ticket, chat_id, outcome, future, message_id, revision))
        self._idle.clear()
        self._wake.set()
        return future

    def ack_empty(self, ticket: BatchTicket) -> None:
        """Acknowledge a batch with nothing left to send (all chats already had outcomes)."""
        self._acks.append(ticket)
        self._idle.clear()
        self._wake.set()

    def give_up_after(self, timeout: float) -> None:
        """A stop is under way: a write still failing ``timeout`` seconds from now is abandoned.

        Its senders' futures then fail (a ``RedisError``) instead of waiting for a Redis that
        may never come back, so the stop ends; the chats stay unacked in their batches and are
        sent again by whoever takes them over (at most the sends in flight repeat).
        """
        if self._give_up_at is None:
            self._give_up_at = time.monotonic() + timeout
        self._wake.set()

    def close(self, timeout: float) -> None:
        """Let ``run`` return once everything is written (or after ``timeout`` of failures)."""
        self.give_up_after(timeout)
        self._closing = True
        self._wake.set()

    async def run(self) -> None:
        """Write queued outcomes until closed; Redis errors are retried, never dropped."""
        while True:
            if self._closing and self._idle.is_set():
                return
            await self._wake.wait()
            self._wake.clear()
            flushes = self._take()
            for at, flush in enumerate(flushes):
                if not await self._write(flush):
                    self._abandon(flushes[at:])
                    return
            if not self._pending and not self._acks:
                self._idle.set()

    def _abandon(self, flushes: list[_Flush]) -> None:
        """Fail the futures of every outcome not written, and of any recorded from now on."""
        self._abandoned = True
        futures = [f for flush in flushes for f in flush.futures]
        futures += [item.future for item in self._pending if item.future is not None]
        self._pending = []
        for future in futures:
            if not future.done():
                future.set_exception(_unrecorded())
        self._idle.set()

    def _take(self) -> list[_Flush]:
        items, self._pending = self._pending, []
        empties, self._acks = self._acks, []
        flushes: dict[tuple[str, str], _Flush] = {}
        for item in items:
            ticket = item.ticket
            key = (ticket.alert_id, ticket.stream)
            flush = flushes.setdefault(key, _Flush(ticket))
            revision = "" if item.revision is None else str(item.revision)
            ticket.remaining -= 1
            if ticket.fix:
                # A catch-up edit (one chat per entry) is recorded with its entry's ack, so the
                # script counts it exactly once however often the entry is replayed.
                flush.acks.append(
                    f"F{ticket.entry_id}:{item.chat_id}:{item.outcome.value}:{revision}"
                )
            else:
                mid = "" if item.message_id is None else str(item.message_id)
                flush.pairs += [str(item.chat_id), item.outcome.value, mid, revision]
                if ticket.remaining == 0:
                    flush.acks.append(ticket.entry_id)
            if item.future is not None:
                flush.futures.append(item.future)
            self._on_outcome(UnitKind.EDIT if ticket.fix else ticket.kind, item.outcome)
        for ticket in empties:
            key = (ticket.alert_id, ticket.stream)
            flushes.setdefault(key, _Flush(ticket)).acks.append(ticket.entry_id)
        return list(flushes.values())

    async def _write(self, flush: _Flush) -> bool:
        keys = self._keys
        ticket = flush.ticket
        # The counters are named ``<prefix><outcome>``: the script appends the outcome.
        args: list[str | int] = [
            self._group,
            self._ttl,
            UNIT_PREFIXES[ticket.kind],
            ticket.alert_id,
            len(flush.pairs) // 4,
            ticket.kind.value,
            EDITS_PREFIX,
        ]
        args.append(",".join(flush.pairs))
        args += flush.acks
        owner = ticket.ledger_owner
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
                        keys.alert_outcomes(owner),
                        keys.alert(owner),
                        keys.alert_chats(owner),
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
