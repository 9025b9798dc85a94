"""A worker process killed with SIGKILL in the middle of a correction's fan-out."""

from __future__ import annotations

import signal
from pathlib import Path

from bot.store import Store
from formatters.labels import CORRECTED_MARK
from sandbox.server import SandboxServer
from tests.delivery_support import engine_config, publish, running, seed, stored_article, wait_done
from tests.story_support import alert_messages, desk_over, version, wait_action
from tests.test_delivery_crash import IN_FLIGHT, start_worker
from tests.waiting import wait_for

READERS = 400
NEW_TITLE = "عاجل: إصابة ثلاثة أشخاص في الحادث"


async def test_worker_killed_mid_correction_leaves_every_chat_corrected_once(
    store: Store, sandbox: SandboxServer, redis_url: str, tmp_path: Path
) -> None:
    chats = await seed(store, sandbox, READERS)
    alert_id = await publish(store, await stored_article(store))
    config = engine_config(sandbox, rate=100.0, max_in_flight=IN_FLIGHT, claim_idle=1.0)
    async with running(store, config):
        await wait_done(store, alert_id)

    def edited() -> int:
        return sum(m.edit_count for c in chats for m in alert_messages(sandbox, c))

    worker = await start_worker(redis_url, sandbox.api_url, tmp_path)
    try:
        correction = await desk_over(store).correct(alert_id, version(NEW_TITLE), by="test")
        assert correction.action_id is not None and correction.edits_queued == READERS
        await wait_for(lambda: edited() >= 100, within=20, what="a quarter of the edits")
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    assert edited() < READERS  # really killed mid-correction
    async with running(store, config):
        action = await wait_action(store, alert_id, correction.action_id)
    # Edits in flight at the kill are made again; Telegram answers "not modified" to those
    # that had been applied, which counts as done: nothing failed, nobody was left out.
    assert action.pending == 0 and action.failed == action.bad_request == 0
    assert action.edited + action.unchanged == READERS
    for chat in chats:
        [alert] = alert_messages(sandbox, chat)  # no alert sent again
        assert NEW_TITLE in alert.visible_text and CORRECTED_MARK in alert.visible_text
        assert alert.edit_count == 1  # an edit in flight at the kill is not applied twice
