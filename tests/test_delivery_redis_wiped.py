"""Redis restarted without persistence mid-alert: everything in it is gone, the worker is not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.redis_conn import client_options
from bot.store import Store
from sandbox.server import SandboxServer
from tests.delivery_support import (
    delivery_reader,
    engine_config,
    publish,
    record_sends,
    running,
    seed,
    stored_article,
    wait_done,
)
from tests.redis_support import RedisServer, wait_for_ping
from tests.waiting import wait_for

READERS = 300
FIRST = "عاجل: الخبر الأول قبل إعادة التشغيل"
SECOND = "عاجل: الخبر الثاني بعد إعادة التشغيل"


@pytest.fixture
async def volatile_store(tmp_path: Path) -> AsyncIterator[tuple[RedisServer, Store]]:
    """A store over a redis-server of the test's own that keeps nothing across a restart."""
    server = RedisServer(tmp_path, persistent=False)
    server.start()
    client = Redis.from_url(server.url, **client_options())
    try:
        await wait_for_ping(client)
        yield server, Store.create(client)
    finally:
        await client.aclose()
        if server.process is not None and server.process.poll() is None:
            server.kill()


async def test_a_worker_survives_redis_coming_back_empty_and_delivers_the_next_alert(
    sandbox: SandboxServer,
    volatile_store: tuple[RedisServer, Store],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, store = volatile_store
    chats = await seed(store, sandbox, READERS)
    log = record_sends(sandbox)
    config = engine_config(sandbox, rate=100.0, max_in_flight=16, claim_idle=2.0)
    async with running(store, config) as service:
        first = await publish(store, await stored_article(store, title=FIRST))
        await wait_for(lambda: log.count() >= 60, within=20)
        server.kill()
        server.start()  # empty: readers, articles, alerts, streams and consumer groups are gone
        await wait_for_ping(store.redis)
        caplog.clear()
        # The readers come back (each /start subscribes again) and the newsroom publishes.
        await seed(store, None, READERS)
        second = await publish(store, await stored_article(store, title=SECOND))
        status = await wait_done(store, second, within=30)
        assert service.workers == 1
    # Everything the bot can still deliver is delivered, once.
    got_second = [m.chat_id for m in log.messages if SECOND in m.text]
    assert sorted(got_second) == chats
    assert status.sent == READERS
    # The first alert is lost by design where Redis forgot it: the chats the worker still held
    # reach only readers subscribed again by their turn, nobody gets it twice, and nothing of
    # it is written back.
    got_first = [m.chat_id for m in log.messages if FIRST in m.text]
    assert len(got_first) == len(set(got_first))
    assert await delivery_reader(store).alert_status(first) is None
    assert [key async for key in store.redis.scan_iter(match=f"*{first}*")] == []
    # Recovered, not crash-looping: no tracebacks after the wipe.
    assert not [r for r in caplog.records if r.exc_info is not None], caplog.text[-3000:]
