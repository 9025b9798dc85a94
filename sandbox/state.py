"""Everything the sandbox knows, and the control operations tests and people drive it with."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace
from typing import Any

from sandbox.directory import Directory
from sandbox.errors import ApiError
from sandbox.flood import FloodConfig, FloodGuard
from sandbox.history import History
from sandbox.membership import (
    ADMIN_STATUSES,
    ANONYMOUS_ADMIN,
    CHANNEL_BOT,
    GONE,
    joined_status,
    member_update,
    removed_status,
)
from sandbox.message_rules import incoming_entities
from sandbox.records import (
    CallbackRecord,
    ChatMessage,
    ChatType,
    HistoryEntry,
    SandboxChat,
    SandboxUser,
)
from sandbox.spec import shipped_spec
from sandbox.stats import SandboxStats
from sandbox.updates import UpdateQueue
from sandbox.webhook import WebhookDelivery


@dataclass(slots=True)
class SandboxConfig:
    """Knobs that change how the sandbox answers; see ``SandboxState.configure``."""

    bot_username: str = "newsbot_sandbox_bot"
    bot_first_name: str = "بوت الأخبار (تجريبي)"
    latency_ms: float = 0.0
    #: Delay of the answer *after* a request was carried out (a message is delivered at once,
    #: its answer comes late): a bot stopping then has sends done but not yet answered.
    answer_latency_ms: float = 0.0
    strict_html: bool = True
    check_answers: bool = True
    auto_create_chats: bool = False
    rejected_tokens: set[str] = field(default_factory=set)


class SandboxState(Directory):
    """The simulated Telegram world of one bot: users, chats, history, updates, limits, stats."""

    def __init__(
        self,
        *,
        flood: FloodConfig | None = None,
        latency_ms: float = 0,
        record_history: bool = True,
        bot_username: str = "newsbot_sandbox_bot",
        history_limit: int = 1000,
    ) -> None:
        super().__init__()
        self.spec = shipped_spec()
        self.config = SandboxConfig(bot_username=bot_username, latency_ms=float(latency_ms))
        self.flood = FloodGuard(flood or FloodConfig(enabled=False))
        self.chat_log = History(limit=history_limit, record=record_history)
        self.counters = SandboxStats()
        self.updates = UpdateQueue()
        self.webhook = WebhookDelivery(self.updates, self.counters)
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.typing: dict[int, float] = {}
        self.bot_id = 0
        self._query_ids = itertools.count(5_000_000_000_000_000_001)

    # -- bot identity ---------------------------------------------------------------------

    def bot_user(self, *, full: bool = False) -> dict[str, Any]:
        """The bot's ``User`` object (``full``: with the getMe-only capability flags)."""
        out: dict[str, Any] = {
            "id": self.bot_id or 1,
            "is_bot": True,
            "first_name": self.config.bot_first_name,
            "username": self.config.bot_username,
        }
        if full:
            out.update(
                can_join_groups=True,
                can_read_all_group_messages=False,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return out

    # -- what users do ----------------------------------------------------------------------

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: ChatType = "private",
        edited_of: int | None = None,
        reply_to_message_id: int | None = None,
        sender_chat_id: int | None = None,
    ) -> dict[str, Any] | None:
        """A user writes (or, with ``edited_of``, edits) a message; returns the queued Update.

        ``chat_id``/``chat_type`` put the message in a group, supergroup or channel (created on
        first use, with the writer as its creator); channel posts become ``channel_post``
        updates. ``reply_to_message_id`` answers an earlier message of the same chat: the
        update carries the whole replied message as ``reply_to_message``, as Telegram sends
        it. ``sender_chat_id`` sends on behalf of a chat, as an administrator can: the group
        itself (an anonymous admin) or a channel they administer. ``None`` when the bot's
        allowed_updates filter the update out, or the bot is no longer in the group.
        """
        user = self._user(user_id)
        if chat_id is None or chat_id == user_id:
            chat = self._private_chat(user)
        else:
            chat = self.chats.get(chat_id) or self.add_chat(
                chat_id, "group" if chat_type == "private" else chat_type, by_user_id=user.id
            )
            if chat.migrated_to is not None:
                raise ValueError(f"chat {chat.id} was upgraded to supergroup {chat.migrated_to}")
            if chat.member_status(user.id) == "kicked":
                raise ValueError(f"user {user.id} is banned from chat {chat.id}")
        now = int(time.time())
        old = self.chat_log.find_message(chat.id, edited_of) if edited_of is not None else None
        sender = self._sender(chat, user, sender_chat_id, old)
        chat.note_member(user.id)
        replied = self._replied(chat, old, reply_to_message_id)
        message_id = edited_of if edited_of is not None else self.chat_log.next_message_id(chat.id)
        entities = incoming_entities(text)
        api: dict[str, Any] = {"message_id": message_id, "date": old.date if old else now}
        api.update(sender)
        api["chat"] = chat.to_api()
        if replied is not None:
            api["reply_to_message"] = replied
        if edited_of is not None:
            api["edit_date"] = now
        api["text"] = text
        if entities:
            api["entities"] = entities
        if old is not None:
            old.text = old.visible_text = text
            old.entities, old.api, old.edited, old.edit_date = tuple(entities), api, True, now
            self.chat_log.touch(chat.id, old)
        elif edited_of is None:
            message = ChatMessage(
                chat.id, message_id, now, False, user.id, text, text, None,
                tuple(entities), None, api,
            )  # fmt: skip
            self.chat_log.add_message(message)
        if chat.bot_status in GONE:
            return None  # Telegram tells a bot nothing about chats it is not in
        kind = "channel_post" if chat.type == "channel" else "message"
        if edited_of is not None:
            kind = "edited_" + kind
        return self._enqueue(kind, api)

    def _sender(
        self,
        chat: SandboxChat,
        user: SandboxUser,
        sender_chat_id: int | None,
        edited: ChatMessage | None,
    ) -> dict[str, Any]:
        """The ``from``/``sender_chat`` fields of a message ``user`` writes in ``chat``."""
        if chat.type == "channel":
            return {"sender_chat": chat.to_api()}  # channel posts are signed by the channel
        if edited is not None:
            return {k: edited.api[k] for k in ("from", "sender_chat") if k in edited.api}
        if sender_chat_id is None:
            return {"from": user.to_api()}
        speaker = self.chats.get(sender_chat_id)
        if chat.type == "private" or speaker is None:
            raise ValueError(f"chat {sender_chat_id} can't speak in chat {chat.id}")
        if speaker.id != chat.id and speaker.type != "channel":
            raise ValueError("a group speaks as itself or as a channel, not as another group")
        if speaker.member_status(user.id) not in ADMIN_STATUSES:
            raise ValueError(f"user {user.id} is no administrator of chat {speaker.id}")
        # Telegram keeps a placeholder bot in ``from`` for old clients.
        stand_in = ANONYMOUS_ADMIN if speaker.id == chat.id else CHANNEL_BOT
        return {"from": dict(stand_in), "sender_chat": speaker.to_api()}

    def _replied(
        self, chat: SandboxChat, edited: ChatMessage | None, reply_to: int | None
    ) -> dict[str, Any] | None:
        """The ``reply_to_message`` of a new message, or the one an edited message keeps."""
        if reply_to is None:
            kept = edited.api.get("reply_to_message") if edited is not None else None
            return kept if isinstance(kept, dict) else None
        target = self.chat_log.find_message(chat.id, reply_to)
        if target is None:
            raise ValueError(f"message {reply_to} in chat {chat.id} is not known to the sandbox")
        # Telegram never nests: the replied message comes without its own reply_to_message.
        return {k: v for k, v in target.api.items() if k != "reply_to_message"}

    def user_deletes(self, chat_id: int, message_id: int) -> bool:
        """A user deletes a message of their chat, the bot's included (Telegram tells the bot
        nothing); later edits of it answer "message to edit not found"."""
        return self.chat_log.delete(chat_id, message_id)

    def press_button(
        self, user_id: int, chat_id: int, message_id: int, data: str | None = None
    ) -> str:
        """The user taps an inline button; returns the callback query id.

        ``data`` defaults to the message's first callback button; any data may be given, even
        data no button carries (forged-data tests). A message the sandbox does not know is
        sent as an ``InaccessibleMessage``.
        """
        user = self._user(user_id)
        chat = self._private_chat(user) if chat_id == user_id else self.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} does not exist")
        message = self.chat_log.find_message(chat.id, message_id)
        if data is None:
            buttons = message.callback_data() if message is not None else []
            if not buttons:
                raise ValueError(f"message {message_id} in chat {chat_id} has no callback button")
            data = buttons[0]
        query_id = str(next(self._query_ids))
        query: dict[str, Any] = {"id": query_id, "from": user.to_api()}
        if message is not None:
            query["message"] = message.api
        else:
            query["message"] = {"chat": chat.to_api(), "message_id": message_id, "date": 0}
        query["chat_instance"] = str(abs(chat.id) * 7919 + 104729)
        query["data"] = data
        record = CallbackRecord(query_id, chat.id, message_id, user.id, data, int(time.time()))
        self.chat_log.add_callback(record)
        self._enqueue("callback_query", query)
        return query_id

    # -- the bot's membership ----------------------------------------------------------------

    def block(self, user_id: int, *, notify: bool = True) -> dict[str, Any] | None:
        """The user blocks the bot: sends to them answer 403 ``bot was blocked by the user``.

        The bot also gets what Telegram always sends it, a ``my_chat_member`` update (old
        status member, new status kicked), queued only on a real change and only if
        allowed_updates lets ``my_chat_member`` through; returns it, else ``None``. With
        ``notify=False`` the block goes unnoticed until a send fails: the bot has not handled
        the update yet (or it was lost) when it next writes to the user.
        """
        if not self.set_blocked(user_id, True):
            return None
        self.chat_log.bump(user_id)  # the chat page shows the block at once
        if not notify:
            return None
        return self._membership(
            self._private_chat(self._user(user_id)), user_id, "member", "kicked"
        )

    def unblock(self, user_id: int, *, notify: bool = True) -> dict[str, Any] | None:
        """The user unblocks the bot: ``my_chat_member`` from kicked to member (unless silent)."""
        if not self.set_blocked(user_id, False):
            return None
        self.chat_log.bump(user_id)
        if not notify:
            return None
        return self._membership(
            self._private_chat(self._user(user_id)), user_id, "kicked", "member"
        )

    def remove_bot_from_chat(
        self, chat_id: int, by_user_id: int, *, status: str | None = None
    ) -> dict[str, Any] | None:
        """``by_user_id`` removes the bot from a group or channel (``my_chat_member``).

        ``status`` is the bot's new status, ``"left"`` or ``"kicked"``; by default ``left`` in
        a basic group and ``kicked`` (banned) in supergroups and channels. From then on the
        bot's sends there fail as Telegram's do and the chat's messages reach it no more.
        Returns the queued update; ``None`` if the bot was not in the chat or it is filtered.
        """
        chat = self.chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise ValueError(f"chat {chat_id} is not a known group or channel")
        new = status or removed_status(chat)
        if new not in GONE:
            raise ValueError(f"status must be left or kicked, not {new!r}")
        if chat.bot_status in GONE:
            return None
        return self._membership(chat, by_user_id, chat.bot_status, new)

    def add_bot_to_chat(
        self,
        chat_id: int,
        by_user_id: int,
        *,
        chat_type: ChatType = "group",
        title: str | None = None,
    ) -> dict[str, Any] | None:
        """``by_user_id`` adds the bot to a group or channel (created if new): ``my_chat_member``.

        The bot becomes a member (an administrator in a channel) from ``left``, or from
        ``kicked`` if it had been removed. ``None`` if it already was in the chat or the
        update is filtered.
        """
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.add_chat(chat_id, chat_type, title, by_user_id=by_user_id)
            chat.bot_status = "left"
        elif chat.type == "private":
            raise ValueError(f"chat {chat_id} is a private chat: use unblock")
        if chat.bot_status not in GONE:
            return None
        return self._membership(chat, by_user_id, chat.bot_status, joined_status(chat))

    def _membership(
        self, chat: SandboxChat, by_user_id: int, old: str, new: str
    ) -> dict[str, Any] | None:
        """Record the bot's new status in ``chat`` and queue the ``my_chat_member`` update."""
        performer = self._user(by_user_id)
        chat.note_member(performer.id)
        if chat.type != "private":
            chat.bot_status = new
        change = member_update(
            chat, performer.to_api(), self.bot_user(), old, new, int(time.time())
        )
        self.chat_log.bump(chat.id)
        return self._enqueue("my_chat_member", change)

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if self.config.check_answers:
            problem = self.spec.check_object("Update", {"update_id": 1, kind: payload})
            if problem is not None:
                raise ApiError(500, f"sandbox produced a bad Update: {problem}")
        update = self.updates.push(kind, payload)
        self.counters.count("updates_queued" if update is not None else "updates_filtered")
        return update

    # -- reading the conversation -----------------------------------------------------------

    def history(self, chat_id: int) -> list[HistoryEntry]:
        """The chat's retained messages (both directions) and button presses, oldest first."""
        return self.chat_log.entries(chat_id)

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's retained messages in the chat, oldest first."""
        return self.chat_log.bot_messages(chat_id)

    def bot_message_count(self, chat_id: int) -> int:
        """How many messages the bot sent to the chat (kept even with history off)."""
        return self.chat_log.bot_count(chat_id)

    def callback_answers(self, chat_id: int | None = None) -> list[CallbackRecord]:
        """Button presses and the bot's answers to them, oldest first."""
        return self.chat_log.callbacks(chat_id)

    async def wait_for_bot_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API, a plain number is simpler
    ) -> list[ChatMessage]:
        """Wait until the bot has ``count`` messages in the chat (in total); return them all."""

        def enough() -> list[ChatMessage] | None:
            messages = self.chat_log.bot_messages(chat_id)
            return messages if len(messages) >= count else None

        try:
            return await self.chat_log.wait_until(enough, timeout)
        except TimeoutError:
            got = [m.visible_text[:60] for m in self.chat_log.bot_messages(chat_id)]
            raise TimeoutError(
                f"chat {chat_id}: expected {count} bot messages within {timeout}s, got {got}"
            ) from None

    async def wait_for_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - same convention as wait_for_bot_messages
    ) -> CallbackRecord:
        """Wait until the bot answers the callback query ``query_id``."""

        def answered() -> CallbackRecord | None:
            record = self.chat_log.find_callback(query_id)
            return record if record is not None and record.answered else None

        return await self.chat_log.wait_until(answered, timeout)

    # -- configuration and faults -----------------------------------------------------------

    def set_flood(self, enabled: bool = True, **limits: int) -> FloodConfig:
        """Switch flood limits on/off; ``limits``: global_per_second, private_per_second, ..."""
        config = replace(self.flood.config, enabled=enabled, **limits)
        self.flood.configure(config)
        return config

    def inject_429(self, count: int = 1, retry_after: int = 1, *, seconds: float = 0.0) -> None:
        """Make the next ``count`` sends (and all sends for ``seconds``) answer 429."""
        self.flood.storm(count=count, seconds=seconds, retry_after=retry_after)

    def inject_errors(
        self, rate_or_count: float, status: int = 500, *, method: str | None = None
    ) -> None:
        """Fail sends with ``status``: an int fails that many, a float that fraction of them.

        ``method`` fails calls of that Bot API method instead (any method of the spec, e.g.
        ``"getChatMember"``), after their parameters were checked.
        """
        if method is None:
            self.flood.errors(rate_or_count, status)
            return
        found = self.spec.method(method)
        if found is None:
            raise ValueError(f"{method!r} is not a Bot API method")
        self.flood.errors(rate_or_count, status, method=found.name)

    def set_latency(self, latency_ms: float) -> None:
        """Delay every Bot API answer by ``latency_ms`` milliseconds."""
        self.config.latency_ms = max(0.0, float(latency_ms))

    def configure(self, **changes: Any) -> SandboxConfig:
        """Change ``SandboxConfig`` fields (and ``record_history``) by name."""
        if "record_history" in changes:
            self.chat_log.record = bool(changes.pop("record_history"))
        for name, value in changes.items():
            if not hasattr(self.config, name):
                raise ValueError(f"unknown sandbox setting {name!r}")
            setattr(self.config, name, value)
        return self.config

    def stats(self) -> dict[str, Any]:
        """Counters (sent_ok, errors_429, errors_403, errors_other, ...) and queue sizes."""
        out = self.counters.snapshot()
        chats, sent = self.chat_log.totals()
        out.update(
            pending_updates=self.updates.pending_count(),
            users=len(self.users),
            chats_with_bot_messages=chats,
            bot_messages=sent,
            flood=self.flood.config.to_json(),
            injected=self.flood.injected(),
            latency_ms=self.config.latency_ms,
        )
        return out

    def reset(self) -> None:
        """Forget users, chats, history, pending updates, commands, counters and injections."""
        self.users.clear()
        self.chats.clear()
        self.chat_log.clear()
        self.updates.drop_pending()
        self.commands.clear()
        self.typing.clear()
        self.counters.reset()
        self.flood.clear_injections()
        self.flood.configure(self.flood.config)
