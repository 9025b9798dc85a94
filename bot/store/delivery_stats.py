"""Read-only numbers about the delivery queues, for metrics (the engine owns the writes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bot.store imports this module's package: no import cycle at run time
    from bot.store import Store

#: The delivery priorities (``bot.delivery.config.Priority`` values), most urgent first. Spelled
#: here because the store must not import the engine; a test keeps the two in step.
QUEUE_PRIORITIES: tuple[str, ...] = ("breaking", "routine")


async def queue_depths(store: Store) -> dict[str, int]:
    """Unfinished entries per delivery stream (``jobs:breaking``, ``batches:routine``, ...).

    Workers delete entries once done, so a stream's length is its backlog.
    """
    names: list[str] = []
    async with store.redis.pipeline(transaction=False) as pipe:
        for priority in QUEUE_PRIORITIES:
            for kind, key in (
                ("jobs", store.keys.jobs_stream(priority)),
                ("batches", store.keys.batches_stream(priority)),
            ):
                names.append(f"{kind}:{priority}")
                pipe.xlen(key)
        lengths = await pipe.execute()
    return {name: int(length) for name, length in zip(names, lengths, strict=True)}
