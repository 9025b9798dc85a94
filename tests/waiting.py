"""The one way tests wait for something to happen: poll a probe until it answers."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from tests.constants import TIMEOUT

T = TypeVar("T")

#: How often a probe is asked (short: a passing test waits about one interval).
POLL_INTERVAL = 0.02


@overload
async def wait_for(
    probe: Callable[[], Awaitable[T | None]], *, within: float = ..., what: str = ...
) -> T: ...


@overload
async def wait_for(probe: Callable[[], T | None], *, within: float = ..., what: str = ...) -> T: ...


async def wait_for(
    probe: Callable[[], Any], *, within: float = TIMEOUT, what: str = "condition"
) -> Any:
    """Ask ``probe`` (plain or async) every 20 ms until it returns neither None nor False.

    Returns what it answered; fails the test (``AssertionError``) after ``within`` seconds.
    """
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(POLL_INTERVAL)
