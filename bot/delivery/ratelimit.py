"""One sending budget per bot token, shared through Redis by every worker and the bot's replies.

The limiter is a GCRA ("theoretical arrival time") schedule kept in Redis and advanced by one
Lua script, with Redis' own clock so that workers on several machines agree:

* Global: slots are spaced ``1 / (rate * safety)`` apart, so no one-second window ever holds
  more than ``rate`` messages.  Broadcasts (LOW priority) may only book slots up to ``horizon``
  ahead; replies (HIGH priority) take the next free slot whatever its distance.  A reply
  therefore waits at most ``horizon`` behind a broadcast of any size.
* Per chat: private chats (positive ids) get a slot at most every ~1 s, groups and channels
  (negative ids) every ~3 s (20 per minute).  A chat that is not ready yet is reported busy
  with the time it becomes ready; the caller parks it and serves other chats meanwhile.
  Replies (HIGH) to a private chat may burst: with ``reply_burst`` = n, up to n messages at
  once, then one per spacing again (a GCRA per chat with a tolerance of n - 1 spacings).
  Broadcasts always keep the strict spacing (after a burst they wait until it is paid back).
* 429: ``penalize`` pauses the scope the error applies to for exactly ``retry_after``.  For a
  group or channel that is the chat.  For a private chat, whose spacing we already enforce,
  a 429 can only mean the bot as a whole is over budget, so the global schedule is pushed to
  ``now + retry_after`` and every sender (replies included) resumes after exactly that.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from redis.asyncio import Redis

from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys

logger = logging.getLogger(__name__)

# KEYS[1] global schedule ; KEYS[2..] one chat key per requested slot (the global key stands in
# for "no chat", e.g. an @username)
# ARGV: interval_us, horizon_us (-1: unlimited), private_us, group_us, private burst tolerance_us
# (0: strict), then the chat ids, one per slot, joined by commas (one argument: redis-py
# encodes every argument in Python, which costs more than the script).  A chat key holds the
# chat's theoretical arrival time: the chat may take a slot no later than that minus its tolerance.
# Returns {now_us, code1, time1, code2, time2, ...}: 1 = granted at time, 2 = chat busy until
# time, 3 = schedule full until time.
_ACQUIRE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local horizon = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local out = {now}
local granted = 0
local chats = {}
for c in string.gmatch(ARGV[6] .. ',', '([^,]*),') do chats[#chats + 1] = c end
for i = 2, #KEYS do
  local chat = chats[i - 1]
  if horizon >= 0 and tat > now + horizon then
    out[#out + 1] = 3
    out[#out + 1] = tat - horizon
  else
    local group = string.sub(chat, 1, 1) == '-'
    local chat_tat = 0
    local tolerance = 0
    if chat ~= '' then
      chat_tat = tonumber(redis.call('GET', KEYS[i]) or '0')
      if not group then tolerance = tonumber(ARGV[5]) end
    end
    if chat_tat - tolerance > tat then
      out[#out + 1] = 2
      out[#out + 1] = chat_tat - tolerance
    else
      if chat ~= '' then
        local spacing = tonumber(ARGV[3])
        if group then spacing = tonumber(ARGV[4]) end
        local base = tat
        if chat_tat > base then base = chat_tat end
        local ttl = math.floor((base + spacing - now) / 1000) + 1000
        redis.call('SET', KEYS[i], base + spacing, 'PX', ttl)
      end
      out[#out + 1] = 1
      out[#out + 1] = tat
      tat = tat + interval
      granted = granted + 1
    end
  end
end
if granted > 0 then
  redis.call('SET', KEYS[1], tat, 'PX', math.floor((tat - now) / 1000) + 60000)
end
return out
"""

# KEYS[1] global schedule, KEYS[2] the chat's key (or the global key again for "no chat")
# ARGV[1] pause in microseconds, ARGV[2] '1' when the whole bot is paused, '0' for the chat only
# The refused message did not count against its chat, so the chat's reservation is replaced by
# the pause end: the retry goes out exactly when the pause is over.  Returns the pause end.
_PENALIZE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local resume = now + tonumber(ARGV[1])
local ttl = math.floor(tonumber(ARGV[1]) / 1000) + 60000
if ARGV[2] == '1' and tonumber(redis.call('GET', KEYS[1]) or '0') < resume then
  redis.call('SET', KEYS[1], resume, 'PX', ttl)
