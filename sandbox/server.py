"""The aiohttp application: Bot API endpoint, control API, chat page, and the server runner."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from yarl import URL

from sandbox.api_methods import BotApi
from sandbox.control import add_control_routes
from sandbox.errors import ApiError, bad_request, not_found
from sandbox.flood import ARRIVED, FloodConfig
from sandbox.state import SandboxState

logger = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"(\d+):[A-Za-z0-9_-]{30,}")
_SHUTDOWN_SECONDS = 2.0


def _json_response(body: dict[str, Any], status: int) -> web.Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return web.Response(body=data, status=status, content_type="application/json")


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict.

    yarl's C decoder is ~10x faster than ``urllib.parse.parse_qsl`` on percent-encoded Arabic,
    which matters at thousands of sendMessage calls per second.
    """
    text = body.decode("utf-8")
    if "#" in text:  # a raw "#" would start a URL fragment; let the slow parser handle it
        return dict(parse_qsl(text, keep_blank_values=True))
    return dict(URL("http://form/?" + text, encoded=True).query)


async def read_params(request: web.Request) -> dict[str, object]:
    """A request's parameters from the query string and a JSON, form or multipart body."""
    params: dict[str, object] = dict(request.query) if request.query_string else {}
    if request.method != "POST" or not request.body_exists:
        return params
    ctype = request.content_type
    try:
        if ctype == "application/json":
            body = json.loads(await request.read())
            if not isinstance(body, dict):
                raise bad_request("the JSON body must be an object")
            params.update(body)
        elif ctype == "application/x-www-form-urlencoded":
            params.update(parse_form(await request.read()))
        elif ctype.startswith("multipart/"):
            form = await request.post()
            params.update(form.items())
    except (ValueError, UnicodeDecodeError):
        raise bad_request("can't parse request body") from None
    return params


class BotApiEndpoint:
    """``/bot<token>/<method>``: token and method checks, spec checks, dispatch, answer."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.api = BotApi(state)
        self._last_token = ""

    def _token(self, token: str) -> None:
        rejected = self.state.config.rejected_tokens
        # Checked before the cache: a token revoked mid-run is refused from its next call on.
        if rejected and token in rejected:
            raise ApiError(401, "Unauthorized")  # what Telegram answers for a revoked token
        if token == self._last_token:
            return
        match = TOKEN_RE.fullmatch(token)
        if match is None:
            raise not_found()  # Telegram answers 404 Not Found for a malformed token
        self._last_token = token
        self.state.bot_id = int(match.group(1))

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one Bot API request exactly in Telegram's envelope."""
        state = self.state
        ARRIVED.set(time.monotonic())  # this request's own task (aiohttp: one per request)
        if state.config.latency_ms > 0:
            await asyncio.sleep(state.config.latency_ms / 1000)
        name = request.match_info["method"]
        try:
            self._token(request.match_info["token"])
            method = state.spec.method(name)
            if method is None:
                raise not_found()
            name = method.name
            handler = self.api.handler(name)
            if handler is None:
                raise not_found(f"method {name} is not implemented by the newsbot sandbox")
            params = state.spec.parse_params(method, await read_params(request))
            state.flood.check_method(name)
            result = await handler(params)
            if state.config.check_answers:
                problem = state.spec.check_result(method, result)
                if problem is not None:
                    state.counters.count("answer_violations")
                    raise ApiError(500, f"Internal Server Error: sandbox answer invalid: {problem}")
        except ApiError as exc:
            state.counters.record(name, exc.status)
            return _json_response(exc.to_json(), exc.status)
        state.counters.record(name, 200)
        if state.config.answer_latency_ms > 0:
            await asyncio.sleep(state.config.answer_latency_ms / 1000)
        return _json_response({"ok": True, "result": result}, 200)


def _chat_page() -> bytes:
    return resources.files("sandbox").joinpath("static/chat.html").read_bytes()


def build_app(state: SandboxState) -> web.Application:
    """The whole sandbox as one aiohttp application (usable with aiohttp's test client)."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    endpoint = BotApiEndpoint(state)
    app.router.add_route("*", "/bot{token}/{method}", endpoint.handle)
    page = _chat_page()

    async def chat_page(request: web.Request) -> web.Response:
        return web.Response(body=page, content_type="text/html", charset="utf-8")

    app.router.add_get("/", chat_page)
    app.router.add_get("/chat", chat_page)
    add_control_routes(app, state)

    async def on_shutdown(app: web.Application) -> None:
        state.updates.close()  # release long polls so shutdown does not wait for them
        state.chat_log.close()  # the chat page's history polls too
        await state.webhook.aclose()

    app.on_shutdown.append(on_shutdown)
    return app


class SandboxServer:
    """A local stand-in for api.telegram.org, started on a free or given port."""

    def __init__(
        self,
        *,
        flood: FloodConfig | None = None,
        latency_ms: float = 0,
        record_history: bool = True,
        bot_username: str = "newsbot_sandbox_bot",
    ) -> None:
        self.state = SandboxState(
            flood=flood,
            latency_ms=latency_ms,
            record_history=record_history,
            bot_username=bot_username,
        )
        self._runner: web.AppRunner | None = None
        self._base_url = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; returns the base URL, e.g. ``http://127.0.0.1:43211``."""
        if self._runner is not None:
            return self._base_url
        self.state.updates.reopen()
        self.state.chat_log.reopen()
        runner = web.AppRunner(
            build_app(self.state), access_log=None, shutdown_timeout=_SHUTDOWN_SECONDS
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self._base_url = f"http://{shown}:{bound_port}"
        logger.info("Telegram sandbox listening on %s", self._base_url)
        return self._base_url

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server (chat page at ``/chat``)."""
        if not self._base_url:
            raise RuntimeError("the sandbox server is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        """The value for TELEGRAM_API_URL / PTB ``base_url``: the token is appended to it."""
        return f"{self.base_url}/bot"

    async def stop(self) -> None:
        """Stop serving and release long polls and webhook delivery."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self.state.updates.close()
        self.state.chat_log.close()
        await self.state.webhook.aclose()
        self._base_url = ""

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
