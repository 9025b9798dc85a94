"""The simulated people and chats: who exists, who blocked the bot, which chats are known."""

from __future__ import annotations

from sandbox.errors import bad_request, forbidden, group_migrated
from sandbox.membership import MEMBER_STATUSES, joined_status, refusal
from sandbox.records import CHAT_TYPES, ChatType, SandboxChat, SandboxUser


class Directory:
    """Users and chats by id; a chat is known once created here or written in by its user."""

    def __init__(self) -> None:
        self.users: dict[int, SandboxUser] = {}
        self.chats: dict[int, SandboxChat] = {}

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        language_code: str | None = "ar",
        start_chat: bool = True,
    ) -> SandboxUser:
        """Create (or rename) a user; with ``start_chat`` the bot may write to them at once."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = SandboxUser(user_id, first_name, username, language_code)
        else:
            user.first_name, user.username = first_name, username
        if start_chat:
            self._private_chat(user)
        return user

    def add_chat(
        self,
        chat_id: int,
        chat_type: ChatType,
        title: str | None = None,
        username: str | None = None,
        *,
        by_user_id: int | None = None,
    ) -> SandboxChat:
        """Create a group, supergroup or channel the bot is a member of (ids are negative).

        ``by_user_id`` is the person who creates it: its creator (owner). Silent: no update
        tells the bot (``SandboxState.add_bot_to_chat`` does). Calling it for a known chat
        renames it and keeps its members, their statuses and the bot's status.
        """
        if chat_type not in CHAT_TYPES or chat_type == "private":
            raise ValueError(f"chat_type must be group, supergroup or channel, not {chat_type!r}")
        if chat_id >= 0:
            raise ValueError("group and channel ids are negative")
        known = self.chats.get(chat_id)
        chat = SandboxChat(chat_id, chat_type, title or f"محادثة {chat_id}", username)
        if known is not None and known.type == chat_type:
            chat.bot_status, chat.members, chat.roles = known.bot_status, known.members, known.roles
        else:
            chat.bot_status = joined_status(chat)
            if by_user_id is not None:
                chat.set_member_status(self._user(by_user_id).id, "creator")
        self.chats[chat_id] = chat
        return chat

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> SandboxChat:
        """Give ``user_id`` a status in a group or channel, as its admins would (silent).

        ``status``: creator, administrator, member, left or kicked (banned for ever). A user
        who left writes there again by simply writing; a banned one cannot.
        """
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {', '.join(MEMBER_STATUSES)}, not {status!r}")
        chat = self.chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise ValueError(f"chat {chat_id} is not a known group or channel")
        chat.set_member_status(self._user(user_id).id, status)
        return chat

    def set_chat_admin(self, chat_id: int, user_id: int, admin: bool = True) -> SandboxChat:
        """Promote ``user_id`` to administrator of a group or channel (``admin=False``: demote).

        Demoting makes them a plain member; promoting the creator leaves them the creator.
        """
        chat = self.chats.get(chat_id)
        if admin and chat is not None and chat.member_status(user_id) == "creator":
            return chat
        return self.set_member_status(chat_id, user_id, "administrator" if admin else "member")

    def list_chats(self) -> list[SandboxChat]:
        """Every known chat: private chats in user order, then groups and channels."""
        private = [c for c in self.chats.values() if c.type == "private"]
        return private + [c for c in self.chats.values() if c.type != "private"]

    def list_users(self) -> list[SandboxUser]:
        """Every user, in creation order."""
        return list(self.users.values())

    def _user(self, user_id: int) -> SandboxUser:
        user = self.users.get(user_id)
        return user if user is not None else self.add_user(user_id, f"مستخدم {user_id}")

    def _private_chat(self, user: SandboxUser) -> SandboxChat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.chats[user.id] = SandboxChat(user.id, "private")
        chat.first_name, chat.username = user.first_name, user.username
        return chat

    def resolve_chat(self, chat_ref: int | str, *, auto_create: bool = False) -> SandboxChat:
        """The chat a bot request names (id or @username), or 400 ``chat not found``.

        ``auto_create`` turns an unknown positive id into a fresh user (for benchmarks).
        """
        if isinstance(chat_ref, str):
            name = chat_ref.removeprefix("@").lower()
            for chat in self.chats.values():
                if chat.type != "private" and chat.username and chat.username.lower() == name:
                    return chat
            raise bad_request("chat not found")
        found = self.chats.get(chat_ref)
        if found is None and auto_create and chat_ref > 0:
            found = self._private_chat(self._user(chat_ref))
        if found is None:
            raise bad_request("chat not found")
        return found

    def migrate_chat(self, chat_id: int, new_chat_id: int | None = None) -> SandboxChat:
        """Upgrade a basic group to a supergroup (silent); returns the new supergroup.

        The supergroup keeps the group's title, members, roles and the bot's status; from then
        on every send to the old id answers ``400 group chat was upgraded to a supergroup
        chat`` with ``parameters.migrate_to_chat_id``, as Telegram does. ``new_chat_id``
        defaults to a supergroup-style id (``-100…``).
        """
        chat = self.chats.get(chat_id)
        if chat is None or chat.type != "group":
            raise ValueError(f"chat {chat_id} is not a known basic group")
        if chat.migrated_to is not None:
            raise ValueError(f"chat {chat_id} was already upgraded to {chat.migrated_to}")
        new_id = new_chat_id if new_chat_id is not None else -(10**12 + abs(chat_id))
        if new_id >= 0 or new_id in self.chats:
            raise ValueError(f"{new_id} is not a free supergroup id")
        upgraded = SandboxChat(new_id, "supergroup", chat.title, chat.username)
        upgraded.bot_status = chat.bot_status
        upgraded.members, upgraded.roles = list(chat.members), dict(chat.roles)
        self.chats[new_id] = upgraded
        chat.migrated_to = new_id
        return upgraded

    def check_reachable(self, chat: SandboxChat) -> None:
        """Raise Telegram's error for a chat the bot can't write to: blocked, gone or left."""
        if chat.migrated_to is not None:
            raise group_migrated(chat.migrated_to)
        if chat.type != "private":
            problem = refusal(chat)
            if problem is not None:
                raise problem
            return
        user = self.users.get(chat.id)
        if user is None:
            return
        if user.deactivated:
            raise forbidden("user is deactivated")
        if user.blocked:
            raise forbidden("bot was blocked by the user")

    def set_blocked(self, user_id: int, blocked: bool) -> bool:
        """Mark whether the user blocked the bot (sends answer 403); ``True`` if it changed."""
        user = self._user(user_id)
        changed = user.blocked != blocked
        user.blocked = blocked
        return changed

    def deactivate(self, user_id: int) -> None:
        """The user deletes their account: sends to them answer 403 ``user is deactivated``."""
        self._user(user_id).deactivated = True

    def reactivate(self, user_id: int) -> None:
        """Undo ``deactivate``."""
        self._user(user_id).deactivated = False
