"""Per-chat conversation history (bounded) and event-based waiting for changes in it."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sandbox.records import CallbackRecord, ChatMessage, HistoryEntry

T = TypeVar("T")
MAX_CALLBACKS = 10_000


@dataclass(slots=True)
class _ChatLog:
    entries: deque[HistoryEntry]
    messages: OrderedDict[int, ChatMessage] = field(default_factory=OrderedDict)
    last_message_id: int = 0
    bot_count: int = 0
    version: int = 0
    deleted: set[int] = field(default_factory=set)


class History:
    """Every chat's recent messages and button presses, plus waiters woken when they change.

    Retention is bounded per chat (``limit`` entries) so long runs stay linear; with
    ``record=False`` only counters are kept, for benchmarks.
    """

    def __init__(self, *, limit: int = 1000, record: bool = True) -> None:
        self.limit = limit
        self.record = record
        self._chats: dict[int, _ChatLog] = {}
        self._callbacks: OrderedDict[str, CallbackRecord] = OrderedDict()
        self._waiters: list[tuple[Callable[[], object], asyncio.Future[None]]] = []
        self._seq = 0
        self._closed = False

    def _log(self, chat_id: int) -> _ChatLog:
        log = self._chats.get(chat_id)
        if log is None:
            log = self._chats[chat_id] = _ChatLog(deque(maxlen=self.limit))
        return log

    def next_message_id(self, chat_id: int) -> int:
        """A fresh message id in this chat (ids are per chat, shared by both directions)."""
        log = self._log(chat_id)
        log.last_message_id += 1
        return log.last_message_id

    def issued(self, chat_id: int, message_id: int) -> bool:
        """Whether this message id was used in the chat and the message still exists there
        (even if no longer retained in the history)."""
        log = self._chats.get(chat_id)
        if log is None or message_id in log.deleted:
            return False
        return 0 < message_id <= log.last_message_id

    def delete(self, chat_id: int, message_id: int) -> bool:
        """Remove a message from the chat (for everyone); ``False`` when there is none."""
        log = self._chats.get(chat_id)
        if log is None or not self.issued(chat_id, message_id):
            return False
        log.deleted.add(message_id)
        message = log.messages.pop(message_id, None)
        if message is not None:
            log.entries = deque((e for e in log.entries if e is not message), maxlen=self.limit)
        log.version += 1
        self.notify()
        return True

    def add_message(self, message: ChatMessage) -> None:
        """Record a new message (or just count it when history is off) and wake waiters."""
        log = self._log(message.chat_id)
        if message.from_bot:
            log.bot_count += 1
        log.version += 1
        if self.record:
            self._seq += 1
            message.seq = self._seq
            log.entries.append(message)
            log.messages[message.message_id] = message
            if len(log.messages) > self.limit:
                log.messages.popitem(last=False)
        self.notify()

    def touch(self, chat_id: int, entry: HistoryEntry) -> None:
        """Mark an entry as changed (edited, answered) so pollers see it again."""
        self._seq += 1
        entry.seq = self._seq
        self.bump(chat_id)

    def bump(self, chat_id: int) -> None:
        """Something visible in the chat changed (e.g. "typing…"): wake its pollers."""
        self._log(chat_id).version += 1
        self.notify()

    def find_message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        """A retained message, or ``None``."""
        log = self._chats.get(chat_id)
        return None if log is None else log.messages.get(message_id)

    def add_callback(self, record: CallbackRecord) -> None:
        """Remember a button press (always, bounded: answering needs it even without history)."""
        self._callbacks[record.query_id] = record
        if len(self._callbacks) > MAX_CALLBACKS:
            self._callbacks.popitem(last=False)
        log = self._log(record.chat_id)
        log.version += 1
        if self.record:
            self._seq += 1
            record.seq = self._seq
            log.entries.append(record)
        self.notify()

    def find_callback(self, query_id: str) -> CallbackRecord | None:
        """The press with this callback query id, or ``None``."""
        return self._callbacks.get(query_id)

    def callbacks(self, chat_id: int | None = None) -> list[CallbackRecord]:
        """Remembered presses, oldest first, optionally of one chat."""
        return [c for c in self._callbacks.values() if chat_id is None or c.chat_id == chat_id]

    def entries(self, chat_id: int) -> list[HistoryEntry]:
        """The chat's retained history, oldest first."""
        log = self._chats.get(chat_id)
        return [] if log is None else list(log.entries)

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's retained messages in the chat, oldest first."""
        log = self._chats.get(chat_id)
        if log is None:
            return []
        return [e for e in log.entries if isinstance(e, ChatMessage) and e.from_bot]

    def bot_count(self, chat_id: int) -> int:
        """How many messages the bot sent to the chat (counted even when history is off)."""
        log = self._chats.get(chat_id)
        return 0 if log is None else log.bot_count

    def version(self, chat_id: int) -> int:
        """A number that grows whenever anything in the chat changes."""
        log = self._chats.get(chat_id)
        return 0 if log is None else log.version

    def chat_ids(self) -> list[int]:
        """Every chat with any activity."""
        return list(self._chats)

    def totals(self) -> tuple[int, int]:
        """(chats the bot wrote to, messages the bot sent) over all chats."""
        counts = [log.bot_count for log in self._chats.values() if log.bot_count]
        return len(counts), sum(counts)

    def clear(self) -> None:
        """Forget all chats and presses (waiters stay registered)."""
        self._chats.clear()
        self._callbacks.clear()

    def notify(self) -> None:
        """Resolve the waiters whose condition now holds."""
        if not self._waiters:
            return
        still: list[tuple[Callable[[], object], asyncio.Future[None]]] = []
        for predicate, future in self._waiters:
            if future.done():
                continue
            if predicate():
                future.set_result(None)
            else:
                still.append((predicate, future))
        self._waiters = still

    def close(self) -> None:
        """End every wait, and any later one, with ``TimeoutError`` until ``reopen``."""
        # At server shutdown a chat page's pending history poll must not hold the stop up.
        self._closed = True
        waiters, self._waiters = self._waiters, []
        for _, future in waiters:
            if not future.done():
                future.set_result(None)

    def reopen(self) -> None:
        """Accept waits again after ``close``."""
        self._closed = False

    async def wait_until(self, predicate: Callable[[], T | None], seconds: float) -> T:
        """Wait (event-driven, no polling) until ``predicate()`` is truthy; return its value."""
        value = predicate()
        if value:
            return value
        if self._closed:
            raise TimeoutError("the sandbox is shutting down")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            async with asyncio.timeout(seconds):
                while True:
                    await future
                    value = predicate()
                    if value:
                        return value
                    if self._closed:
                        raise TimeoutError("the sandbox is shutting down")
                    future = asyncio.get_running_loop().create_future()
                    self._waiters.append((predicate, future))
        finally:
            if not future.done():
                future.cancel()
