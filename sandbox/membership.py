"""The bot's own membership in chats: statuses, ``ChatMember`` objects and ``my_chat_member``."""

from __future__ import annotations

from typing import Any, Literal

from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.records import SandboxChat

BotStatus = Literal["member", "administrator", "left", "kicked"]
BOT_STATUSES: tuple[BotStatus, ...] = ("member", "administrator", "left", "kicked")
GONE: frozenset[str] = frozenset({"left", "kicked"})

# A bot can only post in a channel as an administrator; these are the rights it usually gets.
_CHANNEL_ADMIN_RIGHTS: dict[str, bool] = {
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
    "can_post_messages": True,
    "can_edit_messages": True,
}


def joined_status(chat: SandboxChat) -> BotStatus:
    """What the bot is once added to ``chat``: an administrator in channels, else a member."""
    return "administrator" if chat.type == "channel" else "member"


def removed_status(chat: SandboxChat) -> BotStatus:
    """What removing the bot makes it: a basic group forgets it, elsewhere it is banned."""
    return "left" if chat.type == "group" else "kicked"


def chat_member(user: dict[str, Any], status: str) -> dict[str, Any]:
    """The Bot API ``ChatMember`` object for ``user`` with ``status``."""
    if status not in BOT_STATUSES:
        raise ValueError(f"status must be one of {', '.join(BOT_STATUSES)}, not {status!r}")
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0  # banned for ever, as a block or a removal is
    elif status == "administrator":
        member.update(_CHANNEL_ADMIN_RIGHTS)
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
        "old_chat_member": chat_member(bot, old),
        "new_chat_member": chat_member(bot, new),
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
