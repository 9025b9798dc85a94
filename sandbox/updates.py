"""The bot's update queue: getUpdates long polling with offsets, shared with webhook delivery."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from sandbox.errors import conflict

MAX_POLL_SECONDS = 50.0
# What Telegram sends when allowed_updates was never set (or set to an empty list).
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateQueue:
    """Pending updates in id order; ``get`` long-polls and wakes the moment one is pushed."""

    def __init__(self) -> None:
        self._pending: deque[dict[str, Any]] = deque()
        # Ids keep growing across resets so a running bot's offset never hides new updates.
        self._next_id = 1
        self._allowed: frozenset[str] | None = None
        self._wakeup = asyncio.Event()
        self._poller = 0
        self._closed = False

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def set_allowed(self, allowed: list[str] | None) -> None:
        """Remember ``allowed_updates`` (it applies to updates created from now on)."""
        if allowed is not None:
            self._allowed = frozenset(allowed) if allowed else None

    def allowed(self) -> list[str] | None:
        """The stored allowed_updates list, ``None`` for Telegram's default."""
        return sorted(self._allowed) if self._allowed is not None else None

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update of ``kind``; ``None`` when allowed_updates filters it out."""
        if self._allowed is None:
            if kind in DEFAULT_EXCLUDED:
                return None
        elif kind not in self._allowed:
            return None
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self._pending.append(update)
        self._wake()
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last ``-offset``."""
        pending = self._pending
        if offset < 0:
            while len(pending) > -offset:
                pending.popleft()
            return
        while pending and pending[0]["update_id"] < offset:
            pending.popleft()

    def peek(self) -> dict[str, Any] | None:
        """The oldest pending update (webhook delivery sends it next)."""
        return self._pending[0] if self._pending else None

    def pending_count(self) -> int:
        """How many updates wait to be fetched or delivered."""
        return len(self._pending)

    def drop_pending(self) -> None:
        """Forget every pending update (drop_pending_updates / reset)."""
        self._pending.clear()

    async def wait_pending(self) -> None:
        """Return once at least one update is pending (or the queue is closed)."""
        while not self._pending and not self._closed:
            await self._wakeup.wait()

    async def get(self, offset: int | None, limit: int, wait: float) -> list[dict[str, Any]]:
        """getUpdates: confirm by ``offset``, then return up to ``limit``, waiting ``wait`` s."""
        if offset is not None:
            self.confirm(offset)
        self._poller += 1
        me = self._poller
        self._wake()  # an older poll still waiting is terminated, as Telegram does
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(wait, 0.0), MAX_POLL_SECONDS)
        while not self._pending and not self._closed:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                async with asyncio.timeout(left):
                    await self._wakeup.wait()
            except TimeoutError:
                break
            if self._poller != me:
                raise conflict(
                    "terminated by other getUpdates request; "
                    "make sure that only one bot instance is running"
                )
        return [self._pending[i] for i in range(min(limit, len(self._pending)))]

    def close(self) -> None:
        """Release every waiting poll (server shutdown)."""
        self._closed = True
        self._wake()

    def reopen(self) -> None:
        """Accept waiting polls again after ``close``."""
        self._closed = False
