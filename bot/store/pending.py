"""Editors' changes waiting for their confirmation button, with a short time to live.

A change proposed from Telegram (``/correct``, ``/update``, ``/retract``) is kept under a random
token that only its confirmation button carries. Taking it is one script: it runs for its owner
once (the key is deleted as it is read), never for another editor (left in place for its owner),
and not at all once expired or for a token nobody issued.
"""

from __future__ import annotations

import logging
import secrets
from enum import StrEnum

from pydantic import ValidationError
from redis.asyncio import Redis

from bot.models import PendingChange
from bot.store.keys import Keys

logger = logging.getLogger(__name__)

#: Bytes of randomness in a token (22 URL-safe characters: fits in callback data with room).
TOKEN_BYTES = 16

# KEYS: 1 the pending change (a hash: ``owner``, ``change``). ARGV: 1 the presser's user id.
# Returns {0} when absent (expired, taken, forged), {1, json} when taken now, {-1} when it
# belongs to somebody else (left for its owner).
_TAKE = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then return {0} end
if owner ~= ARGV[1] then return {-1} end
local raw = redis.call('HGET', KEYS[1], 'change')
redis.call('DEL', KEYS[1])
if not raw then return {0} end
return {1, raw}
"""


class Taken(StrEnum):
    """Why :meth:`PendingStore.take` returned no change."""

    MISSING = "missing"  # expired, already run or cancelled, or never issued
    NOT_YOURS = "not_yours"  # another editor's confirmation


class PendingStore:
    """Changes waiting for confirmation: held with a TTL, taken at most once by their owner."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._take = redis.register_script(_TAKE)

    async def hold(self, change: PendingChange, ttl_seconds: int) -> str:
        """Keep ``change`` for ``ttl_seconds``; returns the token its buttons carry."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        key = self._keys.pending_change(token)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"owner": str(change.owner), "change": change.model_dump_json()})
            pipe.expire(key, ttl_seconds)
            await pipe.execute()
        return token

    async def take(self, token: str, user_id: int) -> PendingChange | Taken:
        """The change behind ``token`` if ``user_id`` owns it, removed so it runs once."""
        result = await self._take(keys=[self._keys.pending_change(token)], args=[str(user_id)])
        code = int(result[0])
        if code == -1:
            return Taken.NOT_YOURS
        if code == 0:
            return Taken.MISSING
        try:
            return PendingChange.model_validate_json(result[1])
        except ValidationError:
            logger.warning("a pending change was unreadable; dropped")
            return Taken.MISSING
