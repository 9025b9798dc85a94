"""The whole bot on one machine, offline: the Telegram sandbox, the Application and its workers.

Used by ``newsbot demo`` and by the end-to-end tests: the same composition as production
(Redis store, ingestor with the delivery publisher, PTB Application, delivery workers), only the
Bot API server is the local sandbox instead of api.telegram.org.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import SecretStr

from bot.app import build_application, build_production_application
from bot.context import NewsApplication
from bot.delivery.service import run_worker
from bot.runtime import Services, build_services, open_store
from bot.serving import polling
from bot.store import Store
from config import Settings
from sandbox import SandboxServer, SandboxState

logger = logging.getLogger(__name__)

#: A well-formed but fake token: the sandbox accepts any token of Telegram's shape.
SANDBOX_TOKEN = "123456:DEMO-newsbot-offline-sandbox-token"
SANDBOX_BOT_USERNAME = "newsbot_sandbox_bot"


@dataclass(frozen=True)
class LocalStack:
    """A running sandbox with the bot and its delivery workers attached to it."""

    server: SandboxServer
    settings: Settings
    services: Services
    application: NewsApplication

    @property
    def state(self) -> SandboxState:
        """The sandbox's simulated Telegram (users, chats, history)."""
        return self.server.state

    @property
    def chat_url(self) -> str:
        """The chat page where a person can talk to the bot."""
        return self.server.base_url + "/"


#: How long stopping waits for the workers' in-flight sends before cancelling them.
WORKER_SHUTDOWN_SECONDS = 30.0


@contextlib.asynccontextmanager
async def delivery_workers(settings: Settings, store: Store, *, count: int) -> AsyncIterator[None]:
    """Run ``count`` delivery workers in the background for the duration of the block.

    On exit the workers finish their in-flight sends (what they have not taken stays queued
    in Redis for the next start); a crashed worker re-raises its error here.
    """
    if count <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, store, stop, count=count), name="delivery")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, WORKER_SHUTDOWN_SECONDS)
        except TimeoutError:
            logger.warning("delivery workers did not stop within %ss", WORKER_SHUTDOWN_SECONDS)


def sandbox_settings(settings: Settings, api_url: str) -> Settings:
    """``settings`` pointed at the sandbox: fake token, its API URL, polling (no webhook)."""
    token = settings.telegram_bot_token
    return settings.model_copy(
        update={
            "telegram_bot_token": token if token is not None else SecretStr(SANDBOX_TOKEN),
            "telegram_api_url": api_url,
            "webhook_url": None,
        }
    )


@contextlib.asynccontextmanager
async def open_local_stack(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    workers: int = 1,
    poll_timeout: float = 1.0,
    server: SandboxServer | None = None,
    production_transport: bool = True,
) -> AsyncIterator[LocalStack]:
    """Start the sandbox, connect Redis, run the bot by polling and ``workers`` delivery workers.

    ``production_transport``: the bot uses the same HTTP transport and shared Redis rate
    limiter as ``newsbot run`` (replies then respect Telegram's per-chat pace); without it,
    PTB's defaults, which answer faster (tests). Everything stops, in reverse order, on exit.
    """
    sandbox = server or SandboxServer(bot_username=SANDBOX_BOT_USERNAME)
    await sandbox.start(host, port)
    try:
        local = sandbox_settings(settings, sandbox.api_url)
        async with open_store(local) as store:
            services = build_services(local, store)
            if production_transport:
                application = build_production_application(local, services)
            else:
                application = build_application(local, services)
            async with (
                polling(application, poll_timeout=poll_timeout),
                delivery_workers(local, store, count=workers),
            ):
                yield LocalStack(sandbox, local, services, application)
    finally:
        await sandbox.stop()
