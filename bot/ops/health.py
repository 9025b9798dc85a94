"""Liveness and readiness: ``/healthz`` (process up) and ``/readyz`` (every dependency checked).

Readiness needs Redis (PING), Telegram (``getMe`` succeeded: the bot's ``post_init`` calls
:meth:`ReadinessProbe.telegram_ready`) and at least one live delivery worker (heartbeats).
Feeds are reported — failing ones listed with their last error — but never make the service
unready: a broken outside feed is not something restarting or un-routing newsbot can fix.

``/readyz`` needs no token (probes cannot send one), so its public body carries verdicts and
counts only; error texts, Telegram details and feed URLs (which may hold access keys) are shown
to requests with the API's bearer token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from bot.delivery.reader import DeliveryReader
from bot.store import FeedState, Store

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0
#: Check fields shown only to authenticated requests: free text and URLs from outside.
PRIVATE_FIELDS = frozenset({"error", "detail", "failing"})
DETAILS_HINT = "error texts and feed URLs need Authorization: Bearer <NEWSBOT_API_TOKEN>"


@dataclass
class Readiness:
    """The outcome of a readiness check: overall verdict and each check's JSON."""

    ready: bool
    checks: dict[str, dict[str, object]] = field(default_factory=dict)

    def to_json(self, *, detailed: bool = True) -> dict[str, object]:
        """The ``/readyz`` body; without ``detailed``, verdicts and counts only."""
        status = "ready" if self.ready else "not_ready"
        if detailed:
            return {"status": status, "checks": self.checks}
        public = {
            name: {k: v for k, v in check.items() if k not in PRIVATE_FIELDS}
            for name, check in self.checks.items()
        }
        return {"status": status, "checks": public, "details": DETAILS_HINT}


class ReadinessProbe:
    """Runs the readiness checks; holds the Telegram flag the bot sets after ``getMe``."""

    def __init__(
        self,
        store: Store,
        *,
        feeds: Sequence[str] = (),
        delivery: DeliveryReader | None = None,
        require_telegram: bool = True,
        timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self._store = store
        self.feeds = tuple(feeds)
        self._delivery = delivery
        self._require_telegram = require_telegram
        self._timeout = timeout
        self._telegram_ok = False
        self._telegram_detail = "getMe has not succeeded yet"

    def telegram_ready(self, username: str | None = None) -> None:
        """Record a successful ``getMe`` (call from the bot's ``post_init``)."""
        self._telegram_ok = True
        self._telegram_detail = f"@{username}" if username else "getMe succeeded"

    def telegram_failed(self, reason: str) -> None:
        """Record that Telegram is unreachable or refuses the token."""
        self._telegram_ok = False
        self._telegram_detail = reason

    async def check(self) -> Readiness:
        """Run every check concurrently, each bounded by the timeout."""
        names = ["redis", "workers", "feeds", "telegram"]
        results = await asyncio.gather(
            self._bounded(self._check_redis()),
            self._bounded(self._check_workers()),
            self._bounded(self._check_feeds()),
            self._bounded(self._check_telegram()),
        )
        checks = dict(zip(names, results, strict=True))
        if self._delivery is None:
            del checks["workers"]
        # Feeds are informational (see the module docstring); everything else must be ok.
        ready = all(c["ok"] for name, c in checks.items() if name != "feeds")
        return Readiness(ready=ready, checks=checks)

    async def _bounded(self, check: Awaitable[dict[str, object]]) -> dict[str, object]:
        try:
            result: dict[str, object] = await asyncio.wait_for(check, self._timeout)
        except TimeoutError:
            return {"ok": False, "error": f"timed out after {self._timeout:g}s"}
        except (RedisError, OSError) as exc:
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        return result

    async def _check_redis(self) -> dict[str, object]:
        await self._store.redis.ping()
        return {"ok": True}

    async def _check_telegram(self) -> dict[str, object]:
        # A token revoked while any worker (of any process) was delivering: nobody can send.
        rejected = await self._delivery.token_rejected() if self._delivery is not None else None
        if rejected is not None:
            return {"ok": False, "detail": rejected}
        if not self._require_telegram:
            return {"ok": True, "detail": "not required"}
        return {"ok": self._telegram_ok, "detail": self._telegram_detail}

    async def _check_workers(self) -> dict[str, object]:
        if self._delivery is None:
            return {"ok": True}
        alive = await self._delivery.live_worker_count()
        result: dict[str, object] = {"ok": alive > 0, "alive": alive}
        if not alive:
            result["error"] = "no delivery worker has a fresh heartbeat"
        return result

    async def _check_feeds(self) -> dict[str, object]:
        states = await self._store.feeds.get_many(self.feeds)
        failing = [_feed_json(s) for s in states if s.failing]
        return {
            "ok": not failing,
            "configured": len(self.feeds),
            "failing_count": len(failing),
            "failing": failing,
        }


def _feed_json(state: FeedState) -> dict[str, object]:
    """A failing feed as ``/readyz`` lists it."""
    return {
        "url": state.url,
        "errors": state.errors,
        "last_error": state.last_error,
        "last_error_at": state.last_error_at,
        "last_ok_at": state.last_ok_at,
    }
