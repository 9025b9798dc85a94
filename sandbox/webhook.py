"""Webhook mode: POST each pending update to the bot's URL with the secret-token header."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import aiohttp

from sandbox.stats import SandboxStats
from sandbox.updates import UpdateQueue

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RETRY_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)


class WebhookDelivery:
    """While a webhook is set, delivers updates in order, retrying failed deliveries."""

    def __init__(self, queue: UpdateQueue, stats: SandboxStats) -> None:
        self._queue = queue
        self._stats = stats
        self.url = ""
        self.secret: str | None = None
        self.max_connections = 40
        self.ip_address: str | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """Whether a webhook is set (getUpdates then answers 409)."""
        return bool(self.url)

    def set(self, url: str, secret: str | None, max_connections: int | None) -> None:
        """Start delivering to ``url`` (replacing any previous webhook)."""
        self.clear()
        self.url = url
        self.secret = secret
        if max_connections is not None:
            self.max_connections = max_connections
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sandbox-webhook")

    def clear(self) -> None:
        """Stop delivering; updates stay queued for getUpdates."""
        self.url = ""
        self.secret = None
        self.last_error_date = None
        self.last_error_message = None
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def aclose(self) -> None:
        """Stop the delivery task and wait for it to finish."""
        task = self._task
        self.clear()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def info(self) -> dict[str, Any]:
        """The Bot API ``WebhookInfo`` object."""
        out: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": self._queue.pending_count(),
        }
        if self.url:
            out["max_connections"] = self.max_connections
            allowed = self._queue.allowed()
            if allowed is not None:
                out["allowed_updates"] = allowed
            if self.ip_address:
                out["ip_address"] = self.ip_address
        if self.last_error_date is not None and self.last_error_message is not None:
            out["last_error_date"] = self.last_error_date
            out["last_error_message"] = self.last_error_message
        return out

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            failures = 0
            while True:
                await self._queue.wait_pending()
                update = self._queue.peek()
                if update is None:
                    await asyncio.sleep(0.05)  # queue closed: idle until cancelled
                    continue
                if await self._deliver(session, update):
                    failures = 0
                    self._queue.confirm(update["update_id"] + 1)
                    self._stats.count("webhook_delivered")
                else:
                    self._stats.count("webhook_failed")
                    await asyncio.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)])
                    failures += 1

    async def _deliver(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> bool:
        headers = {"Content-Type": "application/json"}
        if self.secret:
            headers[SECRET_HEADER] = self.secret
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        try:
            async with session.post(self.url, data=body, headers=headers) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True
                error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection failed: {exc!r}"
        logger.warning("webhook delivery of update %s failed: %s", update["update_id"], error)
        self.last_error_date = int(time.time())
        self.last_error_message = error
        return False
