"""Bot replies through the shared budget: a python-telegram-bot ``BaseRateLimiter``.

Replies are messages to Telegram too, so they take slots from the same Redis schedule as the
broadcasts, at HIGH priority: broadcasts book at most ``horizon`` ahead, so a reply waits at
most that long (plus its chat's own spacing) even in the middle of a 100,000-chat alert.  A
``RetryAfter`` pauses the scope it applies to, shared with the workers, and the request is made
again after exactly ``retry_after``; replies are never dropped for a 429 (up to
``max_retries``).  When Redis is unreachable, replies go out unthrottled rather than not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from redis.exceptions import RedisError
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.ratelimit import RateLimiter, RatePriority
from bot.telegram_errors import retry_after_seconds

logger = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


def _chat(value: object) -> int | None:
    """The numeric chat id of a request, or ``None`` (an ``@channel`` username: global only)."""
    try:
        return int(str(value))
    except ValueError:
        return None


class RedisReplyLimiter(BaseRateLimiter[int]):
    """Throttles every request that targets a chat through the shared Redis limiter."""

    __slots__ = ("_limiter", "_max_retries")

    def __init__(self, limiter: RateLimiter, *, max_retries: int = 5) -> None:
        self._limiter = limiter
        self._max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up: the Redis client belongs to the store."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        """Wait for a slot, make the request, and retry it after a 429."""
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        limited = data.get("chat_id") is not None
        chat = _chat(data["chat_id"]) if limited else None
        attempt = 0
        while True:
            if limited:
                await self._slot(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= retries:
                    raise
                attempt += 1
                seconds = retry_after_seconds(exc)
                logger.info("%s hit a 429; retrying in %ss", endpoint, seconds)
                await self._pause(chat, seconds, limited=limited)

    async def _slot(self, chat: int | None) -> None:
        try:
            await self._limiter.wait_for_slot(chat, RatePriority.HIGH)
        except RedisError as exc:
            logger.warning("reply sent unthrottled: Redis error %s", type(exc).__name__)

    async def _pause(self, chat: int | None, seconds: float, *, limited: bool) -> None:
        if limited:
            try:
                # The next slot is then granted exactly when the pause ends.
                await self._limiter.penalize(chat, seconds)
                return
            except RedisError as exc:
                logger.warning("429 pause kept local: Redis error %s", type(exc).__name__)
        await asyncio.sleep(seconds)
