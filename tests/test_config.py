"""Configuration: the public variable names, defaults, and one clear line for bad values."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.runtime import Parts, open_runtime
from config import DEFAULT_TELEGRAM_API_URL, ConfigError, Settings, load_settings

ALL_VARS = [
    "NEWSBOT_WEBHOOK_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "REDIS_URL",
    "NEWSBOT_DATA_DIR",
    "NEWSBOT_ADMIN_IDS",
    "NEWSBOT_RATE_LIMIT",
    "NEWSBOT_FEEDS",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ALL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_defaults_run_offline_on_the_embedded_redis() -> None:
    settings = load_settings()
    assert settings.redis_url is None
    assert settings.telegram_api_url == DEFAULT_TELEGRAM_API_URL
    assert settings.rate_limit == 30
    assert settings.data_dir == Path("./data")
    assert settings.admin_ids == frozenset()


def test_public_variable_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("REDIS_URL", "redis://localhost:6379/2")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", "/var/lib/newsbot")
    monkeypatch.setenv("NEWSBOT_ADMIN_IDS", "11, 22,33")
    monkeypatch.setenv("NEWSBOT_RATE_LIMIT", "25")
    settings = load_settings()
    assert settings.require_token() == "123:abc"
    assert settings.telegram_api_url == "http://127.0.0.1:8081/bot"
    assert settings.redis_url == "redis://localhost:6379/2"
    assert settings.data_dir == Path("/var/lib/newsbot")
    assert settings.admin_ids == frozenset({11, 22, 33})
    assert settings.rate_limit == 25


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_ADMIN_IDS=5\nNEWSBOT_RATE_LIMIT=10\n", "utf-8")
    settings = load_settings()
    assert settings.admin_ids == frozenset({5}) and settings.rate_limit == 10


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "NEWSBOT_ADMIN_IDS",
            "12,abc",
            "NEWSBOT_ADMIN_IDS: 'abc' is not a numeric Telegram user id",
        ),
        ("TELEGRAM_API_URL", "api.telegram.org", "TELEGRAM_API_URL: must be an http"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL: must look like redis://"),
        ("NEWSBOT_RATE_LIMIT", "fast", "NEWSBOT_RATE_LIMIT: "),
        ("NEWSBOT_RATE_LIMIT", "0", "NEWSBOT_RATE_LIMIT: "),
        (
            "NEWSBOT_FEEDS",
            "ftp://x/feed",
            "NEWSBOT_FEEDS: 'ftp://x/feed' is not an http(s) feed URL",
        ),
        ("NEWSBOT_FEEDS", "/no/such/feeds.txt", "NEWSBOT_FEEDS: neither feed URLs nor a readable"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(expected)
    assert "\n" not in str(err.value)


def test_missing_token_is_a_clear_error_only_when_needed() -> None:
    settings = load_settings()
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        settings.require_token()


def test_feeds_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.txt"
    feeds.write_text("# newsroom feeds\nhttps://a.example/rss\n\nhttps://b.example/atom\n", "utf-8")
    monkeypatch.setenv("NEWSBOT_FEEDS", str(feeds))
    assert load_settings().feeds == ("https://a.example/rss", "https://b.example/atom")


def test_token_is_hidden_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-TOKEN-VALUE")
    settings = load_settings()
    assert "SECRET-TOKEN-VALUE" not in repr(settings)
    assert "SECRET-TOKEN-VALUE" not in str(settings.model_dump())


def test_http_webhook_only_with_a_self_hosted_bot_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSBOT_WEBHOOK_URL", "http://bot.example/hook")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith("NEWSBOT_WEBHOOK_URL: must be an https:// URL")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("NEWSBOT_WEBHOOK_SECRET", "a-webhook-secret-of-24-chars")
    assert load_settings().webhook_url == "http://bot.example/hook"


async def test_a_rate_above_the_free_limit_is_logged_once_and_only_without_paid_broadcast(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    fast = Settings(_env_file=None, NEWSBOT_RATE_LIMIT=100, REDIS_URL=redis_url)
    [advice] = fast.advisories()
    assert "NEWSBOT_RATE_LIMIT=100" in advice and "NEWSBOT_PAID_BROADCAST=1" in advice
    paid = Settings(_env_file=None, NEWSBOT_RATE_LIMIT=100, NEWSBOT_PAID_BROADCAST=1)
    assert paid.advisories() == []
    assert Settings(_env_file=None).advisories() == []
    with caplog.at_level(logging.WARNING):
        async with open_runtime(fast, Parts.none()):
            pass
    assert sum("NEWSBOT_RATE_LIMIT=100" in r.getMessage() for r in caplog.records) == 1
