"""Read-only numbers about the delivery queues, for metrics (the engine owns the writes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bot.store imports this module's package: no import cycle at run time
    from bot.store import Store

#: The delivery priorities (``bot.delivery.config.Priority`` values), most urgent first. Spelled
#: here because the store must not import the engine; a test keeps the two in step.
QUEUE_PRIORITIES: tuple[str, ...] = ("breaking", "routine")


async def queue_depths(store: Store) -> dict[str, int]:
    """Unfinished entries per delivery queue (``jobs:breaking``, ``batches:routine``, ...).

    Workers delete entries once done, so a stream's length is its backlog. Batches live in one
    stream per alert in progress (plus the shared stream of older versions): they are summed.
    """
    keys = store.keys
    async with store.redis.pipeline(transaction=False) as pipe:
        for priority in QUEUE_PRIORITIES:
            pipe.zrange(keys.active_alerts(priority), 0, -1)
        active = await pipe.execute()
    names: list[str] = []
    async with store.redis.pipeline(transaction=False) as pipe:
        for priority, alert_ids in zip(QUEUE_PRIORITIES, active, strict=True):
            names.append(f"jobs:{priority}")
            pipe.xlen(keys.jobs_stream(priority))
            names.append(f"batches:{priority}")
            pipe.xlen(keys.batches_stream(priority))
            for alert_id in alert_ids:
                names.append(f"batches:{priority}")
                pipe.xlen(keys.alert_batches(priority, str(alert_id)))
        lengths = await pipe.execute()
    depths: dict[str, int] = {}
    for name, length in zip(names, lengths, strict=True):
        depths[name] = depths.get(name, 0) + int(length)
    return depths
