"""ChatFairProcessor on its own: lanes per chat, bounds, collapsing, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from bot.update_processor import ChatFairProcessor

_ids = iter(range(1, 1_000_000))


def message(chat: int, text: str) -> Update:
    """A private-chat message update (as Telegram sends it)."""
    uid = next(_ids)
    return Update.de_json(
        {
            "update_id": uid,
            "message": {
                "message_id": uid,
                "date": 0,
                "chat": {"id": chat, "type": "private", "first_name": "قارئ"},
                "from": {"id": chat, "is_bot": False, "first_name": "قارئ"},
                "text": text,
            },
        },
        None,
    )


def membership(chat: int) -> Update:
    """The reader blocked the bot: a ``my_chat_member`` update."""
    member: dict[str, Any] = {"user": {"id": 1, "is_bot": True, "first_name": "bot"}}
    return Update.de_json(
        {
            "update_id": next(_ids),
            "my_chat_member": {
                "chat": {"id": chat, "type": "private", "first_name": "قارئ"},
                "from": {"id": chat, "is_bot": False, "first_name": "قارئ"},
                "date": 0,
                "old_chat_member": {**member, "status": "member"},
                "new_chat_member": {**member, "status": "kicked", "until_date": 0},
            },
        },
        None,
    )


class Recorder:
    """Handler coroutines that log when they run and can be held until released."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.gate = asyncio.Event()

    async def held(self, name: str) -> None:
        await self.gate.wait()
        self.done.append(name)

    async def quick(self, name: str) -> None:
        self.done.append(name)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_chats_backlog_waits_in_its_lane_and_other_chats_go_ahead() -> None:
    processor = ChatFairProcessor(2, per_chat_limit=3)
    rec = Recorder()
    tasks = [
        asyncio.create_task(processor.process_update(message(1, f"/latest {i}"), rec.held(f"a{i}")))
        for i in range(3)
    ]
    await _settle()
    # Only one of chat 1's updates holds a shared place: chat 2 still finds one free.
    await processor.process_update(message(2, "/help"), rec.quick("b"))
    assert rec.done == ["b"]
    rec.gate.set()
    await asyncio.gather(*tasks)
    assert rec.done == ["b", "a0", "a1", "a2"]  # a chat's own updates in arrival order


async def test_full_lane_drops_commands_never_membership_updates() -> None:
    notices: list[int] = []

    async def slow_down(update: Update) -> None:
        notices.append(update.update_id)

    processor = ChatFairProcessor(4, per_chat_limit=2, slow_down=slow_down)
    rec = Recorder()
    first = asyncio.create_task(processor.process_update(message(1, "/latest 1"), rec.held("1")))
    await _settle()
    updates = [message(1, f"/latest {i}") for i in range(2, 6)] + [membership(1)]
    names = ["2", "3", "4", "5", "left"]
    rest = [
        asyncio.create_task(processor.process_update(u, rec.held(n)))
        for u, n in zip(updates, names, strict=True)
    ]
    await _settle()
    rec.gate.set()
    await asyncio.gather(first, *rest)
    assert rec.done == ["1", "2", "left"]
    assert processor.dropped == 3 and len(notices) == 1  # one notice for the burst
    await processor.shutdown()


async def test_identical_waiting_commands_collapse_and_a_cancelled_one_frees_its_place() -> None:
    processor = ChatFairProcessor(4, per_chat_limit=3)
    rec = Recorder()
    first = asyncio.create_task(processor.process_update(message(1, "/latest"), rec.held("1")))
    await _settle()
    waiting = asyncio.create_task(processor.process_update(message(1, "/help"), rec.held("h")))
    repeats = [
        asyncio.create_task(processor.process_update(message(1, "/help"), rec.held("h2")))
        for _ in range(5)
    ]
    await _settle()
    assert processor.collapsed == 5
    waiting.cancel()
    await _settle()
    late = asyncio.create_task(processor.process_update(message(1, "/latest 2"), rec.held("2")))
    await _settle()
    rec.gate.set()
    await asyncio.gather(first, late, *repeats)
    assert rec.done == ["1", "2"]
