"""Where a correction stands among the other deliveries, and Telegram's 403 during an edit.

A correction (or retraction) goes ahead of routine alerts, even of a routine alert's own
correction, and takes turns with breaking alerts; a reader who blocked the bot since the alert
is marked inactive by the edit's 403, as by an alert's; a retraction landing while the alert
is still going out sends nothing more to the chats it had not reached; an update posted while
it is going out trails it, replying under every alert, the late ones included.
"""

from __future__ import annotations

from typing import Any

from bot.delivery.config import DeliveryConfig
from bot.delivery.status import AlertStatus
from bot.models import Audience, Preference
from bot.store import Store
from formatters.labels import RETRACTED_TEXT
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
from tests.story_support import alert_messages, desk_over, version, wait_action
from tests.waiting import wait_for

NEW_TITLE = "عاجل: إصابة ثلاثة أشخاص في الحادث"
READERS = 200


def _config(sandbox: SandboxServer, **overrides: Any) -> DeliveryConfig:
    return engine_config(sandbox, **{"rate": 100.0, "max_in_flight": 16, **overrides})


async def _status(store: Store, alert_id: str) -> AlertStatus:
    status = await delivery_reader(store).alert_status(alert_id)
    assert status is not None
    return status


async def test_a_correction_goes_ahead_of_routine_alerts(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, READERS, preference=Preference.ALL)
    # A routine article, pushed to the all-news readers, then corrected.
    first = await stored_article(store, breaking=False, title="خبر أول للاختبار")
    first_id = await publish(store, first)
    config = _config(sandbox)
    async with running(store, config):
        await wait_done(store, first_id)
    other_id = await publish(store, await stored_article(store, breaking=False, title="خبر ثان"))
    correction = await desk_over(store).correct(first_id, version("خبر أول مصحح"), by="test")
    assert correction.action_id is not None and correction.edits_queued == READERS
    async with running(store, config):
        await wait_action(store, first_id, correction.action_id)
        other = await _status(store, other_id)
        # Taking turns would have sent ~200 of the other alert by now, queueing ~all of them.
        assert other.sent < READERS // 5, other
        await wait_done(store, other_id, within=30)
    for chat in chats:
        [message, _] = alert_messages(sandbox, chat)
        assert "خبر أول مصحح" in message.visible_text and message.edit_count == 1


async def test_a_correction_takes_turns_with_a_breaking_alert(
    store: Store, sandbox: SandboxServer
) -> None:
    await seed(store, sandbox, READERS)
    alert_id = await publish(store, await stored_article(store))
    config = _config(sandbox)
    async with running(store, config):
        await wait_done(store, alert_id)
    # Queued together while no worker runs: the next breaking alert and the correction.
    correction = await desk_over(store).correct(alert_id, version(NEW_TITLE), by="test")
    assert correction.action_id is not None
    other_id = await publish(store, await stored_article(store, title="عاجل: خبر عاجل آخر"))
    async with running(store, config):
        action = await wait_action(store, alert_id, correction.action_id, within=30)
        other = await _status(store, other_id)
        # Neither waits for the other to finish: the first half of each overlaps the other.
        assert other.sent > READERS // 4, other
        assert action.edited == READERS
        other = await wait_done(store, other_id, within=30)
    assert other.first_delivery_at is not None and action.last_delivery_at is not None
    assert other.first_delivery_at < action.last_delivery_at


async def test_a_reader_who_blocked_the_bot_since_the_alert_is_marked_inactive_by_the_edit(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 10)
    blocker = chats[0]
    alert_id = await publish(store, await stored_article(store))
    config = _config(sandbox)
    async with running(store, config):
        await wait_done(store, alert_id)
        sandbox.state.block(blocker, notify=False)  # the bot has not heard of it
        correction = await desk_over(store).correct(alert_id, version(NEW_TITLE), by="test")
        assert correction.action_id is not None
        action = await wait_action(store, alert_id, correction.action_id)
    assert action.blocked == 1 and action.edited == 9 and action.failed == 0
    assert sandbox.state.stats()["errors_403"] == 1  # tried once, not retried
    assert await store.subscribers.members(Audience.BREAKING, [blocker, chats[1]]) == [
        False,
        True,
    ]


async def test_a_retraction_mid_alert_sends_nothing_more_and_edits_what_went_out(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 300)
    log = record_sends(sandbox)
    alert_id = await publish(store, await stored_article(store))
    async with running(store, _config(sandbox)):
        await wait_for(lambda: log.count() >= 60, within=20, what="a fifth of the alert")
        retraction = await desk_over(store).retract(alert_id, "خبر غير مؤكد", by="test")
        assert retraction.action_id is not None
        status = await wait_done(store, alert_id, within=30)
        await wait_action(store, alert_id, retraction.action_id)
    reached = [c for c in chats if alert_messages(sandbox, c)]
    assert 60 <= len(reached) < 300 and status.skipped == 300 - len(reached)
    for chat in reached:
        [message] = alert_messages(sandbox, chat)
        assert RETRACTED_TEXT in message.visible_text and message.reply_markup is None
    assert log.count() == len(reached)  # no chat was sent the alert after the retraction


async def test_an_update_posted_mid_alert_trails_it_and_replies_under_every_alert(
    store: Store, sandbox: SandboxServer
) -> None:
    chats = await seed(store, sandbox, 300)
    log = record_sends(sandbox)
    alert_id = await publish(store, await stored_article(store))
    desk = desk_over(store)
    async with running(store, _config(sandbox)):
        await wait_for(lambda: log.count() >= 60, within=20, what="a fifth of the alert")
        posted = await desk.update(alert_id, "تحديث: وصول فرق الإنقاذ إلى المكان.", by="test")
        assert posted.action_id is not None and 0 < posted.queued < 300
        await wait_done(store, alert_id, within=30)
        action = await wait_action(store, alert_id, posted.action_id)
    assert action.sent == 300  # the readers reached after the update was posted too
    for chat in chats:
        [alert] = alert_messages(sandbox, chat)
        [reply] = [m for m in sandbox.state.bot_messages(chat) if m is not alert]
        assert reply.reply_to_message_id == alert.message_id  # a thread under its alert
