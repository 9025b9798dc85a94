"""The Bot API methods the sandbox implements, answering the way Telegram does."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.errors import bad_request, conflict
from sandbox.html_check import ParsedText
from sandbox.membership import chat_member, refusal
from sandbox.message_rules import MAX_ANSWER_TEXT, check_inline_keyboard, outgoing_text
from sandbox.records import ChatMessage, SandboxChat
from sandbox.state import SandboxState

Params = dict[str, Any]
Handler = Callable[[Params], Awaitable[object]]

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class BotApi:
    """Method name -> implementation; each takes decoded parameters and returns the result."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendChatAction": self.send_chat_action,
            "getChatMember": self.get_chat_member,
            "close": self.trivially_true,
            "logOut": self.trivially_true,
        }

    def handler(self, method: str) -> Handler | None:
        """The implementation of a spec method (canonical name), ``None`` if not implemented."""
        return self._handlers.get(method)

    async def get_me(self, params: Params) -> object:
        """getMe: the bot's User."""
        return self.state.bot_user(full=True)

    async def get_updates(self, params: Params) -> object:
        """getUpdates: long polling; 409 while a webhook is set."""
        state = self.state
        if state.webhook.active:
            raise conflict(
                "can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        state.updates.set_allowed(params.get("allowed_updates"))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        return await state.updates.get(params.get("offset"), limit, float(params.get("timeout", 0)))

    async def set_webhook(self, params: Params) -> object:
        """setWebhook: start POSTing updates to ``url`` (an empty url removes the webhook)."""
        state = self.state
        url = str(params["url"]) if "url" in params else ""
        if not url:
            state.webhook.clear()
            return True
        if not url.lower().startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            state.updates.drop_pending()
        state.updates.set_allowed(params.get("allowed_updates"))
        state.webhook.set(url, secret, params.get("max_connections"))
        state.webhook.ip_address = params.get("ip_address")
        return True

    async def delete_webhook(self, params: Params) -> object:
        """deleteWebhook: back to getUpdates, optionally dropping pending updates."""
        if params.get("drop_pending_updates"):
            self.state.updates.drop_pending()
        self.state.webhook.clear()
        return True

    async def get_webhook_info(self, params: Params) -> object:
        """getWebhookInfo: the WebhookInfo object."""
        return self.state.webhook.info()

    def _chat_for_send(self, chat_ref: int | str) -> SandboxChat:
        state = self.state
        state.flood.check_injected()
        chat = state.resolve_chat(chat_ref, auto_create=state.config.auto_create_chats)
        state.check_reachable(chat)
        return chat

    def _checked_content(self, params: Params) -> tuple[ParsedText, Any]:
        """A send's or edit's text and keyboard, validated like Telegram; (parsed text, markup)."""
        parsed = outgoing_text(
            params["text"],
            params.get("parse_mode"),
            params.get("entities"),
            strict=self.state.config.strict_html,
        )
        markup = params.get("reply_markup")
        check_inline_keyboard(markup)
        return parsed, markup

    async def send_message(self, params: Params) -> object:
        """sendMessage: validate like Telegram, apply limits, record, return the Message."""
        state = self.state
        parsed, markup = self._checked_content(params)
        chat = self._chat_for_send(params["chat_id"])
        reply_to = self._reply_target(chat, params.get("reply_parameters"))
        state.flood.check(chat.id, chat.type, per_chat=True)
        now = int(time.time())
        message_id = state.chat_log.next_message_id(chat.id)
        api: dict[str, Any] = {
            "message_id": message_id,
            "from": state.bot_user(),
            "chat": chat.to_api(),
            "date": now,
        }
        if reply_to is not None:
            api["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        api["text"] = parsed.text
        if parsed.entities:
            api["entities"] = list(parsed.entities)
        if params.get("link_preview_options"):
            api["link_preview_options"] = params["link_preview_options"]
        inline = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        if inline is not None:
            api["reply_markup"] = inline
        message = ChatMessage(
            chat.id, message_id, now, True, api["from"]["id"], params["text"], parsed.text,
            params.get("parse_mode"), parsed.entities, inline, api,
        )  # fmt: skip
        message.request = dict(params)
        state.chat_log.add_message(message)
        state.typing.pop(chat.id, None)
        return api

    def _reply_target(
        self, chat: SandboxChat, reply: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The Message being replied to; 400 when it does not exist and that is not allowed."""
        if not reply:
            return None
        target_chat = reply.get("chat_id", chat.id)
        found = self.state.chat_log.find_message(target_chat, reply["message_id"])
        if found is not None:
            return found.api
        if not reply.get("allow_sending_without_reply") and not self.state.chat_log.issued(
            target_chat, reply["message_id"]
        ):
            raise bad_request("message to be replied not found")
        return None

    def _mark_edited(self, chat_id: int, message: ChatMessage, now: int) -> None:
        """Record an edit as Telegram shows it («edited», its date) and refresh the chat page."""
        message.edited, message.edit_date = True, now
        message.edit_count += 1
        self.state.chat_log.touch(chat_id, message)

    async def edit_message_text(self, params: Params) -> object:
        """editMessageText: replace a bot message's text and keyboard."""
        state = self.state
        _check_edit_target(params)
        if "text" not in params or params["text"] == "":
            raise bad_request("message text is empty")
        parsed, markup = self._checked_content(params)
        chat = self._chat_for_send(params["chat_id"])
        message_id = params["message_id"]
        old = state.chat_log.find_message(chat.id, message_id)
        if old is None and not state.chat_log.issued(chat.id, message_id):
            raise bad_request("message to edit not found")
        if old is not None and not old.from_bot:
            raise bad_request("message can't be edited")
        same = (old.visible_text, old.entities, old.reply_markup) if old is not None else None
        if same == (parsed.text, parsed.entities, markup):
            raise bad_request(_NOT_MODIFIED)
        state.flood.check(chat.id, chat.type, per_chat=False)
        now = int(time.time())
        api: dict[str, Any] = {
            "message_id": message_id,
            "from": state.bot_user(),
            "chat": chat.to_api(),
            "date": old.date if old is not None else now,
            "edit_date": now,
            "text": parsed.text,
        }
        if parsed.entities:
            api["entities"] = list(parsed.entities)
        if markup:
            api["reply_markup"] = markup
        if old is not None:
            old.text, old.visible_text, old.parse_mode = (
                params["text"],
                parsed.text,
                params.get("parse_mode"),
            )
            old.entities, old.reply_markup, old.api = parsed.entities, markup or None, api
            self._mark_edited(chat.id, old, now)
        return api

    async def edit_message_reply_markup(self, params: Params) -> object:
        """editMessageReplyMarkup: replace (or, without one, remove) a bot message's keyboard."""
        state = self.state
        _check_edit_target(params)
        markup = params.get("reply_markup")
        check_inline_keyboard(markup)
        chat = self._chat_for_send(params["chat_id"])
        message_id = params["message_id"]
        old = state.chat_log.find_message(chat.id, message_id)
        if old is None:
            if not state.chat_log.issued(chat.id, message_id):
                raise bad_request("message to edit not found")
            raise bad_request("message can't be edited")  # not retained: nothing to show
        if not old.from_bot:
            raise bad_request("message can't be edited")
        if (old.reply_markup or None) == (markup or None):
            raise bad_request(_NOT_MODIFIED)
        state.flood.check(chat.id, chat.type, per_chat=False)
        now = int(time.time())
        api = dict(old.api)
        api["edit_date"] = now
        api.pop("reply_markup", None)
        if markup:
            api["reply_markup"] = markup
        old.reply_markup, old.api = markup or None, api
        self._mark_edited(chat.id, old, now)
        return api

    async def delete_message(self, params: Params) -> object:
        """deleteMessage: remove a message of the chat for everyone."""
        state = self.state
        chat = state.resolve_chat(params["chat_id"])
        state.check_reachable(chat)
        if not state.chat_log.delete(chat.id, params["message_id"]):
            raise bad_request("message to delete not found")
        return True

    async def answer_callback_query(self, params: Params) -> object:
        """answerCallbackQuery: record the answer the user would see as a toast or alert."""
        record = self.state.chat_log.find_callback(params["callback_query_id"])
        if record is None or record.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and len(text) > MAX_ANSWER_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.text = text
        record.show_alert = bool(params.get("show_alert", False))
        record.url = params.get("url")
        self.state.chat_log.touch(record.chat_id, record)
        return True

    @staticmethod
    def _commands_key(params: Params) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + str(params.get("language_code") or "")

    async def set_my_commands(self, params: Params) -> object:
        """setMyCommands: store the command list for a scope and language."""
        commands = params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands")
        for command in commands:
            if not _COMMAND.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.state.commands[self._commands_key(params)] = list(commands)
        return True

    async def get_my_commands(self, params: Params) -> object:
        """getMyCommands: the list stored for exactly this scope and language."""
        return self.state.commands.get(self._commands_key(params), [])

    async def delete_my_commands(self, params: Params) -> object:
        """deleteMyCommands: forget the list for this scope and language."""
        self.state.commands.pop(self._commands_key(params), None)
        return True

    async def send_chat_action(self, params: Params) -> object:
        """sendChatAction: shown as "typing…" in the chat page until the next bot message."""
        if params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        state = self.state
        chat = state.resolve_chat(params["chat_id"], auto_create=state.config.auto_create_chats)
        state.check_reachable(chat)
        state.typing[chat.id] = time.time()
        state.chat_log.bump(chat.id)
        return True

    async def get_chat_member(self, params: Params) -> object:
        """getChatMember: a person's (or the bot's) ChatMember, with Telegram's errors.

        In a private chat both parties are members and anyone else is ``member not found``; a
        group or channel the bot is no longer in answers as sendMessage there would; a user
        Telegram never showed the bot is ``user not found``; one not in the group has left.
        """
        state = self.state
        chat = state.resolve_chat(params["chat_id"])
        user_id = params["user_id"]
        bot = state.bot_user()
        if chat.type == "private":
            if user_id == chat.id:
                return chat_member(state.users[chat.id].to_api(), "member", chat.type)
            if user_id == bot["id"]:
                return chat_member(bot, "member", chat.type)
            raise bad_request("member not found")
        problem = refusal(chat)
        if problem is not None:
            raise problem
        if user_id == bot["id"]:
            return chat_member(bot, chat.bot_status, chat.type)
        user = state.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        return chat_member(user.to_api(), chat.member_status(user.id), chat.type)

    async def trivially_true(self, params: Params) -> object:
        """close / logOut: nothing to do in a sandbox."""
        return True


def _check_edit_target(params: Params) -> None:
    """The message an edit names: a chat's message (inline messages are not simulated)."""
    if "inline_message_id" in params:
        raise bad_request("MESSAGE_ID_INVALID (inline messages are not simulated)")
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message identifier is not specified")
