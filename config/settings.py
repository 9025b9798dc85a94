"""Runtime configuration, read once from the environment (and an optional ``.env``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org/bot"
#: Shortest newsroom API token accepted: 32 random characters are far beyond online guessing.
MIN_API_TOKEN_LENGTH = 32
#: What Telegram accepts as a webhook secret, and the shortest we accept (1 could be guessed).
WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MIN_WEBHOOK_SECRET_CHARS = 16
#: Telegram's documented free broadcast limit (messages per second, all chats together).
FREE_BROADCAST_RATE = 30.0


class ConfigError(Exception):
    """Bad configuration, explained in one line that names the variable."""


class Settings(BaseSettings):
    """Every knob of newsbot; built once at start-up and passed down explicitly."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field(default=DEFAULT_TELEGRAM_API_URL, alias="TELEGRAM_API_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    data_dir: Path = Field(default=Path("./data"), alias="NEWSBOT_DATA_DIR")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), alias="NEWSBOT_ADMIN_IDS"
    )
    rate_limit: float = Field(default=30.0, gt=0, le=1000, alias="NEWSBOT_RATE_LIMIT")
    paid_broadcast: bool = Field(default=False, alias="NEWSBOT_PAID_BROADCAST")
    max_article_bytes: int = Field(default=1_048_576, gt=0, alias="NEWSBOT_MAX_ARTICLE_BYTES")
    redis_namespace: str = Field(
        default="newsbot", pattern=r"^[A-Za-z0-9_.-]+$", alias="NEWSBOT_REDIS_NAMESPACE"
    )

    # Running the bot.
    webhook_url: str | None = Field(default=None, alias="NEWSBOT_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="NEWSBOT_WEBHOOK_SECRET")
    webhook_port: int = Field(default=8443, ge=1, le=65535, alias="NEWSBOT_WEBHOOK_PORT")
    webhook_listen: str = Field(default="0.0.0.0", alias="NEWSBOT_WEBHOOK_LISTEN")

    # Delivery engine.
    workers_in_run: int = Field(default=1, ge=0, le=64, alias="NEWSBOT_RUN_WORKERS")
    max_in_flight: int = Field(default=1024, ge=1, le=4096, alias="NEWSBOT_MAX_IN_FLIGHT")
    claim_idle_seconds: float = Field(default=30.0, gt=0, alias="NEWSBOT_CLAIM_IDLE_SECONDS")
    send_retries: int = Field(default=5, ge=0, le=50, alias="NEWSBOT_SEND_RETRIES")
    #: Days an alert's message ids (and outcomes) are kept after it finished: corrections,
    #: retractions and updates reach its readers for that long.
    story_retention_days: int = Field(default=7, ge=1, le=365, alias="NEWSBOT_STORY_RETENTION")

    # Newsroom ingestion.
    api_host: str = Field(default="127.0.0.1", alias="NEWSBOT_API_HOST")
    api_port: int = Field(default=8080, ge=0, le=65535, alias="NEWSBOT_API_PORT")
    api_token: SecretStr | None = Field(default=None, alias="NEWSBOT_API_TOKEN")
    api_max_bytes: int = Field(default=1_048_576, gt=0, alias="NEWSBOT_API_MAX_BYTES")
    feeds: Annotated[tuple[str, ...], NoDecode] = Field(default=(), alias="NEWSBOT_FEEDS")
    feed_interval: float = Field(default=60.0, gt=0, alias="NEWSBOT_FEED_INTERVAL")
    feed_timeout: float = Field(default=20.0, gt=0, le=300, alias="NEWSBOT_FEED_TIMEOUT")
    feed_max_bytes: int = Field(default=5_242_880, gt=0, alias="NEWSBOT_FEED_MAX_BYTES")
    feed_backoff_max: float = Field(default=1800.0, gt=0, alias="NEWSBOT_FEED_BACKOFF_MAX")

    # Slow clients: both HTTP servers (API and webhook) close a connection that takes longer.
    http_header_timeout: float = Field(
        default=15.0, gt=0, le=3600, alias="NEWSBOT_HTTP_HEADER_TIMEOUT"
    )
    http_body_timeout: float = Field(default=30.0, gt=0, le=3600, alias="NEWSBOT_HTTP_BODY_TIMEOUT")

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value == "" else value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss", "unix") or not (parts.netloc or parts.path):
            raise ValueError("must look like redis://host:port/0, rediss://… or unix:///path")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            ids = set()
            for item in value.replace(";", ",").split(","):
                item = item.strip()
                if not item:
                    continue
                if not item.lstrip("-").isdigit():
                    raise ValueError(f"{item!r} is not a numeric Telegram user id")
                ids.add(int(item))
            return frozenset(ids)
        return value

    @field_validator("feeds", mode="before")
    @classmethod
    def _parse_feeds(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return ()
            if "://" in text:
                return tuple(item.strip() for item in text.split(",") if item.strip())
            # Not a URL list: a file with one URL per line ('#' starts a comment line).
            try:
                lines = Path(text).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise ValueError(
                    f"neither feed URLs nor a readable file: {text} ({reason})"
                ) from None
            stripped = (ln.strip() for ln in lines)
            return tuple(ln for ln in stripped if ln and not ln.startswith("#"))
        return value

    @field_validator("feeds")
    @classmethod
    def _feed_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{url!r} is not an http(s) feed URL")
        return value

    @field_validator("api_token")
    @classmethod
    def _api_token(cls, value: SecretStr | None) -> SecretStr | None:
        # A set token means the operator wants the API: refusing to start says so at once,
        # where quietly disabling it would only show as 503s in the newsroom's CMS.
        if value is None or not value.get_secret_value():
            return None
        length = len(value.get_secret_value())
        if length < MIN_API_TOKEN_LENGTH:
            # The length only: the value itself never reaches a log or the terminal.
            raise ValueError(
                f"too short ({length} characters): use at least {MIN_API_TOKEN_LENGTH} "
                "random characters, e.g. the output of "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @model_validator(mode="after")
    def _https_webhook(self) -> Settings:
        # api.telegram.org delivers webhooks over HTTPS only; a self-hosted Bot API server
        # (or the sandbox) may call a plain-HTTP URL, so only the official API is held to it.
        url = self.webhook_url
        official = self.telegram_api_url == DEFAULT_TELEGRAM_API_URL
        if url and official and urlsplit(url).scheme != "https":
            raise ValueError(
                "NEWSBOT_WEBHOOK_URL: must be an https:// URL, Telegram calls webhooks over HTTPS"
            )
        return self

    @model_validator(mode="after")
    def _webhook_secret(self) -> Settings:
        # A webhook without a secret accepts forged updates from anyone who finds the URL.
        if not self.webhook_url:
            return self
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not secret:
            raise ValueError("NEWSBOT_WEBHOOK_SECRET is required when NEWSBOT_WEBHOOK_URL is set")
        if not WEBHOOK_SECRET_RE.match(secret):
            raise ValueError(
                "NEWSBOT_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        if len(secret) < MIN_WEBHOOK_SECRET_CHARS:
            raise ValueError(
                f"NEWSBOT_WEBHOOK_SECRET must be at least {MIN_WEBHOOK_SECRET_CHARS} characters "
                "long (a short secret can be guessed)"
            )
        return self

    def require_token(self) -> str:
        """The bot token, or a ``ConfigError`` naming the missing variable."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set: it is required to talk to Telegram")
        token = self.telegram_bot_token.get_secret_value()
        if any(c.isspace() for c in token) or "/" in token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is malformed (contains spaces or '/')")
        return token

    def advisories(self) -> list[str]:
        """Settings that are valid but probably not what the operator wants (logged once)."""
        notes = []
        if self.rate_limit > FREE_BROADCAST_RATE and not self.paid_broadcast:
            notes.append(
                f"NEWSBOT_RATE_LIMIT={self.rate_limit:g} is above Telegram's free "
                f"{FREE_BROADCAST_RATE:g} msg/s; expect 429s unless NEWSBOT_PAID_BROADCAST=1"
            )
        return notes


def load_settings(**overrides: object) -> Settings:
    """Build the one ``Settings`` of this process; validation errors become ``ConfigError``."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        loc = first.get("loc")
        if not loc:  # a check across settings: its message names the variables itself
            raise ConfigError(message) from None
        name = str(loc[0])
        field = Settings.model_fields.get(name)
        env_name = field.alias if field is not None and field.alias else name.upper()
        raise ConfigError(f"{env_name}: {message}") from None