end
if KEYS[2] ~= KEYS[1] then redis.call('SET', KEYS[2], resume, 'PX', ttl) end
return resume
"""

_US = 1_000_000

#: The pace, as a share of the rate: 1 % above the booked ``rate * safety`` (0.97), so the delay
#: a stall caused is paid back at 10 ms per second even while the schedule is full.
PACE = 0.98
#: How many seconds of sends the pace lets out at once after a stall.  At most
#: ``rate * PACE * (1 + BURST)`` (99 % of the rate) then leave in any sliding second; the
#: rest, 10 ms of every second, absorbs the jitter between our send and Telegram's arrival.
BURST = 0.01


class SendPace:
    """Lets the sends of one process out at ``rate * PACE`` at most, on the loop clock.

    A slot is booked ahead (up to the horizon) and its send sleeps until then.  When the event
    loop stalls (a busy machine, hundreds of answers at once), every send booked during the
    stall wakes at its end: released together, on top of the ones booked after the stall, they
    would put more than ``rate`` messages in one second as Telegram counts them (on arrival),
    and it would answer 429.  This is a GCRA on the loop clock with a tolerance of ``BURST``:
    a send on time (the common case: the schedule is 3 % under the rate) passes straight on;
    after a stall at most ``BURST`` seconds of sends leave at once and the rest wait in a queue,
    in turn, each timed from its actual release (a send given a time and then left to sleep
    again would bunch again at the next stall).  The delay they took is paid back at the 1 % the
    pace leaves over the booked rate, and at once when the schedule has gaps.  A cost: a loop
    so slow that it wakes less often than every ``BURST`` sends less than the rate (such a loop
    would bunch its sends past the limit otherwise).
    """

    def __init__(self, rate: float) -> None:
        self._spacing = 1.0 / (rate * PACE)
        self._tolerance = BURST
        self._tat = -math.inf  # the theoretical time of the next send
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def _take(self, now: float) -> bool:
        tat = self._tat if self._tat > now else now
        if tat - now > self._tolerance:
            return False
        self._tat = tat + self._spacing
        return True

    async def wait(self) -> None:
        """Return when this send may leave: in turn, within the pace.

        The caller must send right away, without awaiting anything else first.
        """
        loop = asyncio.get_running_loop()
        if not self._waiting and self._take(loop.time()):
            return
        turn = loop.create_future()
        self._waiting.append(turn)
        if self._timer is None:
            self._timer = loop.call_at(self._tat - self._tolerance, self._release)
        await turn

    def _release(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = None
        now = loop.time()
        waiting = self._waiting
        while waiting:
            if waiting[0].done():  # a cancelled waiter gives up its turn
                waiting.popleft()
            elif self._take(now):
                waiting.popleft().set_result(None)
            else:
                break
        if waiting:
            self._timer = loop.call_at(self._tat - self._tolerance, self._release)


class RatePriority(IntEnum):
    """Who is asking: a reader's reply goes before any broadcast."""

    HIGH = 0
    LOW = 1


class GrantKind(IntEnum):
    """What the limiter answered for one requested slot."""

    GRANTED = 1
    CHAT_BUSY = 2
    SCHEDULE_FULL = 3


@dataclass(frozen=True, slots=True)
class Grant:
    """A slot (send after ``delay`` seconds) or a refusal (ask again after ``delay``)."""

    kind: GrantKind
    delay: float
    at_us: int = 0  # the slot (or retry) time on Redis' clock, in microseconds

    @property
    def granted(self) -> bool:
        """Whether the message may be sent after ``delay``."""
        return self.kind is GrantKind.GRANTED


class RateLimiter:
    """The shared Redis schedule: book slots for chats, and pause scopes after a 429."""

    def __init__(self, redis: Redis, keys: DeliveryKeys, config: DeliveryConfig) -> None:
        self._keys = keys
        self._interval_us = max(1, round(_US / (config.rate * config.rate_safety)))
        self._horizon_us = round(config.horizon * _US)
        self._private_us = round(config.private_spacing * _US)
        self._group_us = round(config.group_spacing * _US)
        self._reply_tolerance_us = max(0, config.reply_burst - 1) * self._private_us
        self._acquire = redis.register_script(_ACQUIRE)
        self._penalize = redis.register_script(_PENALIZE)
        #: The pace of this process's sends, shared by its workers (they share one event loop).
        self.pace = SendPace(config.rate)

    async def acquire(
        self, chat_ids: Sequence[int | None], priority: RatePriority = RatePriority.LOW
    ) -> list[Grant]:
        """Book one slot per chat (``None``: global budget only), in order, in one round trip."""
        if not chat_ids:
            return []
        keys = [self._keys.rate_global]
        keys.extend(
            self._keys.rate_chat(c) if c is not None else self._keys.rate_global for c in chat_ids
        )
        high = priority is RatePriority.HIGH
        args: list[int | str] = [
            self._interval_us,
            -1 if high else self._horizon_us,
            self._private_us,
            self._group_us,
            self._reply_tolerance_us if high else 0,
        ]
        args.append(",".join("" if c is None else str(c) for c in chat_ids))
        raw = await self._acquire(keys=keys, args=args)
        now = int(raw[0])
        return [
            Grant(GrantKind(int(raw[i])), max(0.0, (int(raw[i + 1]) - now) / _US), int(raw[i + 1]))
            for i in range(1, len(raw), 2)
        ]

    async def penalize(self, chat_id: int | str | None, retry_after: float) -> float:
        """Pause the scope a 429 applies to for exactly ``retry_after`` seconds; returns it."""
        chat_key = self._keys.rate_chat(chat_id) if isinstance(chat_id, int) else None
        whole_bot = not (isinstance(chat_id, int) and chat_id < 0)
        await self._penalize(
            keys=[self._keys.rate_global, chat_key or self._keys.rate_global],
            args=[max(0, math.ceil(retry_after * _US)), "1" if whole_bot else "0"],
        )
        return retry_after

    async def wait_for_slot(
        self, chat_id: int | None, priority: RatePriority = RatePriority.HIGH
    ) -> None:
        """Sleep until this process may send one message to ``chat_id`` (used for replies)."""
        while True:
            (grant,) = await self.acquire([chat_id], priority)
            if grant.delay > 0:
                await asyncio.sleep(grant.delay)
            if grant.granted:
                return
