"""Per-chat fair update processing: one chat's backlog never holds the bot's shared capacity.

python-telegram-bot's default processor runs up to ``n`` updates at once, whoever sent them.
Each reply then waits inside the rate limiter for its own chat's slot (about one message a
second), so one reader who sends 200 commands fills every one of the ``n`` places with handlers
that wait for *their* chat, and everybody else waits behind them.  Here instead:

* the updates of one chat are handled one after the other (in arrival order); only the update
  whose turn it is takes one of the ``concurrency`` shared places, so a chat's backlog waits in
  its own lane and other chats are served at once;
* a lane holds at most ``per_chat_limit`` updates (the one being handled included); beyond
  that, updates are dropped and the reader is told once per burst to slow down (a dropped
  button press is answered at once, so its spinner stops);
* a read-only command identical to one still waiting in the lane is collapsed into it: the
  waiting one is answered after the duplicate arrived, so nothing the reader asked is lost.

Updates without a chat or user go through unserialised (but within the shared places).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)

#: Updates one chat may have in the bot at once (the one being handled included).
DEFAULT_PER_CHAT_LIMIT = 8

#: The base class's semaphore counts every update inside ``do_process_update``, waiting ones
#: included; the real bound is our own ``concurrency`` semaphore, so this one must never be the
#: one that fills up (PTB creates a task per update anyway: it bounds nothing else).
_UNBOUNDED = 1 << 30

#: Commands whose answer depends only on their text and the store: a repeat waiting behind an
#: identical one adds nothing.  ``/publish`` and the settings commands are not among them.
COLLAPSIBLE_COMMANDS = frozenset({"latest", "article", "search", "help"})

#: A coroutine factory run for an update: the slow-down notice, or the answer to a dropped press.
UpdateHook = Callable[[Update], Awaitable[None]]


def lane_key(update: object) -> int | None:
    """The lane an update waits in: the chat its answer goes to, or ``None`` (unserialised).

    A button press is answered in the presser's private chat when it is pressed in a group (a
    read button), so presses are keyed by the user: members reading one group's alert must not
    queue behind each other. Messages are keyed by their chat.
    """
    if not isinstance(update, Update):
        return None
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    user = update.effective_user
    return user.id if user is not None else None


def is_droppable(update: object) -> bool:
    """Whether an update may be dropped when its lane is full: what readers send, nothing else.

    Membership changes (the bot blocked, added to a group) are state the bot must record.
    """
    if not isinstance(update, Update) or update.my_chat_member is not None:
        return False
    return update.callback_query is not None or update.effective_message is not None


def collapse_key(update: object) -> Hashable | None:
    """A key equal for updates that would get the same answer, or ``None`` (never collapsed)."""
    if not isinstance(update, Update) or update.callback_query is not None:
        return None
    message = update.effective_message
    if message is None or not message.text or message.reply_to_message is not None:
        return None
    first = message.text.split(maxsplit=1)[0]
    if not first.startswith("/"):
        return None
    name = first[1:].split("@", 1)[0].lower()
    if name not in COLLAPSIBLE_COMMANDS:
        return None
    sender = update.effective_user.id if update.effective_user is not None else None
    return (sender, " ".join(message.text.split()))


@dataclass(eq=False)
class _Ticket:
    """One waiting update: woken when its turn in the lane comes."""

    collapse: Hashable | None
    turn: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(eq=False)
class _Lane:
    """One chat's updates: the one being handled (``busy``) and those waiting behind it."""

    waiting: deque[_Ticket] = field(default_factory=deque)
    busy: bool = False
    #: A slow-down notice was queued during the current burst (reset when the lane empties).
    warned: bool = False

    @property
    def held(self) -> int:
        """Updates of this chat in the bot now."""
        return len(self.waiting) + (1 if self.busy else 0)


