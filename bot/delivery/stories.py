"""Living stories: queue the correction, retraction or update of an alert already sent.

Each is an *action* of the alert, delivered like an alert (its own record under the alert keys,
a job, a batch stream, an exactly-once outcome per chat) over the chats the alert reached:

* a correction adds the alert's next *revision* (its message with the corrected text and a
  discreet «✏️ تصحيح») and queues an edit action: every delivered message is edited to the
  newest revision (``editMessageText``); chats the alert has not reached yet are sent it
  directly. Two quick corrections: whatever edit comes first applies the newest revision, and
  the later action finds the chat current.
* a retraction is the last revision (the notice «سُحب هذا الخبر», no buttons) and the same
  edit action; chats not reached yet get nothing.
* an update is a reply action: a short message replying to every delivered alert message.

Every one is idempotent by content (the same correction again queues nothing), and one script
creates the revision, the action record and its job, or nothing. Once the alert's message-id
ledger has expired (``NEWSBOT_STORY_RETENTION`` days after it finished) nothing is queued: the
store still takes the change, no chat is edited or replied to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.delivery.alerts import message_tail
from bot.delivery.codec import as_text
from bot.delivery.config import Priority
from bot.delivery.keys import DeliveryKeys
from bot.delivery.outcomes import UnitKind
from bot.models import Article, StoryUpdate
from bot.store.stories import StoryError
from formatters.alert import format_alert, format_notification, format_retraction, format_update

logger = logging.getLogger(__name__)

#: Attempts when another correction of the same alert lands in between (compare-and-set).
_ATTEMPTS = 10

_ZERO_COUNTERS = """
for _, name in ipairs({'queued', 'sent', 'blocked', 'failed', 'bad_request', 'skipped',
    'edited', 'unchanged', 'gone', 'unsent'}) do
  redis.call('HSET', KEYS[3], name, '0')
end
"""

# KEYS: 1 alert hash, 2 its revisions, 3 the new action's hash, 4 jobs stream (breaking), 5 the
# alert's actions list, 6 counters, 7 the alert's chats list (the message-id ledger's order)
# ARGV: 1 expected current revision, 2 the new revision's message, 3 action id, 4 "1" for a
# retraction, 5 the alert id, 6 counter field
# Returns {1, revision, chats sent so far} when queued, {0} when there is nothing to do (never
# alerted, the same text again, already retracted, the ledger expired), {-1} when the alert was
# retracted (a correction refused), {-2} when the revision moved meanwhile (try again).
_REVISE = (
    """
redis.replicate_commands()
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local kind = redis.call('HGET', KEYS[1], 'kind')
if kind and kind ~= 'alert' then return {0} end
if redis.call('HGET', KEYS[1], 'retracted') == '1' then
  if ARGV[4] == '1' then return {0} end
  return {-1}
end
-- A finished alert whose chats list is gone: its message-id ledger expired (retention).
if redis.call('HGET', KEYS[1], 'state') == 'done' and redis.call('EXISTS', KEYS[7]) == 0 then
  return {0}
end
local current = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if current ~= tonumber(ARGV[1]) then return {-2} end
if current > 0 and redis.call('HGET', KEYS[2], tostring(current)) == ARGV[2] then return {0} end
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
local revision = current + 1
redis.call('HSET', KEYS[2], tostring(revision), ARGV[2])
redis.call('HSET', KEYS[1], 'rev', revision)
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'retracted', '1', 'retracted_at', now) end
local v = redis.call('HMGET', KEYS[1], 'article_id', 'audience', 'sent')
redis.call('HSET', KEYS[3], 'kind', 'edit', 'parent', ARGV[5], 'article_id', v[1],
  'audience', v[2], 'priority', 'breaking', 'state', 'queued', 'published_at', now,
  'rev', revision, 'retraction', ARGV[4])
"""
    + _ZERO_COUNTERS
    + """
redis.call('XADD', KEYS[4], '*', 'alert', ARGV[3])
redis.call('RPUSH', KEYS[5], ARGV[3])
redis.call('HINCRBY', KEYS[6], ARGV[6], 1)
return {1, revision, tonumber(v[3] or '0')}
"""
)

# KEYS: 1 alert hash, 2 the action's hash, 3 jobs stream (the alert's priority), 4 actions
# list, 5 counters, 6 the alert's chats list
# ARGV: 1 action id, 2 the reply's message, 3 update number, 4 alert id, 5 counter field
# Returns {1, chats sent so far} when queued, {0} when not alerted, already queued or the
# ledger expired, {-1} when the alert was retracted.
_UPDATE = (
    """
redis.replicate_commands()
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local kind = redis.call('HGET', KEYS[1], 'kind')
if kind and kind ~= 'alert' then return {0} end
if redis.call('HGET', KEYS[1], 'retracted') == '1' then return {-1} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {0} end
-- A finished alert whose chats list is gone: its message-id ledger expired (retention).
if redis.call('HGET', KEYS[1], 'state') == 'done' and redis.call('EXISTS', KEYS[6]) == 0 then
  return {0}
end
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
local v = redis.call('HMGET', KEYS[1], 'article_id', 'audience', 'priority', 'sent')
redis.call('HSET', KEYS[2], 'kind', 'reply', 'parent', ARGV[4], 'article_id', v[1],
  'audience', v[2], 'priority', v[3], 'state', 'queued', 'published_at', now,
  'update', ARGV[3], 'payload', ARGV[2])
"""
    + _ZERO_COUNTERS.replace("KEYS[3]", "KEYS[2]")
    + """
