"""The lean sending path: one pooled aiohttp session, prebuilt JSON bodies, PTB's error mapping.

Building ``telegram.Message`` objects for 100,000 answers nobody reads costs more CPU than the
HTTP itself, so workers POST the exact ``sendMessage`` body and only look at the answer when it
is not a success.  Failures are fed through python-telegram-bot's own status-code mapping
(``BaseRequest.post``), so an error is classified exactly as a ``Bot.send_message`` call would
have raised it (``bot.telegram_errors``).
"""

from __future__ import annotations

import json
import logging
import re

import aiohttp

from bot.delivery.config import DeliveryConfig
from bot.telegram_errors import SENT, ResultKind, SendResult, classify_error, classify_response

logger = logging.getLogger(__name__)

_JSON_HEADERS = {"Content-Type": "application/json"}
#: The start of a sendMessage success, as Telegram writes it (the sent message's id first):
#: read without decoding the whole Message, which costs more than the rest of the answer.
_SENT_ID = re.compile(
    rb'\{\s*"ok"\s*:\s*true\s*,\s*"result"\s*:\s*\{\s*"message_id"\s*:\s*(\d+)[,}\s]'
)


class DirectSender:
    """POSTs prebuilt ``sendMessage`` bodies over a pooled session; at most ``max_in_flight``."""

    def __init__(self, config: DeliveryConfig) -> None:
        self._url = config.send_url
        self._base = config.method_url("")
        self._limit = config.max_in_flight
        self._timeout = aiohttp.ClientTimeout(total=config.request_timeout)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the connection pool (inside the running event loop)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        """Close the pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, body: bytes, method: str = "sendMessage") -> SendResult:
        """Send one request body (``sendMessage`` by default, or ``editMessageText``); never
        raises for Telegram or network failures. A sent message's id is in the result."""
        if self._session is None:
            raise RuntimeError("DirectSender.start() was not called")
        url = self._url if method == "sendMessage" else self._base + method
        try:
            async with self._session.post(url, data=body, headers=_JSON_HEADERS) as resp:
                payload = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return classify_error(exc)
        if 200 <= status <= 299:
            return _success(payload) if method == "sendMessage" else SENT
        return await classify_response(status, payload, method)


def _success(payload: bytes) -> SendResult:
    """A sendMessage success, with the id of the message created (corrections edit it)."""
    if (match := _SENT_ID.match(payload)) is not None:
        return SendResult(ResultKind.OK, message_id=int(match.group(1)))
    try:
        message_id = json.loads(payload)["result"]["message_id"]
    except (ValueError, KeyError, TypeError):
        return SENT  # sent all the same; without its id it cannot be corrected later
    if not isinstance(message_id, int):
        return SENT
    return SendResult(ResultKind.OK, message_id=message_id)
