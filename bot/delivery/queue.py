"""The durable queue: job and batch streams, one consumer group, and alert expansion.

``jobs:<priority>`` holds one entry per published alert.  A worker that reads a job *expands*
it: it pages through the audience (a sorted set of chat ids, so the page cursor is just the
last chat id) and appends batch entries of ~100 chat ids to the alert's own stream,
``batches:<priority>:<alert>``.  Each step writes its batches, advances the cursor and bumps
the queued count in one script, guarded by the expected cursor, so a crash (or two workers
racing for the same job) can neither skip nor duplicate a chat.  The job entry is acknowledged
by the step that finds the audience exhausted.  Expansion only runs ahead of sending by
``expand_lag`` unread batches per alert: Redis memory stays bounded however large the audience.

One stream per alert is what lets alerts of the same priority interleave: the first step of an
alert creates its stream (and the group on it) and lists the alert in ``active:<priority>``;
workers read from every active alert of a priority, so a new alert's batches never queue behind
the look-ahead of the alerts before it.  The step or outcome that finishes an alert takes it
off the active list and leaves its empty stream to expire.

Entries stay in their consumer's pending list until acknowledged; a worker refreshes the
entries it holds, and takes over entries that nobody touched for ``claim_idle`` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.delivery.codec import as_text
from bot.delivery.config import PRIORITIES, DeliveryConfig, Priority
from bot.delivery.keys import DeliveryKeys
from bot.delivery.outcomes import FINISH_FUNCTION, FINISHED_STREAM_TTL, UnitKind, log_finished
from bot.models import Audience
from bot.store import SubscriberStore

logger = logging.getLogger(__name__)

# KEYS: alert hash, the alert's batch stream, jobs stream, outcomes hash, active alerts, the
#       alert's chats list (an action: its alert's)
# ARGV: group, job entry id, expected cursor, new cursor, last page (0/1), alert id,
#       outcomes ttl, 1 when the unit is an alert (its batches join its chats list; an action
#       pages through its alert's), then pairs (batch size, comma-separated chat ids)
# Returns {code, started, finish...}: code 1 = expanded, 2 = already expanded (job acked),
# -1 = cursor moved (another worker expands it), -2 = alert record gone (job dropped).
_EXPAND = (
    FINISH_FUNCTION
    + """
redis.replicate_commands()
local state = redis.call('HGET', KEYS[1], 'state')
if not state or redis.call('HGET', KEYS[1], 'expanded') == '1' then
  redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[3], ARGV[2])
  if not state then
    retire(KEYS[2], KEYS[5], ARGV[6])
    return {-2, 0}
  end
  return {2, 0}
end
if (redis.call('HGET', KEYS[1], 'cursor') or '') ~= ARGV[3] then return {-1, 0} end
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
local started = 0
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'expanding', 'started_at', now)
  started = 1
end
if #ARGV > 8 then
  -- The stream and its group are born with the alert's first batches.  PERSIST: an alert
  -- re-published after its record was deleted may find its old stream still set to expire.
  if redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')
  else
    redis.call('PERSIST', KEYS[2])
  end
  redis.call('ZADD', KEYS[5], 'NX', now, ARGV[6])
end
local queued = 0
for i = 9, #ARGV, 2 do
  redis.call('XADD', KEYS[2], '*', 'alert', ARGV[6], 'chats', ARGV[i + 1])
  -- The ledger's order: corrections and updates page through it as the alert was expanded.
  if ARGV[8] == '1' then redis.call('RPUSH', KEYS[6], ARGV[i + 1]) end
  queued = queued + tonumber(ARGV[i])
end
if queued > 0 then redis.call('HINCRBY', KEYS[1], 'queued', queued) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'cursor', ARGV[4]) end
if ARGV[5] ~= '1' then return {1, started} end
redis.call('HSET', KEYS[1], 'expanded', '1')
if state ~= 'done' then redis.call('HSET', KEYS[1], 'state', 'sending') end
redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[3], ARGV[2])
local chats = ''
if ARGV[8] == '1' then chats = KEYS[6] end
local f = finish(KEYS[1], KEYS[4], now, tonumber(ARGV[7]), KEYS[2], KEYS[5], ARGV[6], chats)
return {1, started, unpack(f)}
"""
)

# KEYS[1] stream ; ARGV: group, consumer, ids...  Resets the idle time of the entries this
# consumer still owns; returns the ids it no longer owns (taken over by another worker, or the
# stream of a finished alert expired).
_REFRESH = """
local lost = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 3, #ARGV do lost[#lost + 1] = ARGV[i] end
  return lost
