"""The whole bot on one machine, offline: the Telegram sandbox plus the production runtime.

Used by ``newsbot demo`` and by the end-to-end tests. Everything but the Bot API server is the
production composition (``bot.runtime.open_runtime``): the same store, delivery engine, API
server, metrics and readiness; only Telegram is the local sandbox instead of api.telegram.org.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import SecretStr

from bot.context import NewsApplication
from bot.runtime import Parts, Runtime, open_runtime
from bot.services import Services
from config import Settings
from sandbox import SandboxServer, SandboxState

#: A well-formed but fake token: the sandbox accepts any token of Telegram's shape.
SANDBOX_TOKEN = "123456:DEMO-newsbot-offline-sandbox-token"
SANDBOX_BOT_USERNAME = "newsbot_sandbox_bot"


@dataclass(frozen=True)
class LocalStack:
    """A running sandbox with the runtime (bot, workers, API) attached to it."""

    server: SandboxServer
    runtime: Runtime

    @property
    def settings(self) -> Settings:
        """The settings the runtime was built from (pointed at the sandbox)."""
        return self.runtime.settings

    @property
    def services(self) -> Services:
        """The runtime's services (store, ingestor, delivery reader)."""
        return self.runtime.services

    @property
    def application(self) -> NewsApplication:
        """The bot's Application."""
        if self.runtime.application is None:
            raise RuntimeError("this local stack runs no bot")
        return self.runtime.application

    @property
    def state(self) -> SandboxState:
        """The sandbox's simulated Telegram (users, chats, history)."""
        return self.server.state

    @property
    def chat_url(self) -> str:
        """The chat page where a person can talk to the bot."""
        return self.server.base_url + "/"


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
    parts: Parts | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    server: SandboxServer | None = None,
) -> AsyncIterator[LocalStack]:
    """Start the sandbox on host:port and the runtime's ``parts`` against it; stop both on exit."""
    sandbox = server or SandboxServer(bot_username=SANDBOX_BOT_USERNAME)
    await sandbox.start(host, port)
    try:
        local = sandbox_settings(settings, sandbox.api_url)
        async with open_runtime(local, parts or Parts(poll_timeout=1.0)) as runtime:
            yield LocalStack(sandbox, runtime)
    finally:
        await sandbox.stop()
