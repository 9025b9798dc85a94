"""``python -m bot.delivery``: a delivery worker on its own (SIGTERM/SIGINT stop it gracefully)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.delivery.service import run_worker
from bot.redis_conn import open_redis
from bot.store import Store
from config import ConfigError, Settings, load_settings


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with open_redis(settings) as redis:
        await run_worker(settings, Store.create(redis, settings.redis_namespace), stop)


def main() -> int:
    """Run one worker with the environment's settings until signalled."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(_serve(load_settings()))
    except ConfigError as exc:
        print(f"newsbot worker: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
