"""What the sandbox remembers: users, chats, messages in both directions, callback queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ChatType = Literal["private", "group", "supergroup", "channel"]
CHAT_TYPES: tuple[ChatType, ...] = ("private", "group", "supergroup", "channel")


@dataclass(slots=True)
class SandboxUser:
    """A simulated Telegram user; ``blocked``/``deactivated`` make the bot's sends fail with 403."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "ar"
    blocked: bool = False
    deactivated: bool = False

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``User`` object for this person."""
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out

    def to_json(self) -> dict[str, Any]:
        """Control-API view: the User object plus the sandbox flags."""
        return {**self.to_api(), "blocked": self.blocked, "deactivated": self.deactivated}


@dataclass(slots=True)
class SandboxChat:
    """A chat the bot can write to: a user's private chat, a group or a channel.

    ``bot_status`` is the bot's own membership (member, administrator, left, kicked) in a group
    or channel; ``members`` are the users seen in it, in order of appearance; ``roles`` the
    people whose status is not plain "member": creator, administrator, left or kicked.
    """

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    bot_status: str = "member"
    members: list[int] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)
    #: The supergroup a basic group was upgraded to: sends here answer 400 with its id.
    migrated_to: int | None = None

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.first_name or str(self.id)
        else:
            out["title"] = self.title or str(self.id)
        if self.username:
            out["username"] = self.username
        return out

    def to_json(self) -> dict[str, Any]:
        """Control-API view: the Chat object plus the bot's status, members and admins."""
        return {
            **self.to_api(),
            "bot_status": self.bot_status,
            "members": list(self.members),
            "admins": self.admins(),
            "migrated_to": self.migrated_to,
        }

    def note_member(self, user_id: int) -> None:
        """Remember that ``user_id`` takes part in this group or channel (back, if they left)."""
        if self.type == "private":
            return
        if user_id not in self.members:
            self.members.append(user_id)
        if self.roles.get(user_id) == "left":
            del self.roles[user_id]

    def member_status(self, user_id: int) -> str:
        """A person's status here: their role, else "member" once seen here, else "left"."""
        role = self.roles.get(user_id)
        if role is not None:
            return role
        return "member" if user_id in self.members else "left"

    def set_member_status(self, user_id: int, status: str) -> None:
        """Give a person a status here; a new creator leaves the previous one an administrator."""
        if status == "creator":
            for other, role in self.roles.items():
                if role == "creator":
                    self.roles[other] = "administrator"
        if user_id not in self.members:
            self.members.append(user_id)
        if status == "member":
            self.roles.pop(user_id, None)
        else:
            self.roles[user_id] = status

    def admins(self) -> list[int]:
        """The creator and the administrators, in order of appearance."""
        return [u for u in self.members if self.roles.get(u) in ("creator", "administrator")]


@dataclass(slots=True)
class ChatMessage:
    """One message in a chat, from the user or from the bot, as the sandbox recorded it."""

    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    sender_id: int
    text: str
    visible_text: str
    parse_mode: str | None
    entities: tuple[dict[str, Any], ...]
    reply_markup: dict[str, Any] | None
    api: dict[str, Any]
    edited: bool = False
    edit_date: int | None = None
    seq: int = 0
    #: How many times the message was edited (a test asserts "edited exactly once").
    edit_count: int = 0
    #: The parameters of the bot's sendMessage as the sandbox decoded them (options such as
    #: ``allow_paid_broadcast`` are on the wire only); empty for users' messages.
    request: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> Literal["bot", "user"]:
        """``"bot"`` for the bot's messages, ``"user"`` for what people wrote."""
        return "bot" if self.from_bot else "user"

    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons, row by row flattened."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def callback_data(self) -> list[str]:
        """The callback data of every callback button, in keyboard order."""
        return [b["callback_data"] for b in self.buttons() if "callback_data" in b]

    @property
    def reply_to_message_id(self) -> int | None:
        """The id of the message this one answers (``reply_to_message``), if any."""
        replied = self.api.get("reply_to_message")
        return replied.get("message_id") if isinstance(replied, dict) else None

    def to_json(self) -> dict[str, Any]:
        """Control-API view of the message."""
        return {
            "kind": self.kind,
            "seq": self.seq,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "date": self.date,
            "sender_id": self.sender_id,
            "text": self.text,
            "visible_text": self.visible_text,
            "parse_mode": self.parse_mode,
            "entities": list(self.entities),
            "reply_markup": self.reply_markup,
            "edited": self.edited,
            "edit_date": self.edit_date,
            "edit_count": self.edit_count,
            "reply_to_message_id": self.reply_to_message_id,
        }


@dataclass(slots=True)
class CallbackRecord:
    """A button press and, once the bot calls answerCallbackQuery, its answer."""

    query_id: str
    chat_id: int
    message_id: int
    user_id: int
    data: str | None
    date: int
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    seq: int = 0
    kind: Literal["callback"] = field(default="callback", init=False)

    def to_json(self) -> dict[str, Any]:
        """Control-API view of the press and its answer."""
        return {
            "kind": self.kind,
            "seq": self.seq,
            "callback_query_id": self.query_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "user_id": self.user_id,
            "data": self.data,
            "date": self.date,
            "answered": self.answered,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
        }


HistoryEntry = ChatMessage | CallbackRecord
