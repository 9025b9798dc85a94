"""Corrections of a sent alert, end to end: the engine edits every chat's alert message.

The sandbox stands in for Telegram with its flood limits on; every test asserts what each
reader's chat finally shows, and how many times its alert message was edited.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.delivery.config import DeliveryConfig
from bot.store import Store
from config import Settings
from formatters.labels import CORRECTED_MARK
from sandbox.server import SandboxServer
from tests.constants import BOT_TOKEN
from tests.delivery_support import (
    delivery_keys,
    delivery_reader,
    engine_config,
    publish,
    record_sends,
    running,
    seed,
    stored_article,
    wait_done,
)
from tests.story_support import alert_messages, desk_over, final_texts, version, wait_action
from tests.waiting import wait_for

READERS = 300
NEW_TITLE = "عاجل: إصابة ثلاثة أشخاص في الحادث"
NEWER_TITLE = "عاجل: إصابة أربعة أشخاص في الحادث"


def _flood(sandbox: SandboxServer) -> None:
    # Telegram's own limits, the global one scaled to the test's rate (edits count in it).
    sandbox.state.set_flood(True, global_per_second=200, private_per_second=1, group_per_minute=20)


def _config(sandbox: SandboxServer, **overrides: Any) -> DeliveryConfig:
    return engine_config(sandbox, **{"rate": 150.0, "max_in_flight": 32, **overrides})


async def test_a_correction_edits_every_delivered_alert_exactly_once(
    store: Store, sandbox: SandboxServer
) -> None:
    _flood(sandbox)
    chats = await seed(store, sandbox, READERS)
    article = await stored_article(store)
    alert_id = await publish(store, article)
    desk = desk_over(store)
    async with running(store, _config(sandbox)):
        await wait_done(store, alert_id)
        before = final_texts(sandbox, chats)
        correction = await desk.correct(alert_id, version(NEW_TITLE), by="test")
        assert correction.changed == ["title"]
        assert correction.edits_queued == READERS
        assert correction.action_id is not None
        action = await wait_action(store, alert_id, correction.action_id)
    assert action.edited == READERS and action.pending == 0
    for chat in chats:
        [message] = alert_messages(sandbox, chat)  # one alert, edited in place
        assert message.edit_count == 1
        assert NEW_TITLE in message.visible_text and CORRECTED_MARK in message.visible_text
        assert message.visible_text != before[chat][0]
        assert message.callback_data() == [f"a:{alert_id}"]  # still opens the article
    assert sandbox.state.stats()["errors_429"] == 0
    stored = await store.stories.view(alert_id)
    assert stored is not None and stored.article.title == NEW_TITLE and stored.story.version == 2


async def test_the_same_correction_again_changes_nothing(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 20)
    alert_id = await publish(store, await stored_article(store))
    desk = desk_over(store)
    async with running(store, _config(sandbox)):
        await wait_done(store, alert_id)
        first = await desk.correct(alert_id, version(NEW_TITLE), by="test")
        assert first.action_id is not None
        await wait_action(store, alert_id, first.action_id)
        again = await desk.correct(alert_id, version(NEW_TITLE), by="test")
        assert again.changed == [] and again.edits_queued == 0 and again.action_id is None
        await asyncio.sleep(0.5)
    assert all(m.edit_count == 1 for c in chats for m in alert_messages(sandbox, c))
    status = await delivery_reader(store).alert_status(alert_id)
    assert status is not None and len(status.actions) == 1
    assert [v.version for v in await store.stories.versions(alert_id)] == [1]


async def test_a_correction_issued_mid_alert_reaches_everyone_once_with_the_newest_text(
    store: Store, sandbox: SandboxServer
) -> None:
    _flood(sandbox)
    chats = await seed(store, sandbox, 400)
    log = record_sends(sandbox)
    alert_id = await publish(store, await stored_article(store))
    desk = desk_over(store)
    async with running(store, _config(sandbox, rate=100.0)):
        await wait_for(lambda: log.count() >= 100, within=20)
        correction = await desk.correct(alert_id, version(NEW_TITLE), by="test")
        assert 0 < correction.edits_queued < 400  # the alert was still going out
        assert correction.action_id is not None
        await wait_done(store, alert_id, within=30)
        await wait_action(store, alert_id, correction.action_id)
    texts = final_texts(sandbox, chats)
    assert all(len(t) == 1 for t in texts.values())  # nobody got two alerts
    assert all(NEW_TITLE in t[0] for t in texts.values())  # everybody ends with the newest
    sent_new = sum(1 for m in log.messages if "الحادث" in m.text)
    assert sent_new > 200  # most chats not reached yet got the corrected text directly
    assert sandbox.state.stats()["errors_429"] == 0


async def test_alerts_on_the_way_when_a_correction_lands_are_edited_after_them(
    store: Store, sandbox: SandboxServer
) -> None:
    # Every request takes 400 ms: at 100 msg/s some 40 alerts are on the wire at any moment.
    sandbox.state.set_latency(400)
    chats = await seed(store, sandbox, 200)
    log = record_sends(sandbox)
    alert_id = await publish(store, await stored_article(store))
    desk = desk_over(store)
    async with running(store, _config(sandbox, rate=100.0, max_in_flight=64)):
        await wait_for(lambda: log.count() >= 50, within=20)
        await desk.correct(alert_id, version(NEW_TITLE), by="test")
        status = await wait_done(store, alert_id, within=30)
    texts = final_texts(sandbox, chats)
    assert all(len(t) == 1 and NEW_TITLE in t[0] for t in texts.values())
    # Some were on the wire with the old text when the correction landed (after the edit
    # action had read the ledger): each was caught up by an edit of its own.
    assert status.fixed > 0 and status.pending == 0


async def test_two_quick_corrections_apply_only_the_newest(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 120)
    alert_id = await publish(store, await stored_article(store))
    desk = desk_over(store)
    config = _config(sandbox)
    async with running(store, config):
        await wait_done(store, alert_id)
    # No worker runs while the two corrections land: every chat is still waiting for the first.
    first = await desk.correct(alert_id, version(NEW_TITLE), by="test")
    second = await desk.correct(alert_id, version(NEWER_TITLE), by="test")
    assert first.action_id and second.action_id and first.action_id != second.action_id
    async with running(store, config):
        await wait_action(store, alert_id, first.action_id)
        await wait_action(store, alert_id, second.action_id)
    for chat in chats:
        [message] = alert_messages(sandbox, chat)
        assert NEWER_TITLE in message.visible_text
        assert message.edit_count == 1  # the superseded version was never applied
    assert sandbox.state.stats()["by_method"].get("editMessageText") == len(chats)
    versions = await store.stories.versions(alert_id)
    assert [(v.version, v.article.title) for v in versions] == [
        (1, "عاجل: اختبار التوصيل"),
        (2, NEW_TITLE),
    ]


async def test_readers_who_left_are_corrected_and_blocked_ones_skipped(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 30)
    left, blocked = chats[0], chats[1]
    alert_id = await publish(store, await stored_article(store))
    desk = desk_over(store)
    async with running(store, _config(sandbox)):
        await wait_done(store, alert_id)
        await store.subscribers.unsubscribe(left)
        await store.subscribers.deactivate(blocked, "blocked")
        sandbox.state.block(blocked, notify=False)
        calls_before = sandbox.state.stats()["by_method"].get("editMessageText", 0)
        correction = await desk.correct(alert_id, version(NEW_TITLE), by="test")
        assert correction.action_id is not None
        action = await wait_action(store, alert_id, correction.action_id)
    [message] = alert_messages(sandbox, left)
    assert NEW_TITLE in message.visible_text  # the wrong text was on their screen
    assert action.skipped == 1 and action.edited == 29
    calls = sandbox.state.stats()["by_method"]["editMessageText"] - calls_before
    assert calls == 29  # nothing was even tried for the reader who blocked the bot
    assert sandbox.state.stats()["errors_403"] == 0


async def test_telegram_answers_not_modified_and_not_found_count_as_done(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 10)
    deleted_by_reader, edited_elsewhere = chats[0], chats[1]
    alert_id = await publish(store, await stored_article(store))
    desk = desk_over(store)
    config = _config(sandbox)
    async with running(store, config):
        await wait_done(store, alert_id)
    correction = await desk.correct(alert_id, version(NEW_TITLE), by="test")
    assert correction.action_id is not None
    sandbox.state.user_deletes(
        deleted_by_reader, alert_messages(sandbox, deleted_by_reader)[0].message_id
    )
    # Another worker edited this chat and died before recording it: the edit is a repeat.
    await _edit_as_the_engine_would(store, sandbox, alert_id, edited_elsewhere)
    async with running(store, config):
        action = await wait_action(store, alert_id, correction.action_id)
    assert action.gone == 1 and action.unchanged == 1 and action.edited == 8
    assert action.failed == 0 and action.bad_request == 0
    assert alert_messages(sandbox, deleted_by_reader) == []
    counters = await delivery_reader(store).counters()
    assert counters["edits_gone"] == 1 and counters["edits_unchanged"] == 1


async def test_a_correction_of_an_article_never_alerted_changes_the_store_only(
    store: Store, sandbox: SandboxServer
) -> None:
    await seed(store, sandbox, 5)
    article = await stored_article(store, breaking=False)
    assert article.id is not None
    correction = await desk_over(store).correct(article.id, version("عنوان مصحح"), by="test")
    assert correction.changed == ["title"] and correction.edits_queued == 0
    assert correction.action_id is None
    assert await delivery_reader(store).alert_status(article.id) is None
    stored = await store.articles.get(article.id)
    assert stored is not None and stored.title == "عنوان مصحح" and not stored.breaking


async def _edit_as_the_engine_would(
    store: Store, sandbox: SandboxServer, alert_id: str, chat: int
) -> None:
    """Apply the newest revision to one chat over the Bot API, as a worker would."""
    redis = store.redis
    keys = delivery_keys(store)
    revision = await redis.hget(keys.alert(alert_id), "rev")
    tail = await redis.hget(keys.alert_revisions(alert_id), str(revision))
    [message] = alert_messages(sandbox, chat)
    assert tail is not None
    text = tail.decode() if isinstance(tail, bytes) else str(tail)
    body = f'{{"chat_id":{chat},"message_id":{message.message_id},{text}'
    async with aiohttp.ClientSession() as http:
        url = f"{sandbox.api_url}{BOT_TOKEN}/editMessageText"
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
            assert r.status == 200, await r.text()


async def test_after_the_retention_a_correction_edits_nothing_and_says_so(
    store: Store, sandbox: SandboxServer
) -> None:
    settings = Settings(_env_file=None, NEWSBOT_STORY_RETENTION=2)
    config = DeliveryConfig.from_settings(settings, require_token=False)
    assert config.outcomes_ttl_days == 2
    chats = await seed(store, sandbox, 20)
    alert_id = await publish(store, await stored_article(store))
    keys = delivery_keys(store)
    ledger = [keys.alert_outcomes(alert_id), keys.alert_chats(alert_id)]
    desk = desk_over(store)
    async with running(store, _config(sandbox, outcomes_ttl_days=2)):
        await wait_done(store, alert_id)
        for key in ledger:  # kept NEWSBOT_STORY_RETENTION days after the alert finished
            assert 2 * 86400 - 60 < await store.redis.ttl(key) <= 2 * 86400
        # Two days later: the ledger has expired (fast-forwarded).
        for key in ledger:
            await store.redis.pexpire(key, 1)
        await wait_for(lambda: _gone(store, ledger), within=5)
        correction = await desk.correct(alert_id, version(NEW_TITLE), by="test")
        update = await desk.update(alert_id, "تحديث: انتهت عمليات الإنقاذ.", by="test")
        await asyncio.sleep(0.5)
    assert correction.changed == ["title"]  # the stored article is corrected
    assert correction.edits_queued == 0  # and nobody's message is said to be edited
    assert update.created and update.queued == 0  # nor replied to
    assert all(m.edit_count == 0 for c in chats for m in alert_messages(sandbox, c))
    assert all(len(sandbox.state.bot_messages(c)) == 1 for c in chats)  # the alert only
    stored = await store.articles.get(alert_id)
    assert stored is not None and stored.title == NEW_TITLE


async def _gone(store: Store, keys: list[str]) -> bool:
    return await store.redis.exists(*keys) == 0
