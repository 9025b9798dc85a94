"""Running the Application: long polling, or a webhook served by our own aiohttp server.

PTB's ``run_polling``/``run_webhook`` own the event loop; newsbot runs the bot next to its
delivery workers in one loop, so the lifecycle is driven by hand here (as in PTB's
``customwebhookbot`` example): initialise, ``post_init``, start, feed updates, stop, shut down.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError

from bot.app import ALLOWED_UPDATES
from bot.context import NewsApplication
from bot.httpserver import BodyTimeout, client_gone, header_bytes, make_runner, read_body
from bot.redaction import redact
from config import ConfigError, Settings

logger = logging.getLogger(__name__)

#: The header Telegram sends with the ``secret_token`` given to ``setWebhook``.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Largest update body accepted by the webhook (Telegram's updates are far smaller).
MAX_UPDATE_BYTES = 1_048_576


async def start_application(application: NewsApplication) -> None:
    """Initialise (``getMe``), run ``post_init`` (command menu) and start processing updates."""
    try:
        await application.initialize()
    except (InvalidToken, NetworkError) as exc:
        # Bot.initialize opened the HTTP clients before getMe failed: close them, and say in
        # one line which setting is at fault (PTB's InvalidToken message contains the token).
        await application.bot.shutdown()
        api = urlsplit(application.bot.base_url)
        where = f"{api.scheme}://{api.netloc}"
        if isinstance(exc, InvalidToken):
            raise ConfigError(
                f"TELEGRAM_BOT_TOKEN: the Bot API at {where} rejected the token"
            ) from None
        raise ConfigError(
            f"TELEGRAM_API_URL: cannot reach the Bot API at {where} ({type(exc).__name__})"
        ) from None
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()


async def stop_application(application: NewsApplication) -> None:
    """Stop polling if it runs, let in-flight handlers finish, and release the HTTP clients."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


@contextlib.asynccontextmanager
async def polling(
    application: NewsApplication,
    *,
    poll_timeout: float = 10.0,
    drop_pending_updates: bool = False,
) -> AsyncIterator[NewsApplication]:
    """Run the application with long polling (``getUpdates``) for the duration of the block."""
    if application.updater is None:
        raise RuntimeError("polling needs an Application built with an updater")
    await start_application(application)
    try:
        await application.updater.start_polling(
            timeout=int(max(0, poll_timeout)),
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=drop_pending_updates,
        )
        logger.info("bot @%s is polling for updates", application.bot.username)
        yield application
    finally:
        await stop_application(application)


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where the webhook server listens, and the public URL Telegram posts to."""

    host: str
    port: int
    path: str
    public_url: str


def webhook_secret(settings: Settings) -> str:
    """The webhook secret (``Settings`` refused to load without a valid one for a webhook)."""
    if settings.webhook_secret is None:
        raise ConfigError("NEWSBOT_WEBHOOK_SECRET is required when NEWSBOT_WEBHOOK_URL is set")
    return settings.webhook_secret.get_secret_value()


def make_webhook_app(
    application: NewsApplication, path: str, secret: str, *, body_timeout: float
) -> web.Application:
    """The aiohttp app: ``POST path`` with the right secret header feeds the update queue."""
    expected = secret.encode("utf-8")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.Response(status=401, text="missing secret token")
        # Constant-time comparison: the secret is the only thing between the internet and
        # the update queue. Non-UTF-8 bytes are compared as sent: simply a wrong secret.
        if not hmac.compare_digest(header_bytes(given), expected):
            return web.Response(status=403, text="wrong secret token")
        # Outside the broad except below: a body over the limit is a 413, not "malformed".
        try:
            body = await read_body(request, MAX_UPDATE_BYTES, seconds=body_timeout)
        except BodyTimeout as exc:
            logger.info("webhook: %s; connection closed", exc)
            response = web.Response(status=408, text=str(exc))
            response.force_close()
            return response
        except ConnectionError:
            if not client_gone(request):
                raise
            logger.info("webhook: sender disconnected before the update was read")
            return web.Response(status=499, reason="Client Closed Request")
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise TypeError(f"an update is a JSON object, not {type(data).__name__}")
            update = Update.de_json(data, application.bot)
        except Exception as exc:  # whatever the body makes PTB raise, it is the sender's fault
            # Neither the body nor the exception text is logged: both are the sender's data.
            logger.warning("webhook: rejected a malformed update: %s", type(exc).__name__)
            return web.Response(status=400, text="malformed update")
        await application.update_queue.put(update)
        return web.Response(text="ok")

    async def health(request: web.Request) -> web.Response:
        del request
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", health)
    return app


def webhook_endpoint(settings: Settings) -> WebhookEndpoint:
    """The listen address and path for ``NEWSBOT_WEBHOOK_URL`` / ``NEWSBOT_WEBHOOK_PORT``."""
    if not settings.webhook_url:
        raise ConfigError("NEWSBOT_WEBHOOK_URL is not set")
    path = urlsplit(settings.webhook_url).path or "/"
    return WebhookEndpoint(
        host=settings.webhook_listen,
        port=settings.webhook_port,
        path=path,
        public_url=settings.webhook_url,
    )


@contextlib.asynccontextmanager
async def webhook(
    application: NewsApplication, settings: Settings
) -> AsyncIterator[WebhookEndpoint]:
    """Run the application fed by an aiohttp webhook server, and register it with ``setWebhook``.

    The webhook stays registered on exit, so Telegram keeps the updates that arrive while the
    bot restarts.
    """
    secret = webhook_secret(settings)
    endpoint = webhook_endpoint(settings)
    await start_application(application)
    app = make_webhook_app(
        application, endpoint.path, secret, body_timeout=settings.http_body_timeout
    )
    runner = make_runner(app, header_timeout=settings.http_header_timeout)
    try:
        await runner.setup()
        site = web.TCPSite(runner, endpoint.host, endpoint.port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"NEWSBOT_WEBHOOK_LISTEN/NEWSBOT_WEBHOOK_PORT: cannot listen on "
                f"{endpoint.host}:{endpoint.port} ({exc.strerror or type(exc).__name__})"
            ) from None
        try:
            await application.bot.set_webhook(
                url=endpoint.public_url,
                secret_token=secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        except BadRequest as exc:
            reason = redact(exc.message, application.bot.token)
            raise ConfigError(
                f"NEWSBOT_WEBHOOK_URL: Telegram refused the webhook {endpoint.public_url} "
                f"({reason})"
            ) from None
        logger.info(
            "bot @%s receives updates by webhook on %s:%s%s",
            application.bot.username,
            endpoint.host,
            endpoint.port,
            endpoint.path,
        )
        yield endpoint
    finally:
        await runner.cleanup()
        await stop_application(application)


@contextlib.asynccontextmanager
async def serving(
    application: NewsApplication, settings: Settings, *, poll_timeout: float = 10.0
) -> AsyncIterator[str]:
    """Webhook when ``NEWSBOT_WEBHOOK_URL`` is set, long polling otherwise; yields the mode."""
    if settings.webhook_url:
        async with webhook(application, settings):
            yield "webhook"
    else:
        async with polling(application, poll_timeout=poll_timeout):
            yield "polling"


async def wait_for_stop_signal(stop: asyncio.Event | None = None) -> None:
    """Return on SIGINT or SIGTERM (or when ``stop`` is set), for a graceful shutdown."""
    event = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, event.set)
            installed.append(sig)
    try:
        await event.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