redis.call('XADD', KEYS[3], '*', 'alert', ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[1])
redis.call('HINCRBY', KEYS[5], ARGV[5], 1)
return {1, tonumber(v[4] or '0')}
"""
)

#: Counters (``delivery:counters``) of the actions queued.
CORRECTIONS_QUEUED = "story_corrections"
RETRACTIONS_QUEUED = "story_retractions"
UPDATES_QUEUED = "story_updates"


class AlertRetracted(StoryError):
    """The alert was retracted: it takes no correction or update any more."""

    def __init__(self, message: str) -> None:
        super().__init__("retracted", message)


@dataclass(frozen=True)
class ActionQueued:
    """What queueing a correction, retraction or update did.

    ``action_id`` is ``None`` when nothing was queued (the article was never alerted, the
    same change was already queued, or the alert's message-id ledger has expired after
    ``NEWSBOT_STORY_RETENTION`` days); ``chats`` is how many chats the alert had reached then
    (the messages the action edits or replies to; those still to be reached get the newest
    text directly).
    """

    alerted: bool
    action_id: str | None = None
    chats: int = 0


@dataclass(frozen=True)
class AlertReach:
    """How far an alert got: the chats it reached so far, and whether it is still being sent."""

    chats: int
    sending: bool


class DeliveryStories:
    """The engine's side of living stories: revisions of an alert and its actions."""

    def __init__(self, redis: Redis, keys: DeliveryKeys, *, paid_broadcast: bool = False) -> None:
        self._redis = redis
        self._keys = keys
        self._paid = paid_broadcast
        self._revise = redis.register_script(_REVISE)
        self._update = redis.register_script(_UPDATE)

    async def correct(self, article: Article) -> ActionQueued:
        """Queue the edit of every delivered alert of ``article`` to its corrected text."""
        if not article.id:
            return ActionQueued(alerted=False)
        priority = await self._priority(article.id)
        if priority is None:
            return ActionQueued(alerted=False)
        breaking = priority is Priority.BREAKING
        formatter = format_alert if breaking else format_notification
        message = formatter(article, corrected=True)
        return await self._new_revision(article.id, message_tail(message).decode(), retract=False)

    async def retract(self, article_id: str, reason: str | None) -> ActionQueued:
        """Queue the edit of every delivered alert to the retraction notice (buttons removed)."""
        if await self._priority(article_id) is None:
            return ActionQueued(alerted=False)
        tail = message_tail(format_retraction(reason)).decode()
        return await self._new_revision(article_id, tail, retract=True)

    async def update(self, article: Article, update: StoryUpdate) -> ActionQueued:
        """Queue an update as a reply under every delivered alert of ``article`` (once)."""
        alert_id = article.id
        if not alert_id:
            return ActionQueued(alerted=False)
        priority = await self._priority(alert_id)
        if priority is None:
            return ActionQueued(alerted=False)
        keys = self._keys
        action_id = keys.update_action(alert_id, update.number)
        tail = message_tail(format_update(article, update.text)).decode()
        result = await self._update(
            keys=[
                keys.alert(alert_id),
                keys.alert(action_id),
                keys.jobs_stream(priority.value),
                keys.alert_actions(alert_id),
                keys.counters,
                keys.alert_chats(alert_id),
            ],
            args=[action_id, tail, update.number, alert_id, UPDATES_QUEUED],
        )
        code = int(result[0])
        if code == -1:
            raise AlertRetracted(f"alert {alert_id} was retracted")
        if code == 0:
            return ActionQueued(alerted=True)
        logger.info("alert %s: update %d queued (%s)", alert_id, update.number, action_id)
        return ActionQueued(alerted=True, action_id=action_id, chats=int(result[1]))

    async def reach(self, alert_id: str) -> AlertReach | None:
        """The chats an alert reached so far; ``None`` when the article was never alerted."""
        raw = await self._redis.hmget(self._keys.alert(alert_id), ["kind", "sent", "state"])
        kind, sent, state = raw
        if state is None or (kind is not None and as_text(kind) != UnitKind.ALERT.value):
            return None
        chats = int(as_text(sent)) if sent is not None else 0
        return AlertReach(chats=chats, sending=as_text(state) != "done")

    async def _priority(self, alert_id: str) -> Priority | None:
        """The alert's priority, or ``None`` when the article was never alerted."""
        raw = await self._redis.hmget(self._keys.alert(alert_id), ["priority", "kind"])
        priority, kind = raw
        if priority is None or (kind is not None and as_text(kind) != UnitKind.ALERT.value):
            return None
        return Priority(as_text(priority))

    async def _new_revision(self, alert_id: str, tail: str, *, retract: bool) -> ActionQueued:
        keys = self._keys
        for _ in range(_ATTEMPTS):
            raw = await self._redis.hget(keys.alert(alert_id), "rev")
            current = int(as_text(raw)) if raw is not None else 0
            action_id = keys.edit_action(alert_id, current + 1)
            result = await self._revise(
                keys=[
                    keys.alert(alert_id),
                    keys.alert_revisions(alert_id),
                    keys.alert(action_id),
                    keys.jobs_stream(Priority.BREAKING.value),
                    keys.alert_actions(alert_id),
                    keys.counters,
                    keys.alert_chats(alert_id),
                ],
                args=[
                    current,
                    tail,
                    action_id,
                    "1" if retract else "0",
                    alert_id,
                    RETRACTIONS_QUEUED if retract else CORRECTIONS_QUEUED,
                ],
            )
            code = int(result[0])
            if code == -2:
                continue
            if code == -1:
                raise AlertRetracted(f"alert {alert_id} was retracted")
            if code == 0:
                return ActionQueued(alerted=True)
            what = "retraction" if retract else "correction"
            logger.info(
                "alert %s: %s queued as revision %s (%s)", alert_id, what, result[1], action_id
            )
            return ActionQueued(alerted=True, action_id=action_id, chats=int(result[2]))
        raise RuntimeError(f"alert {alert_id} kept changing while being revised")
