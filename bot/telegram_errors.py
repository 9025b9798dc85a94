"""What Telegram's answers mean: one classification shared by delivery and the bot's handlers.

Failures are fed through python-telegram-bot's own status-code mapping (``BaseRequest.post``),
so an error is classified exactly as a ``Bot.send_message`` call would have raised it, whether
it came from the engine's lean sender or from a handler's reply.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBDeprecationWarning


class ResultKind(StrEnum):
    """How one send ended, as far as the delivery engine cares."""

    OK = "ok"
    RETRY_AFTER = "retry_after"
    INACTIVE = "inactive"
    BAD_REQUEST = "bad_request"
    MIGRATED = "migrated"
    TRANSIENT = "transient"
    INVALID_TOKEN = "invalid_token"


@dataclass(frozen=True, slots=True)
class SendResult:
    """The classified answer to one ``sendMessage`` (descriptions never contain the token)."""

    kind: ResultKind
    retry_after: float = 0.0
    reason: str = ""
    description: str = ""
    migrate_to: int | None = None
    #: The id of the message Telegram created (a successful sendMessage).
    message_id: int | None = None


SENT = SendResult(ResultKind.OK)

#: Telegram's answers to an edit that count as done (lower case, matched as substrings).
NOT_MODIFIED = "message is not modified"
EDIT_TARGET_GONE = "message to edit not found"


def retry_after_seconds(exc: RetryAfter) -> float:
    """The pause a 429 asks for, in seconds, without PTB's int-vs-timedelta deprecation noise."""
    # PTB 22 answers a number (int, or float for a fraction) unless PTB_TIMEDELTA is set, and
    # warns that it will become a timedelta; both forms are handled, the warning is not news.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _inactive_reason(message: str) -> str | None:
    """Why a chat can no longer receive messages, from Telegram's description; None if it can."""
    text = message.lower()
    if "blocked" in text:
        return "blocked"
    if "deactivated" in text:
        return "deactivated"
    if "chat not found" in text or "user not found" in text:
        return "chat_not_found"
    if "kicked" in text or "not a member" in text:
        return "kicked"
    return None


def classify_error(exc: BaseException) -> SendResult:
    """Map an exception raised by PTB (or by the HTTP client) to what the engine does next."""
    if isinstance(exc, RetryAfter):
        return SendResult(ResultKind.RETRY_AFTER, retry_after=retry_after_seconds(exc))
    if isinstance(exc, ChatMigrated):
        return SendResult(
            ResultKind.MIGRATED,
            reason="migrated",
            description=exc.message,
            migrate_to=int(exc.new_chat_id),
        )
    if isinstance(exc, Forbidden):
        reason = _inactive_reason(exc.message) or "forbidden"
        return SendResult(ResultKind.INACTIVE, reason=reason, description=exc.message)
    if isinstance(exc, BadRequest):
        if _inactive_reason(exc.message) == "chat_not_found":
            return SendResult(ResultKind.INACTIVE, reason="chat_not_found", description=exc.message)
        return SendResult(ResultKind.BAD_REQUEST, description=exc.message)
    if isinstance(exc, InvalidToken):
        return SendResult(ResultKind.INVALID_TOKEN, description="the bot token was rejected")
    if isinstance(exc, TelegramError):
        return SendResult(ResultKind.TRANSIENT, description=exc.message)
    # aiohttp/OS errors: their text may include the request URL (and so the token): name only.
    return SendResult(ResultKind.TRANSIENT, description=type(exc).__name__)


class _Replay(BaseRequest):
    """A ``BaseRequest`` that "answers" with a response already received, to reuse PTB's mapping."""

    __slots__ = ("_code", "_payload")

    def __init__(self, code: int, payload: bytes) -> None:
        self._code = code
        self._payload = payload

    @property
    def read_timeout(self) -> float | None:
        """Not used: nothing is sent."""
        return None

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Return the recorded status and body."""
        return self._code, self._payload


async def classify_response(status: int, payload: bytes, method: str = "sendMessage") -> SendResult:
    """Classify a Bot API answer exactly as python-telegram-bot would have raised it."""
    try:
        with warnings.catch_warnings():
            # RetryAfter's constructor itself warns about its int-vs-timedelta migration.
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            await _Replay(status, payload).post(method)
    except TelegramError as exc:
        return classify_error(exc)
    return SENT
