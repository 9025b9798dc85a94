"""Redis stopped and restarted while a large audience is being expanded into batches."""

from __future__ import annotations

import pytest

from bot.store import Store
from sandbox.server import SandboxServer
from tests.delivery_support import (
    delivery_reader,
    engine_config,
    publish,
    record_sends,
    redis_error_reached_worker,
    running,
    seed,
    stored_article,
    wait_done,
)
from tests.redis_support import RedisServer
from tests.waiting import wait_for

AUDIENCE = 3000


async def test_redis_stopped_mid_expansion_delivers_to_every_subscriber_exactly_once(
    sandbox: SandboxServer,
    redis_server: RedisServer,
    own_store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = own_store
    chats = await seed(store, sandbox, AUDIENCE)
    log = record_sends(sandbox)
    # A batch per expansion step, at most two unread batches ahead of sending: the audience is
    # still being expanded, page by page, when Redis goes away. A 10-minute idle timeout: the
    # one worker carries on with what it holds, nothing waits to be taken over.
    config = engine_config(
        sandbox, rate=1000.0, max_in_flight=16, claim_idle=600.0, batch_size=50,
        expand_chunk=1, expand_lag=2,
    )  # fmt: skip
    reader = delivery_reader(store)
    async with running(store, config):
        alert_id = await publish(store, await stored_article(store))
        await wait_for(lambda: log.count() >= 400, within=30, what="the first sends")
        before = await reader.alert_status(alert_id)
        # A planned restart (the append-only file synced): what was written is kept, so
        # nothing excuses a chat sent twice or skipped.
        redis_server.stop()
        at_stop = log.count()
        # Down until the errors have got past the client's own reconnect retries (about 2.5 s)
        # to the worker's loops, which must pick the expansion up where its cursor stopped.
        await wait_for(lambda: redis_error_reached_worker(caplog.records), what="a Redis error")
        redis_server.start()
        status = await wait_done(store, alert_id, within=40)
    assert before is not None and not before.expanded and before.queued < AUDIENCE
    assert at_stop < AUDIENCE
    assert log.per_chat() == {chat: 1 for chat in chats}  # each exactly once, none missed
    assert status.queued == status.sent == AUDIENCE
