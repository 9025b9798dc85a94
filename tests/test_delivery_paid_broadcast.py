"""``NEWSBOT_PAID_BROADCAST=1`` puts ``allow_paid_broadcast`` on the wire of every alert."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.e2e_harness import open_bot_harness

READER = 3101
HEADLINE = "إغلاق الطريق الساحلي بسبب العاصفة"


@pytest.mark.parametrize("paid", [True, False], ids=["paid", "free"])
async def test_alerts_carry_allow_paid_broadcast_only_when_paid_broadcast_is_on(
    redis_url: str, redis: Redis, paid: bool
) -> None:
    # ``redis`` empties the database: each run publishes the same article afresh.
    async with open_bot_harness(
        redis_url, production_transport=True, NEWSBOT_PAID_BROADCAST="1" if paid else "0"
    ) as bot:
        bot.add_user(READER, "ليلى")
        (welcome,) = await bot.send(READER, "/start")
        result = await bot.ingest(f"عاجل: {HEADLINE}\nالتفاصيل بعد قليل.", breaking=True)
        assert result.alert_id is not None
        await bot.alert_done(result.alert_id)

        alerts = [m for m in bot.bot_messages(READER) if HEADLINE in m.visible_text]
        assert len(alerts) == 1
        # What Telegram would see: the field is sent (and true) or not sent at all.
        if paid:
            assert alerts[0].request.get("allow_paid_broadcast") is True
        else:
            assert "allow_paid_broadcast" not in alerts[0].request
        # A reply is not a broadcast: it never asks Telegram to charge for it.
        assert "allow_paid_broadcast" not in welcome.request
