"""Standing in chats: statuses, ``ChatMember`` objects, and the bot's ``my_chat_member`` updates."""

from __future__ import annotations

from typing import Any, Literal

from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.records import SandboxChat

BotStatus = Literal["member", "administrator", "left", "kicked"]
BOT_STATUSES: tuple[BotStatus, ...] = ("member", "administrator", "left", "kicked")
MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]
MEMBER_STATUSES: tuple[MemberStatus, ...] = ("creator", "administrator", "member", "left", "kicked")
ADMIN_STATUSES: frozenset[str] = frozenset({"creator", "administrator"})
GONE: frozenset[str] = frozenset({"left", "kicked"})

# Who Telegram puts in ``from`` of a message sent on behalf of a chat (``sender_chat``): kept
# for old clients, so a bot must look at ``sender_chat`` instead.
ANONYMOUS_ADMIN: dict[str, Any] = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
CHANNEL_BOT: dict[str, Any] = {
    "id": 136817688,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}

# The rights every ChatMemberAdministrator states (all required by the spec), as an
# administrator usually has them; in channels the posting rights come on top.
_ADMIN_RIGHTS: dict[str, bool] = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}
_CHANNEL_RIGHTS: dict[str, bool] = {"can_post_messages": True, "can_edit_messages": True}
_GROUP_RIGHTS: dict[str, bool] = {"can_pin_messages": True}


def joined_status(chat: SandboxChat) -> BotStatus:
    """What the bot is once added to ``chat``: an administrator in channels, else a member."""
    return "administrator" if chat.type == "channel" else "member"


def removed_status(chat: SandboxChat) -> BotStatus:
    """What removing the bot makes it: a basic group forgets it, elsewhere it is banned."""
    return "left" if chat.type == "group" else "kicked"


def chat_member(user: dict[str, Any], status: str, chat_type: str = "channel") -> dict[str, Any]:
    """The Bot API ``ChatMember`` object for ``user`` with ``status`` in a chat of ``chat_type``.

    ``creator`` is a ChatMemberOwner, ``administrator`` a ChatMemberAdministrator with every
    required right, ``kicked`` a ChatMemberBanned (for ever), ``member``/``left`` the plain ones.
    """
    if status not in MEMBER_STATUSES:
        raise ValueError(f"status must be one of {', '.join(MEMBER_STATUSES)}, not {status!r}")
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "kicked":
        member["until_date"] = 0  # banned for ever, as a block or a removal is
    elif status == "administrator":
        member.update(_ADMIN_RIGHTS)
        member.update(_CHANNEL_RIGHTS if chat_type == "channel" else _GROUP_RIGHTS)
    return member


def member_update(
    chat: SandboxChat,
    performer: dict[str, Any],
    bot: dict[str, Any],
    old: str,
    new: str,
    date: int,
) -> dict[str, Any]:
    """A ``ChatMemberUpdated`` payload: ``performer`` changed the bot from ``old`` to ``new``."""
    return {
        "chat": chat.to_api(),
        "from": performer,
        "date": date,
        "old_chat_member": chat_member(bot, old, chat.type),
        "new_chat_member": chat_member(bot, new, chat.type),
    }


def refusal(chat: SandboxChat) -> ApiError | None:
    """The error Telegram gives a bot writing to a group or channel it is no longer in."""
    if chat.bot_status not in GONE:
        return None
    if chat.bot_status == "kicked":
        return forbidden(f"bot was kicked from the {chat.type} chat")
    if chat.type == "group":
        return bad_request("chat not found")  # what Telegram answers for a basic group
    return forbidden(f"bot is not a member of the {chat.type} chat")