class ChatFairProcessor(BaseUpdateProcessor):
    """Serialises each chat's updates, runs different chats concurrently, bounds each chat."""

    __slots__ = (
        "_capacity",
        "_concurrency",
        "_lanes",
        "_on_dropped",
        "_per_chat_limit",
        "_slow_down",
        "_tasks",
        "collapsed",
        "dropped",
    )

    def __init__(
        self,
        concurrency: int,
        *,
        per_chat_limit: int = DEFAULT_PER_CHAT_LIMIT,
        slow_down: UpdateHook | None = None,
        on_dropped: UpdateHook | None = None,
    ) -> None:
        if concurrency < 1 or per_chat_limit < 1:
            raise ValueError("concurrency and per_chat_limit must be positive")
        super().__init__(_UNBOUNDED)
        self._concurrency = concurrency
        self._capacity = asyncio.BoundedSemaphore(concurrency)
        self._per_chat_limit = per_chat_limit
        self._slow_down = slow_down
        self._on_dropped = on_dropped
        self._lanes: dict[int, _Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Updates dropped for a full lane, and repeats collapsed, so far.
        self.dropped = 0
        self.collapsed = 0

    @property
    def concurrency(self) -> int:
        """Updates handled at once, across all chats."""
        return self._concurrency

    @property
    def per_chat_limit(self) -> int:
        """Updates one chat may have in the bot at once."""
        return self._per_chat_limit

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Wait for the notices still being sent (their updates' lanes are gone by now)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this update's turn in its chat's lane, then run it in a shared place."""
        key = lane_key(update)
        if key is None:
            async with self._capacity:
                await coroutine
            return
        lane = self._lanes.setdefault(key, _Lane())
        if lane.busy:
            ticket = self._admit(key, lane, update, coroutine)
            if ticket is None:
                return
            await self._wait_turn(key, lane, ticket, coroutine)
        else:
            lane.busy = True
        try:
            async with self._capacity:
                await coroutine
        finally:
            self._pass_turn(key, lane)

    def _admit(
        self, key: int, lane: _Lane, update: object, coroutine: Awaitable[Any]
    ) -> _Ticket | None:
        """Queue the update behind its chat's others, or drop it (``None``)."""
        collapse = collapse_key(update)
        if collapse is not None and any(t.collapse == collapse for t in lane.waiting):
            self._discard(coroutine)
            self.collapsed += 1
            logger.debug("chat %s: a repeated command collapsed into the waiting one", key)
            return None
        if lane.held >= self._per_chat_limit and is_droppable(update):
            self._discard(coroutine)
            logger.info("chat %s sends faster than it is answered: an update dropped", key)
            self._dropped(key, lane, update)
            return None
        ticket = _Ticket(collapse)
        lane.waiting.append(ticket)
        return ticket

    async def _wait_turn(
        self, key: int, lane: _Lane, ticket: _Ticket, coroutine: Awaitable[Any]
    ) -> None:
        try:
            await ticket.turn.wait()
        except asyncio.CancelledError:
            if ticket.turn.is_set():
                self._pass_turn(key, lane)  # the turn came with the cancellation: hand it on
            else:
                lane.waiting.remove(ticket)
            self._discard(coroutine)
            raise

    def _pass_turn(self, key: int, lane: _Lane) -> None:
        """The lane's current update is done: wake the next one, or forget the idle lane."""
        if lane.waiting:
            lane.waiting.popleft().turn.set()  # ``busy`` stays set: the turn is handed over
            return
        lane.busy = False
        lane.warned = False
        if self._lanes.get(key) is lane:
            del self._lanes[key]

    def _dropped(self, key: int, lane: _Lane, update: object) -> None:
        self.dropped += 1
        if not isinstance(update, Update):
            return
        if self._on_dropped is not None:
            # At once, outside the lane: a button press must be answered within seconds.
            self._spawn(self._run_hook(self._on_dropped, update))
        if self._slow_down is not None and not lane.warned:
            lane.warned = True
            # Ahead of the chat's waiting updates (the reader learns at once why some of their
            # commands get no answer), but after the one being handled: it is not interrupted.
            ticket = _Ticket(None)
            lane.waiting.appendleft(ticket)
            self._spawn(self._notice_in_turn(key, lane, ticket, self._slow_down, update))

    async def _notice_in_turn(
        self, key: int, lane: _Lane, ticket: _Ticket, hook: UpdateHook, update: Update
    ) -> None:
        coroutine = self._run_hook(hook, update)
        await self._wait_turn(key, lane, ticket, coroutine)
        try:
            async with self._capacity:
                await coroutine
        finally:
            self._pass_turn(key, lane)

    @staticmethod
    async def _run_hook(hook: UpdateHook, update: Update) -> None:
        try:
            await hook(update)
        except Exception as exc:  # a notice that cannot be sent is not worth more than a line
            logger.warning("flood notice not sent: %s", type(exc).__name__)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _discard(coroutine: Awaitable[Any]) -> None:
        """Close a handler coroutine that will never run (no "never awaited" warning)."""
        if inspect.iscoroutine(coroutine):
            coroutine.close()
