"""Starting the bot: a Bot API that rejects the token is named in one line, token unprinted."""

from __future__ import annotations

import pytest

from bot.runtime import Parts, open_runtime
from bot.store import Store
from config import ConfigError, load_settings
from sandbox import SandboxServer
from tests.constants import BOT_TOKEN
from tests.e2e_harness import harness_settings


async def test_rejected_token_is_a_config_error_without_the_token(
    redis_url: str, store: Store
) -> None:
    async with SandboxServer() as server:
        server.state.configure(rejected_tokens={BOT_TOKEN})
        settings = harness_settings(redis_url, TELEGRAM_API_URL=server.api_url)
        with pytest.raises(ConfigError) as err:
            async with open_runtime(settings, Parts(workers=0, api=False, feeds=False)):
                pass
    message = str(err.value)
    assert message.startswith("TELEGRAM_BOT_TOKEN: the Bot API at http://127.0.0.1:")
    assert "rejected the token" in message
    assert BOT_TOKEN not in message and BOT_TOKEN.split(":")[1] not in message


async def test_a_short_api_token_stops_run_before_telegram_is_contacted(
    redis_url: str, store: Store
) -> None:
    """`newsbot run` must not poll (and confirm readers' updates) or send, then die."""
    async with SandboxServer() as server:
        server.state.add_user(1001, "سارة")
        server.state.user_sends(1001, "/start")
        # Settings are checked as a whole when loaded, before anything starts.
        with pytest.raises(ConfigError, match="NEWSBOT_API_TOKEN: too short"):
            load_settings(
                _env_file=None,
                TELEGRAM_BOT_TOKEN=BOT_TOKEN,
                TELEGRAM_API_URL=server.api_url,
                REDIS_URL=redis_url,
                NEWSBOT_API_TOKEN="short",
            )
        stats = server.state.stats()
    assert stats["requests"] == 0
    assert stats["pending_updates"] == 1
