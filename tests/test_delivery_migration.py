"""A basic group upgraded to a supergroup while subscribed: the alert follows it, once."""

from __future__ import annotations

from bot.models import ChatKind
from bot.store import Store
from sandbox import SandboxServer
from tests.delivery_support import (
    engine_config,
    publish,
    running,
    seed,
    stored_article,
    wait_done,
)

GROUP = -4567
FIRST = "عاجل: انقطاع الكهرباء عن المدينة"
SECOND = "عاجل: عودة التيار الكهربائي تدريجيا"


def said(server: SandboxServer, chat_id: int, headline: str) -> int:
    """How many of the bot's messages in a chat carry ``headline``."""
    return sum(headline in m.visible_text for m in server.state.bot_messages(chat_id))


async def test_a_group_upgraded_to_a_supergroup_gets_the_alert_once_and_the_next_directly(
    store: Store, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    readers = await seed(store, sandbox, 3)
    state.add_chat(GROUP, "group", "غرفة الأخبار", by_user_id=readers[0])
    await store.subscribers.subscribe(GROUP, ChatKind.GROUP)
    # The group's admins upgrade it after it subscribed: the engine only learns it from the
    # 400 "group chat was upgraded to a supergroup chat" answer of its first send.
    supergroup = state.migrate_chat(GROUP).id

    async with running(store, engine_config(sandbox)):
        first = await publish(store, await stored_article(store, title=FIRST))
        status = await wait_done(store, first)
        assert said(sandbox, supergroup, FIRST) == 1
        assert state.bot_messages(GROUP) == []
        assert status.sent == len(readers) + 1  # the group counts as reached
        for reader in readers:
            assert said(sandbox, reader, FIRST) == 1

        moved = await store.subscribers.get(supergroup)
        old = await store.subscribers.get(GROUP)
        assert moved is not None and moved.active and moved.kind is ChatKind.SUPERGROUP
        assert old is not None and not old.active and old.inactive_reason == "migrated"

        refused = state.stats()["errors_other"]
        second = await publish(store, await stored_article(store, title=SECOND))
        await wait_done(store, second)
        assert said(sandbox, supergroup, SECOND) == 1
        assert said(sandbox, supergroup, FIRST) == 1  # never repeated
        assert state.stats()["errors_other"] == refused  # nothing went to the old id again
