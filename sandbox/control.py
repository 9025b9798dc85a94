"""The control API under ``/sandbox/...``: JSON over HTTP for the chat page, tests and people.

Every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` (HTTP 400).
The same operations exist as methods on ``SandboxState`` for in-process tests.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.records import ChatType
from sandbox.state import SandboxState

Body = dict[str, Any]
_MAX_LONG_POLL = 30.0
_TYPING_SECONDS = 5.0


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


async def _body(request: web.Request) -> Body:
    if not request.body_exists:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _wrap(func: Callable[[web.Request], Awaitable[object]]) -> Callable[..., Any]:
    """Turn a result-returning coroutine into a handler with the control-API envelope."""

    async def handler(request: web.Request) -> web.Response:
        try:
            return _ok(await func(request))
        except (ValueError, KeyError, TypeError) as exc:
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            return web.json_response({"ok": False, "error": detail}, status=400, dumps=_dumps)

    return handler


class ControlApi:
    """Handlers for each control operation, bound to one ``SandboxState``."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    async def list_users(self, request: web.Request) -> object:
        """GET /sandbox/users."""
        return [u.to_json() for u in self.state.list_users()]

    async def add_user(self, request: web.Request) -> object:
        """POST /sandbox/users {id, first_name, username?, language_code?}."""
        body = await _body(request)
        user = self.state.add_user(
            int(body["id"]),
            str(body.get("first_name") or f"مستخدم {body['id']}"),
            body.get("username") or None,
            language_code=body.get("language_code", "ar"),
        )
        return user.to_json()

    async def list_chats(self, request: web.Request) -> object:
        """GET /sandbox/chats: every known chat (private chats, then groups and channels).

        Each is the Bot API Chat object (``title`` for groups and channels, ``first_name`` for
        private chats) plus ``bot_status`` and ``members`` (user ids seen in a group).
        """
        return [c.to_json() for c in self.state.list_chats()]

    async def add_chat(self, request: web.Request) -> object:
        """POST /sandbox/chats {id, type, title?, username?, by_user_id?} (the creator)."""
        body = await _body(request)
        chat_type: ChatType = body["type"]
        creator = body.get("by_user_id")
        chat = self.state.add_chat(
            int(body["id"]),
            chat_type,
            body.get("title"),
            body.get("username"),
            by_user_id=int(creator) if creator is not None else None,
        )
        return chat.to_json()

    async def chat_admin(self, request: web.Request) -> object:
        """POST /sandbox/chat_admin {chat_id, user_id, admin?}: promote (or demote) a member."""
        body = await _body(request)
        chat = self.state.set_chat_admin(
            int(body["chat_id"]), int(body["user_id"]), bool(body.get("admin", True))
        )
        return chat.to_json()

    async def chat_member(self, request: web.Request) -> object:
        """POST /sandbox/chat_member {chat_id, user_id, status}: creator, member, left, kicked."""
        body = await _body(request)
        chat = self.state.set_member_status(
            int(body["chat_id"]), int(body["user_id"]), str(body["status"])
        )
        return chat.to_json()

    async def send(self, request: web.Request) -> object:
        """POST /sandbox/send {user_id, text, chat_id?, chat_type?, edited_of?, reply_to?}.

        ``reply_to_message_id`` makes the message an answer to an earlier one of the chat;
        ``sender_chat_id`` sends it on behalf of the group (an anonymous admin) or a channel.
        """
        body = await _body(request)
        chat_id = body.get("chat_id")
        edited_of = body.get("edited_of", body.get("message_id"))
        reply_to = body.get("reply_to_message_id")
        sender_chat = body.get("sender_chat_id")
        return self.state.user_sends(
            int(body["user_id"]),
            str(body["text"]),
            chat_id=int(chat_id) if chat_id is not None else None,
            chat_type=body.get("chat_type", "private"),
            edited_of=int(edited_of) if edited_of is not None else None,
            reply_to_message_id=int(reply_to) if reply_to is not None else None,
            sender_chat_id=int(sender_chat) if sender_chat is not None else None,
        )

    async def edit(self, request: web.Request) -> object:
        """POST /sandbox/edit {user_id, message_id, text, chat_id?}: an edited_message update."""
        body = await _body(request)
        if "message_id" not in body:
            raise ValueError("message_id is required")
        return await self.send(request)

    async def delete(self, request: web.Request) -> object:
        """POST /sandbox/delete {chat_id, message_id}: a user deletes a message of the chat."""
        body = await _body(request)
        deleted = self.state.user_deletes(int(body["chat_id"]), int(body["message_id"]))
        if not deleted:
            raise ValueError("no such message in that chat")
        return True

    async def press(self, request: web.Request) -> object:
        """POST /sandbox/press {user_id, chat_id, message_id, data?}."""
        body = await _body(request)
        query_id = self.state.press_button(
            int(body["user_id"]),
            int(body["chat_id"] if "chat_id" in body else body["user_id"]),
            int(body["message_id"]),
            body.get("data"),
        )
        return {"callback_query_id": query_id}

    async def history(self, request: web.Request) -> object:
        """GET /sandbox/history/{chat_id}?version=N&timeout=S (long-polls until it changes)."""
        chat_id = int(request.match_info["chat_id"])
        log = self.state.chat_log
        seen = int(request.query.get("version", "-1"))
        timeout = min(float(request.query.get("timeout", "0")), _MAX_LONG_POLL)
        if seen >= 0 and timeout > 0:
            with contextlib.suppress(TimeoutError):
                await log.wait_until(lambda: log.version(chat_id) != seen, timeout)
        typing_since = self.state.typing.get(chat_id, 0.0)
        chat = self.state.chats.get(chat_id)
        user = self.state.users.get(chat_id)
        return {
            "chat_id": chat_id,
            "chat": chat.to_json() if chat is not None else None,
            "blocked": user is not None and user.blocked,
            "version": log.version(chat_id),
            "typing": time.time() - typing_since < _TYPING_SECONDS,
            "entries": [e.to_json() for e in self.state.history(chat_id)],
        }

    async def callbacks(self, request: web.Request) -> object:
        """GET /sandbox/callbacks?chat_id=N."""
        chat_id = request.query.get("chat_id")
        records = self.state.callback_answers(int(chat_id) if chat_id else None)
        return [r.to_json() for r in records]

    async def user_flag(self, request: web.Request) -> object:
        """POST /sandbox/{block,unblock,deactivate,reactivate} {user_id, notify?}.

        Blocking and unblocking here tell the bot (``my_chat_member``) as Telegram does, unless
        ``notify`` is false: this is what a person does in the chat page.
        """
        action = request.match_info["action"]
        body = await _body(request)
        user_id = int(body["user_id"])
        notify = bool(body.get("notify", True))
        if action == "block":
            self.state.block(user_id, notify=notify)
        elif action == "unblock":
            self.state.unblock(user_id, notify=notify)
        elif action == "deactivate":
            self.state.deactivate(user_id)
        else:
            self.state.reactivate(user_id)
        return self.state.users[user_id].to_json()

    async def remove_bot(self, request: web.Request) -> object:
        """POST /sandbox/remove_bot {chat_id, by_user_id, status?}: the group drops the bot."""
        body = await _body(request)
        chat_id = int(body["chat_id"])
        self.state.remove_bot_from_chat(
            chat_id, int(body["by_user_id"]), status=body.get("status") or None
        )
        return self.state.chats[chat_id].to_json()

    async def add_bot(self, request: web.Request) -> object:
        """POST /sandbox/add_bot {chat_id, by_user_id, type?, title?}: the bot joins a group."""
        body = await _body(request)
        chat_id = int(body["chat_id"])
        chat_type: ChatType = body.get("type", "group")
        self.state.add_bot_to_chat(
            chat_id, int(body["by_user_id"]), chat_type=chat_type, title=body.get("title")
        )
        return self.state.chats[chat_id].to_json()

    async def migrate(self, request: web.Request) -> object:
        """POST /sandbox/migrate {chat_id, new_chat_id?}: a basic group becomes a supergroup."""
        body = await _body(request)
        new_id = body.get("new_chat_id")
        chat = self.state.migrate_chat(
            int(body["chat_id"]), int(new_id) if new_id is not None else None
        )
        return chat.to_json()

    async def get_config(self, request: web.Request) -> object:
        """GET /sandbox/config."""
        config = self.state.config
        return {
            "bot_username": config.bot_username,
            "latency_ms": config.latency_ms,
            "answer_latency_ms": config.answer_latency_ms,
            "strict_html": config.strict_html,
            "check_answers": config.check_answers,
            "auto_create_chats": config.auto_create_chats,
            "record_history": self.state.chat_log.record,
            "flood": self.state.flood.config.to_json(),
            "injected": self.state.flood.injected(),
            "peak_per_second": self.state.flood.peak_per_second,
        }

    async def set_config(self, request: web.Request) -> object:
        """POST /sandbox/config {latency_ms?, strict_html?, record_history?, flood?: {...}}."""
        body = await _body(request)
        flood = body.pop("flood", None)
        if flood is not None:
            self.state.set_flood(**flood)
        self.state.configure(**body)
        return await self.get_config(request)

    async def set_flood(self, request: web.Request) -> object:
        """POST /sandbox/flood {enabled, global_per_second?, private_per_second?, ...}."""
        body = await _body(request)
        return self.state.set_flood(**body).to_json()

    async def inject_429(self, request: web.Request) -> object:
        """POST /sandbox/inject_429 {count?, retry_after?, seconds?}."""
        body = await _body(request)
        self.state.inject_429(
            int(body.get("count", 0 if body.get("seconds") else 1)),
            int(body.get("retry_after", 1)),
            seconds=float(body.get("seconds", 0)),
        )
        return self.state.flood.injected()

    async def inject_errors(self, request: web.Request) -> object:
        """POST /sandbox/inject_errors {rate: 0.1 | count: 3, status?: 500, method?}."""
        body = await _body(request)
        amount: float = float(body["rate"]) if "rate" in body else int(body["count"])
        method = body.get("method")
        self.state.inject_errors(
            amount, int(body.get("status", 500)), method=str(method) if method else None
        )
        return self.state.flood.injected()

    async def stats(self, request: web.Request) -> object:
        """GET /sandbox/stats."""
        return self.state.stats()

    async def reset(self, request: web.Request) -> object:
        """POST /sandbox/reset."""
        self.state.reset()
        return True

    async def bot(self, request: web.Request) -> object:
        """GET /sandbox/bot: the bot's User, default commands and webhook status."""
        commands = self.state.commands.get(json.dumps({"type": "default"}) + "|", [])
        return {
            "user": self.state.bot_user(),
            "commands": commands,
            "webhook": self.state.webhook.info(),
        }


