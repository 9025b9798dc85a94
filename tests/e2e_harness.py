"""End-to-end harness: the real bot (PTB Application + delivery workers) against the sandbox.

Reusable by any test module::

    from tests.e2e_harness import BotHarness, open_bot_harness

    @pytest.fixture
    async def bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
        async with open_bot_harness(redis_url) as harness:
            yield harness

    async def test_something(bot: BotHarness) -> None:
        bot.add_user(ALICE, "ليلى")
        [greeting] = await bot.send(ALICE, "/start")

The ``redis`` fixture (tests/conftest.py) empties the database before and after each test.
Every wait is event-based (the sandbox notifies on each message) or polls with
``tests.waiting.wait_for``, with a generous timeout.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.delivery.status import AlertStatus
from bot.local_stack import SANDBOX_BOT_USERNAME, LocalStack, open_local_stack
from bot.pipeline import IngestResult
from bot.runtime import Parts
from bot.store import Store
from config import Settings
from sandbox import CallbackRecord, ChatMessage, SandboxServer, SandboxState
from tests.constants import ADMIN_ID, BOT_TOKEN, TIMEOUT
from tests.waiting import wait_for

T = TypeVar("T")

BOT_USERNAME = SANDBOX_BOT_USERNAME


def harness_settings(
    redis_url: str, *, admin_ids: Iterable[int] = (ADMIN_ID,), **extra: Any
) -> Settings:
    """Settings for a test bot: real Redis, fake token, no .env file, no webhook."""
    values: dict[str, Any] = {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "REDIS_URL": redis_url,
        "NEWSBOT_ADMIN_IDS": ",".join(str(i) for i in admin_ids),
        "NEWSBOT_WEBHOOK_URL": None,
        "NEWSBOT_CLAIM_IDLE_SECONDS": 5.0,
        "NEWSBOT_SEND_RETRIES": 1,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


@dataclass
class BotHarness:
    """A running bot with helpers to talk to it as Telegram users."""

    stack: LocalStack

    @property
    def server(self) -> SandboxServer:
        """The sandbox server."""
        return self.stack.server

    @property
    def state(self) -> SandboxState:
        """The sandbox's simulated Telegram."""
        return self.stack.server.state

    @property
    def store(self) -> Store:
        """The bot's Redis store."""
        return self.stack.services.store

    @property
    def settings(self) -> Settings:
        """The settings the bot runs with (pointed at the sandbox)."""
        return self.stack.settings

    def add_user(self, user_id: int, first_name: str, username: str | None = None) -> None:
        """A Telegram user who has opened a private chat with the bot."""
        self.state.add_user(user_id, first_name, username)

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        """Everything the bot has said in a chat, oldest first."""
        return self.state.bot_messages(chat_id)

    async def expect(
        self, chat_id: int, count: int, *, after: int, within: float = TIMEOUT
    ) -> list[ChatMessage]:
        """Wait for ``count`` new bot messages in a chat beyond the first ``after``; return them."""
        messages = await self.state.wait_for_bot_messages(chat_id, after + count, within)
        return messages[after:]

    async def send(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        expect: int = 1,
        edited_of: int | None = None,
        sender_chat_id: int | None = None,
    ) -> list[ChatMessage]:
        """A user writes ``text``; wait for the bot's ``expect`` answers in that chat.

        ``sender_chat_id``: an admin writes on behalf of the group itself or of a channel.
        """
        target = user_id if chat_id is None else chat_id
        before = len(self.bot_messages(target))
        self.state.user_sends(
            user_id,
            text,
            chat_id=chat_id,
            chat_type=chat_type,  # type: ignore[arg-type]
            edited_of=edited_of,
            sender_chat_id=sender_chat_id,
        )
        if expect == 0:
            return []
        return await self.expect(target, expect, after=before)

    async def send_reply(
        self, user_id: int, text: str, *, to_message_id: int, expect: int = 1
    ) -> list[ChatMessage]:
        """A user answers an earlier message of their private chat (``reply_to_message``)."""
        before = len(self.bot_messages(user_id))
        self.state.user_sends(user_id, text, reply_to_message_id=to_message_id)
        return await self.expect(user_id, expect, after=before) if expect else []

    def last_user_message_id(self, chat_id: int) -> int:
        """The id of the latest message a user wrote in a chat (to edit or reply to it)."""
        entries = [e for e in self.state.history(chat_id) if isinstance(e, ChatMessage)]
        return [e for e in entries if not e.from_bot][-1].message_id

    async def press(
        self,
        user_id: int,
        message: ChatMessage,
        data: str | None = None,
        *,
        expect: int = 0,
        expect_in: int | None = None,
    ) -> tuple[CallbackRecord, list[ChatMessage]]:
        """A user taps a button of ``message``; wait for the callback answer (and messages)."""
        target = expect_in if expect_in is not None else message.chat_id
        before = len(self.bot_messages(target))
        query_id = self.state.press_button(user_id, message.chat_id, message.message_id, data)
        answer = await self.state.wait_for_callback_answer(query_id, TIMEOUT)
        new = await self.expect(target, expect, after=before) if expect else []
        return answer, new

    async def edited(self, chat_id: int, message_id: int) -> ChatMessage:
        """Wait until the bot has edited one of its messages; return the new version."""

        def probe() -> ChatMessage | None:
            message = self.state.chat_log.find_message(chat_id, message_id)
            return message if message is not None and message.edited else None

        return await self.state.chat_log.wait_until(probe, TIMEOUT)

    async def ingest(self, text: str, *, breaking: bool | None = None) -> IngestResult:
        """Ingest an article as ``newsbot ingest`` does (alerts queued through Redis)."""
        ingestor = self.stack.services.ingestor
        return await ingestor.ingest_bytes(text.encode("utf-8"), breaking=breaking)

    async def alert_done(self, alert_id: str) -> AlertStatus:
        """Wait until the delivery engine has an outcome for every chat of an alert."""

        async def probe() -> AlertStatus | None:
            status = await self.stack.services.delivery.alert_status(alert_id)
            if status is not None and status.state == "done":
                return status
            return None

        return await wait_for(probe, what=f"alert {alert_id} done")

    async def barrier(self, user_id: int) -> None:
        """Make sure earlier updates of this user were handled: ask /help and wait for it."""
        await self.send(user_id, "/help")


@contextlib.asynccontextmanager
async def open_bot_harness(
    redis_url: str,
    *,
    admin_ids: Iterable[int] = (ADMIN_ID,),
    workers: int = 1,
    production_transport: bool = False,
    **settings: Any,
) -> AsyncIterator[BotHarness]:
    """Run sandbox + bot + ``workers`` delivery workers over the Redis at ``redis_url``."""
    config = harness_settings(redis_url, admin_ids=admin_ids, **settings)
    parts = Parts(
        workers=workers,
        api=False,
        feeds=False,
        poll_timeout=1.0,
        production_transport=production_transport,
    )
    async with open_local_stack(config, parts) as stack:
        yield BotHarness(stack)
