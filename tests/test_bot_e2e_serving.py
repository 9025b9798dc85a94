"""Running modes end to end: webhook with its secret, production transport, a Bot API server
without setMyCommands, and the bot's own membership changes."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.models import ChatKind
from bot.runtime import Parts, open_runtime
from bot.serving import SECRET_HEADER
from config import ConfigError, Settings, load_settings
from sandbox import SandboxServer
from sandbox.api_methods import BotApi
from sandbox.errors import bad_request
from tests.constants import WEBHOOK_SECRET
from tests.e2e_harness import BotHarness, harness_settings, open_bot_harness
from tests.ports import free_port
from tests.process_support import assert_stopped_cleanly, newsbot_env, newsbot_process
from tests.waiting import wait_for
from tests.webhook_support import BOT_ONLY

READER = 301
SECRET = WEBHOOK_SECRET
#: The bot alone, as the webhook tests need it (no workers, no HTTP API).


def webhook_settings(redis_url: str, sandbox: SandboxServer, port: int, path: str) -> Settings:
    """Settings for webhook mode on ``port`` of localhost (with ``SECRET``), against the sandbox."""
    return harness_settings(
        redis_url,
        TELEGRAM_API_URL=sandbox.api_url,
        NEWSBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}{path}",
        NEWSBOT_WEBHOOK_SECRET=SECRET,
        NEWSBOT_WEBHOOK_LISTEN="127.0.0.1",
        NEWSBOT_WEBHOOK_PORT=port,
    )


async def test_webhook_mode_answers_updates_and_checks_the_secret(
    redis_url: str, redis: Redis
) -> None:
    port = free_port()
    sandbox = SandboxServer()
    await sandbox.start()
    try:
        settings = webhook_settings(redis_url, sandbox, port, "/telegram/hook")
        sandbox.state.add_user(READER, "سلمى")
        async with open_runtime(settings, BOT_ONLY) as runtime:
            store, mode = runtime.store, runtime.mode
            assert mode == "webhook"
            assert sandbox.state.webhook.url == settings.webhook_url
            assert sandbox.state.webhook.secret == SECRET
            sandbox.state.user_sends(READER, "/start")
            [greeting] = await sandbox.state.wait_for_bot_messages(READER, 1, 15)
            assert "أهلاً سلمى" in greeting.visible_text
            subscriber = await store.subscribers.get(READER)
            assert subscriber is not None and subscriber.active

            hook = str(settings.webhook_url)
            update = {
                "update_id": 999,
                "message": {
                    "message_id": 50,
                    "date": int(time.time()),
                    "chat": {"id": READER, "type": "private", "first_name": "سلمى"},
                    "from": {"id": READER, "is_bot": False, "first_name": "سلمى"},
                    "text": "/stop",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                },
            }
            async with aiohttp.ClientSession() as http:
                statuses = []
                for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
                    async with http.post(hook, json=update, headers=headers) as response:
                        statuses.append(response.status)
                assert statuses == [401, 403, 403]
                assert (await store.subscribers.get(READER)).active  # type: ignore[union-attr]
                # Bodies that are not an update are the sender's fault (400), never a 500.
                for body in (b"{not json", b"null", b"[]", b"5", b'"text"', b'{"message": 5}'):
                    async with http.post(
                        hook, data=body, headers={SECRET_HEADER: SECRET}
                    ) as response:
                        assert response.status == 400, body
                async with http.post(
                    hook, json=update, headers={SECRET_HEADER: SECRET}
                ) as response:
                    assert response.status == 200
            [stopped] = (await sandbox.state.wait_for_bot_messages(READER, 2, 15))[1:]
            assert "تم إيقاف التنبيهات" in stopped.visible_text
    finally:
        await sandbox.stop()


def test_webhook_needs_a_valid_secret(redis_url: str) -> None:
    base: dict[str, Any] = {
        "_env_file": None,
        "REDIS_URL": redis_url,
        "NEWSBOT_WEBHOOK_URL": "https://bot.example/hook",
    }
    with pytest.raises(ConfigError, match="NEWSBOT_WEBHOOK_SECRET is required"):
        load_settings(**base)
    with pytest.raises(ConfigError, match="A-Z"):
        load_settings(NEWSBOT_WEBHOOK_SECRET="has spaces!", **base)
    with pytest.raises(ConfigError, match="NEWSBOT_WEBHOOK_SECRET must be at least 16"):
        load_settings(NEWSBOT_WEBHOOK_SECRET="ok_-9", **base)
    sixteen = "ok_-9" + "x" * 11
    good = load_settings(NEWSBOT_WEBHOOK_SECRET=SecretStr(sixteen), **base)
    assert good.webhook_secret is not None and good.webhook_secret.get_secret_value() == sixteen
    # Without a webhook the secret is not needed (long polling).
    assert load_settings(_env_file=None, REDIS_URL=redis_url).webhook_secret is None


async def test_busy_webhook_port_or_refused_webhook_names_the_setting(
    redis_url: str, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = SandboxServer()
    await sandbox.start()
    try:
        port = free_port()
        settings = webhook_settings(redis_url, sandbox, port, "/hook")
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", port))
            busy.listen()
            with pytest.raises(ConfigError) as refused:
                async with open_runtime(settings, BOT_ONLY):
                    pass
        message = str(refused.value)
        assert message.startswith("NEWSBOT_WEBHOOK_LISTEN/NEWSBOT_WEBHOOK_PORT:")
        assert f"127.0.0.1:{port}" in message

        async def refuse(params: dict[str, Any]) -> object:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")

        original = BotApi.handler

        def refusing(self: BotApi, method: str) -> Any:
            return refuse if method == "setWebhook" else original(self, method)

        monkeypatch.setattr(BotApi, "handler", refusing)
        with pytest.raises(ConfigError) as rejected:
            async with open_runtime(settings, BOT_ONLY):
                pass
        message = str(rejected.value)
        assert message.startswith("NEWSBOT_WEBHOOK_URL: Telegram refused the webhook")
        assert "failed to resolve host" in message.lower()
        # The webhook server was shut down: the port is free again.
        with socket.socket() as again:
            again.bind(("127.0.0.1", port))
    finally:
        await sandbox.stop()


@pytest.fixture
async def production_bot(redis_url: str, redis: Redis) -> AsyncIterator[BotHarness]:
    """The bot with the aiohttp transport and the shared Redis rate limiter of ``newsbot run``."""
    async with open_bot_harness(redis_url, production_transport=True) as harness:
        harness.add_user(READER, "سلمى")
        yield harness


async def test_production_transport_and_reply_limiter(
    production_bot: BotHarness, seed_text: str
) -> None:
    bot = production_bot
    await bot.send(READER, "/start")
    result = await bot.ingest(seed_text)
    [alert] = await bot.expect(READER, 1, after=1)
    assert "عاجل" in alert.visible_text
    _, parts = await bot.press(READER, alert, expect=1)
    assert "بايدن" in parts[0].visible_text
    status = await bot.alert_done(str(result.alert_id))
    assert status.sent == 1


async def test_a_server_without_set_my_commands_does_not_stop_the_bot(
    redis_url: str, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = BotApi.handler

    def without_commands(self: BotApi, method: str) -> Any:
        return None if method == "setMyCommands" else original(self, method)

    monkeypatch.setattr(BotApi, "handler", without_commands)
    async with open_bot_harness(redis_url) as bot:
        bot.add_user(READER, "سلمى")
        [greeting] = await bot.send(READER, "/start")
        assert "أهلاً سلمى" in greeting.visible_text
        assert bot.state.commands == {}
        stats = bot.state.stats()
        assert stats["by_method"]["setMyCommands"] >= 1 and stats["errors_other"] >= 1


async def test_arabic_command_menu_is_registered(redis_url: str, redis: Redis) -> None:
    async with open_bot_harness(redis_url) as bot:
        menus = bot.state.commands
    default = next(v for k, v in menus.items() if '"default"' in k)
    names = [c["command"] for c in default]
    assert names[:3] == ["start", "latest", "search"] and "publish" not in names
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in c["description"]) for c in default)
    admin = next(v for k, v in menus.items() if '"chat"' in k)
    assert "publish" in [c["command"] for c in admin]


async def test_blocking_or_removing_the_bot_deactivates_the_chat(
    redis_url: str, redis: Redis
) -> None:
    async with open_bot_harness(redis_url) as bot:
        bot.add_user(READER, "سلمى")
        await bot.send(READER, "/start")
        await bot.send(READER, "/start", chat_id=-100777, chat_type="supergroup")
        # What Telegram sends the bot: my_chat_member, member -> kicked / member -> left.
        assert bot.state.block(READER) is not None
        assert bot.state.remove_bot_from_chat(-100777, READER, status="left") is not None

        async def both_inactive() -> bool:
            mine = await bot.store.subscribers.get(READER)
            grp = await bot.store.subscribers.get(-100777)
            return bool(mine and grp and not mine.active and not grp.active)

        await wait_for(both_inactive, what="chats inactive")
        mine = await bot.store.subscribers.get(READER)
        grp = await bot.store.subscribers.get(-100777)
        assert mine is not None and mine.inactive_reason == "blocked"
        assert grp is not None and grp.inactive_reason == "left" and grp.kind is ChatKind.SUPERGROUP
        assert bot.state.stats()["errors_403"] == 0  # learnt from the updates, not from a send


async def test_run_serves_until_sigterm_and_stops_cleanly(
    redis_url: str, redis: Redis, seed_text: str, tmp_path: Path
) -> None:
    sandbox = SandboxServer()
    await sandbox.start()
    try:
        sandbox.state.add_user(READER, "سلمى")
        # `newsbot run` as its own process: the SIGTERM goes to it, never to pytest.
        env = newsbot_env(
            redis_url, sandbox.api_url, tmp_path, NEWSBOT_API_PORT="0", NEWSBOT_RUN_WORKERS="1"
        )
        async with newsbot_process(["run"], env, tmp_path, "run") as bot:
            sandbox.state.user_sends(READER, "/start")
            [greeting] = await sandbox.state.wait_for_bot_messages(READER, 1, 30)
            assert "أهلاً سلمى" in greeting.visible_text
            # Ingestion from another process hands the alert over through Redis.
            settings = harness_settings(redis_url, TELEGRAM_API_URL=sandbox.api_url)
            async with open_runtime(settings, Parts.none()) as other:
                await other.services.ingestor.ingest_bytes(seed_text.encode("utf-8"))
            [_, alert] = await sandbox.state.wait_for_bot_messages(READER, 2, 30)
            assert "عاجل" in alert.visible_text
            assert bot.running
            code = await bot.terminate()
        assert_stopped_cleanly(code, bot.stderr())
    finally:
        await sandbox.stop()