def add_control_routes(app: web.Application, state: SandboxState) -> None:
    """Register every ``/sandbox/...`` route on ``app``."""
    api = ControlApi(state)
    routes: list[tuple[str, str, Callable[[web.Request], Awaitable[object]]]] = [
        ("GET", "/sandbox/users", api.list_users),
        ("POST", "/sandbox/users", api.add_user),
        ("GET", "/sandbox/chats", api.list_chats),
        ("POST", "/sandbox/chats", api.add_chat),
        ("POST", "/sandbox/send", api.send),
        ("POST", "/sandbox/edit", api.edit),
        ("POST", "/sandbox/delete", api.delete),
        ("POST", "/sandbox/press", api.press),
        ("GET", "/sandbox/history/{chat_id}", api.history),
        ("GET", "/sandbox/callbacks", api.callbacks),
        ("POST", "/sandbox/{action:block|unblock|deactivate|reactivate}", api.user_flag),
        ("POST", "/sandbox/remove_bot", api.remove_bot),
        ("POST", "/sandbox/add_bot", api.add_bot),
        ("POST", "/sandbox/migrate", api.migrate),
        ("POST", "/sandbox/chat_admin", api.chat_admin),
        ("POST", "/sandbox/chat_member", api.chat_member),
        ("GET", "/sandbox/config", api.get_config),
        ("POST", "/sandbox/config", api.set_config),
        ("POST", "/sandbox/flood", api.set_flood),
        ("POST", "/sandbox/inject_429", api.inject_429),
        ("POST", "/sandbox/inject_errors", api.inject_errors),
        ("GET", "/sandbox/stats", api.stats),
        ("POST", "/sandbox/reset", api.reset),
        ("GET", "/sandbox/bot", api.bot),
    ]
    for method, path, func in routes:
        app.router.add_route(method, path, _wrap(func))