end
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #p == 0 then
    lost[#lost + 1] = ARGV[i]
  else
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  end
end
return lost
"""


# KEYS[1] stream ; ARGV: group, dead consumer, this consumer, count.  Moves up to ``count``
# entries still pending for the dead consumer to this one, atomically (two workers taking over
# the same dead one never both get an entry); returns them as XCLAIM does.
_TAKE_FROM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[4]), ARGV[2])
local ids = {}
for _, p in ipairs(pending) do ids[#ids + 1] = p[1] end
if #ids == 0 then return {} end
return redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, unpack(ids))
"""

# KEYS[1] stream ; ARGV[1] group.  Entries nobody has read yet (length minus pending); 0 for
# an alert whose stream does not exist yet (or expired).
_LAG = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local p = redis.call('XPENDING', KEYS[1], ARGV[1])
return redis.call('XLEN', KEYS[1]) - p[1]
"""

#: Most active alerts of one priority a worker reads from (oldest first); more would make
#: every read long.  Alerts beyond it wait for older ones to finish.
_ACTIVE_MAX = 64


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry read through the consumer group."""

    stream: str
    entry_id: str
    fields: dict[str, str]
    priority: Priority


@dataclass(frozen=True, slots=True)
class ExpandResult:
    """What one expansion step did."""

    done: bool  # the job is finished (expanded completely, or dropped)
    moved: bool  # another worker advanced the cursor first
    waiting: bool = False  # nothing to expand yet (an update waits for its alert's outcomes)


@dataclass(frozen=True, slots=True)
class ExpansionStep:
    """An expansion step read but not written yet: the cursor it saw and the chats after it."""

    job: Entry
    priority: Priority
    alert_id: str
    cursor: str  # "" before the first step
    chats: tuple[int, ...]
    last: bool  # the page is the audience's end
    #: An action pages through its alert's chats list: the batches as they are, the cursor is
    #: the list index (``None`` for an alert, which pages through its audience).
    batches: tuple[str, ...] | None = None
    parent: str = ""
    waiting: bool = False


def _entries(response: Any, priorities: Mapping[str, Priority]) -> list[Entry]:
    """Flatten an XREADGROUP answer (RESP2 list or RESP3 dict) into entries."""
    items = response.items() if isinstance(response, dict) else (response or [])
    out: list[Entry] = []
    for stream, messages in items:
        # RESP3 nests the message list one level deeper.
        rows = messages[0] if messages and isinstance(messages[0], list) else messages
        name = str(stream)
        for entry_id, fields in rows:
            if fields is not None:
                out.append(Entry(name, str(entry_id), dict(fields), priorities[name]))
    return out


def _pairs(flat: list[Any]) -> dict[str, str]:
    """``[k1, v1, k2, v2, ...]`` as a dict of text."""
    return {as_text(k): as_text(v) for k, v in zip(flat[::2], flat[1::2], strict=True)}


class Queues:
    """Stream and consumer-group operations for one consumer (one worker)."""

    def __init__(
        self,
        redis: Redis,
        keys: DeliveryKeys,
        subscribers: SubscriberStore,
        config: DeliveryConfig,
        consumer: str,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._subscribers = subscribers
        self._config = config
        self.consumer = consumer
        self.group = keys.consumer_group
        self._expand = self._redis.register_script(_EXPAND)
        self._refresh = self._redis.register_script(_REFRESH)
        self._lag = self._redis.register_script(_LAG)
        self._take_from = self._redis.register_script(_TAKE_FROM)

    def jobs(self, priority: Priority) -> str:
        """The jobs stream of a priority."""
        return self._keys.jobs_stream(priority.value)

    def batches(self, priority: Priority, alert_id: str) -> str:
        """The batch stream of one alert."""
        return self._keys.alert_batches(priority.value, alert_id)

    def shared_batches(self, priority: Priority) -> str:
        """The batch stream all alerts of a priority shared before per-alert streams.

        Nothing writes it any more; workers still drain it, so batches queued by an older
        version before an upgrade are delivered too.
        """
        return self._keys.batches_stream(priority.value)

    def fixed_streams(self) -> dict[str, Priority]:
        """The streams that always exist (jobs, shared batches), most urgent first."""
        return {s: p for p in PRIORITIES for s in (self.jobs(p), self.shared_batches(p))}

    def job_streams(self) -> dict[str, Priority]:
        """The jobs streams, most urgent first."""
        return {self.jobs(p): p for p in PRIORITIES}

    async def active(self, priority: Priority) -> list[str]:
        """Ids of the alerts of a priority being sent (with a batch stream), oldest first."""
        ids = await self._redis.zrange(self._keys.active_alerts(priority.value), 0, _ACTIVE_MAX - 1)
        return [as_text(i) for i in ids]

    async def batch_streams(self) -> dict[str, Priority]:
        """Every batch stream with work, most urgent first (the shared ones included)."""
        streams: dict[str, Priority] = {}
        for priority in PRIORITIES:
            streams[self.shared_batches(priority)] = priority
            for alert_id in await self.active(priority):
                streams[self.batches(priority, alert_id)] = priority
        return streams

    async def ensure_groups(self) -> None:
        """Create the consumer group on the fixed streams; from id 0 so nothing is missed.

        (An alert's own stream gets its group from the script that creates the stream.)
        """
        for stream in self.fixed_streams():
            try:
                await self._redis.xgroup_create(stream, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def read(
        self, streams: Mapping[str, Priority], count: int, block_ms: int | None = None
    ) -> list[Entry]:
        """New entries for this consumer, up to ``count`` from each stream."""
        if not streams:
            return []
        try:
            response = await self._redis.xreadgroup(
                self.group, self.consumer, {s: ">" for s in streams}, count=count, block=block_ms
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis lost a fixed stream's group (recreate it), or an alert's stream expired
            # after the caller listed it (the next listing no longer has it).
            await self.ensure_groups()
            return []
        return _entries(response, streams)

    async def claim_idle(self, stream: str, priority: Priority, count: int) -> list[Entry]:
        """Take over entries idle longer than ``claim_idle`` (their worker is gone)."""
        min_idle = int(self._config.claim_idle * 1000)
        try:
            response = await self._redis.xautoclaim(
                stream, self.group, self.consumer, min_idle, "0-0", count=count
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self.ensure_groups()
            return []
        claimed = response[1] if len(response) > 1 else []
        return [
            Entry(stream, str(entry_id), dict(fields), priority)
            for entry_id, fields in claimed
            if entry_id is not None and fields is not None
        ]

    async def take_from(
        self, stream: str, priority: Priority, dead: str, count: int
    ) -> list[Entry]:
        """Take over up to ``count`` entries a dead worker (no heartbeat) still holds."""
        try:
            claimed = await self._take_from(
                keys=[stream], args=[self.group, dead, self.consumer, count]
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            return []
        # A script's answer is Redis' raw reply: each entry's fields come as a flat list.
        return [
            Entry(stream, as_text(entry_id), _pairs(fields), priority)
            for entry_id, fields in claimed
            if entry_id is not None and fields
        ]

    async def refresh(self, stream: str, entry_ids: list[str]) -> list[str]:
        """Keep entries we are working on from looking abandoned; returns those we lost."""
        if not entry_ids:
            return []
        lost = await self._refresh(keys=[stream], args=[self.group, self.consumer, *entry_ids])
        return [str(x) for x in lost]

    async def release(self, stream: str, entry_ids: list[str]) -> None:
        """On a graceful stop: make held entries claimable by other workers at once."""
        if entry_ids:
            idle = int(self._config.claim_idle * 1000) + 1000
            ids: list[int | bytes | str | memoryview] = list(entry_ids)
            try:
                await self._redis.xclaim(
                    stream, self.group, self.consumer, 0, ids, idle=idle, justid=True
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):  # the stream of a finished alert expired
                    raise

    async def forget_idle_consumers(self, idle_seconds: float) -> None:
        """Remove consumers (dead workers) idle that long and holding nothing from the group.

        Only the fixed streams keep consumers for long: an alert's stream expires with them.
        """
        for stream in self.fixed_streams():
            for consumer in await self._redis.xinfo_consumers(stream, self.group):
                name = as_text(consumer.get("name", ""))
                idle_ms = int(consumer.get("idle", 0))
                if int(consumer.get("pending", 1)) == 0 and idle_ms > idle_seconds * 1000:
                    await self._redis.xgroup_delconsumer(stream, self.group, name)

    async def sweep_active(self) -> int:
        """Take finished (or deleted) alerts off the active lists; returns how many.

        Finishing an alert does this already; this catches alerts finished by a worker of an
        older version during an upgrade, which knows nothing of the active lists.
        """
        swept = 0
        for priority in PRIORITIES:
            ids = await self.active(priority)
            async with self._redis.pipeline(transaction=False) as pipe:
                for alert_id in ids:
                    pipe.hget(self._keys.alert(alert_id), "state")
                states = await pipe.execute()
            over = [a for a, state in zip(ids, states, strict=True) if state in (None, "done")]
            if over:
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.zrem(self._keys.active_alerts(priority.value), *over)
                    for alert_id in over:
                        pipe.expire(self.batches(priority, alert_id), FINISHED_STREAM_TTL)
                    await pipe.execute()
            swept += len(over)
        return swept

    async def lag(self, stream: str) -> int:
        """Entries not yet read by any worker (length minus pending)."""
        return int(await self._lag(keys=[stream], args=[self.group]))

    async def expand(self, job: Entry) -> ExpandResult:
        """Append the next chunk of an alert's audience as batches (one atomic step)."""
        return await self.write_step(await self.read_step(job))

    def job_batches(self, job: Entry) -> str:
        """The batch stream a job expands into."""
        return self.batches(job.priority, job.fields.get("alert", ""))

    async def read_step(self, job: Entry) -> ExpansionStep:
        """The first half of a step: the cursor, and the audience page after it."""
        alert_id = job.fields.get("alert", "")
        raw = await self._redis.hmget(
            self._keys.alert(alert_id), ["audience", "cursor", "kind", "parent"]
        )
        audience_raw, cursor, kind, parent = (None if v is None else as_text(v) for v in raw)
        if kind in (UnitKind.EDIT.value, UnitKind.REPLY.value) and parent:
            return await self._action_step(job, alert_id, cursor or "", UnitKind(kind), parent)
        audience = Audience(audience_raw) if audience_raw in {a.value for a in Audience} else None
        chunk = self._config.batch_size * self._config.expand_chunk
        ids: list[int] = []
        if audience is not None:
            after = int(cursor) if cursor else None
            ids = await self._subscribers.page(audience, after=after, count=chunk)
        last = len(ids) < chunk
        return ExpansionStep(job, job.priority, alert_id, cursor or "", tuple(ids), last)

    async def _action_step(
        self, job: Entry, action_id: str, cursor: str, kind: UnitKind, parent: str
    ) -> ExpansionStep:
        """A step of an action: the next batches of its alert's chats list, in order.

        An edit takes whatever the alert has expanded so far: chats expanded later are sent the
        newest text directly. An update only takes batches every chat of which has its alert
        outcome (it replies to the alert's message, which must exist first), and ends once the
        alert is done: so it trails an alert still going out instead of missing its readers.
        """
        keys = self._keys
        start = int(cursor) if cursor.isdigit() else 0
        want = self._config.expand_chunk
        raw = await self._redis.lrange(keys.alert_chats(parent), start, start + want - 1)
        batches = [as_text(b) for b in raw]
        last = len(batches) < want
        if kind is UnitKind.REPLY:
            state = await self._redis.hget(keys.alert(parent), "state")
            parent_done = state is None or as_text(state) == "done"
            if not parent_done:
                ready: list[str] = []
                async with self._redis.pipeline(transaction=False) as pipe:
                    for batch in batches:
                        pipe.hmget(keys.alert_outcomes(parent), batch.split(","))
                    answers = await pipe.execute()
                for batch, outcomes in zip(batches, answers, strict=True):
                    if any(o is None for o in outcomes):
                        break
                    ready.append(batch)
                batches, last = ready, False
        chats = tuple(int(c) for b in batches for c in b.split(",") if c)
        return ExpansionStep(
            job,
            job.priority,
            action_id,
            cursor,
            chats,
            last,
            batches=tuple(batches),
            parent=parent,
            waiting=not batches and not last,
        )

    async def write_step(self, step: ExpansionStep) -> ExpandResult:
        """The second half: queue the page's batches, unless the cursor moved meanwhile."""
        if step.waiting:
            return ExpandResult(done=False, moved=False, waiting=True)
        keys = self._keys
        alert_id, ids, size = step.alert_id, step.chats, self._config.batch_size
        if step.batches is not None:
            start = int(step.cursor) if step.cursor.isdigit() else 0
            new_cursor = str(start + len(step.batches))
        else:
            new_cursor = str(ids[-1]) if ids else ""
        args: list[str | int] = [
            self.group,
            step.job.entry_id,
            step.cursor,
            new_cursor,
            "1" if step.last else "0",
            alert_id,
            self._config.outcomes_ttl_days * 86400,
            "0" if step.batches is not None else "1",
        ]
        if step.batches is not None:
            for batch in step.batches:
                args += [batch.count(",") + 1, batch]
        else:
            for start in range(0, len(ids), size):
                part = ids[start : start + size]
                args += [len(part), ",".join(map(str, part))]
        result = await self._expand(
            keys=[
                keys.alert(alert_id),
                self.batches(step.priority, alert_id),
                step.job.stream,
                keys.alert_outcomes(alert_id),
                keys.active_alerts(step.priority.value),
                keys.alert_chats(step.parent or alert_id),
            ],
            args=args,
        )
        code = int(result[0])
        if code == 1 and int(result[1]) == 1:
            logger.info("alert %s started (%s)", alert_id, step.priority)
        if code == 1 and len(result) > 2 and int(result[2]) == 1:
            log_finished(alert_id, list(result[2:]))
        if code == -2:
            logger.warning("alert %s: job dropped, its record is gone", alert_id)
        return ExpandResult(done=code in (2, -2) or (code == 1 and step.last), moved=code == -1)
