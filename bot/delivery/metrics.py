"""In-process delivery counters with listeners, for whoever exports metrics (e.g. Prometheus)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Protocol

logger = logging.getLogger(__name__)

#: Event names: one per final outcome, plus what happened on the way.
SENT = "sent"
BLOCKED = "blocked"
FAILED = "failed"
BAD_REQUEST = "bad_request"
SKIPPED = "skipped"
RETRY_AFTER = "retry_after"  # a 429 was answered (the message is retried)
TRANSIENT_ERROR = "transient_error"  # a network error or 5xx (retried or, at the limit, failed)
#: Telegram rejected the bot token (401/404) while delivering: sending is paused, nothing is
#: lost; the token was revoked or changed, and the bot is not ready until a send succeeds again.
UNAUTHORIZED = "unauthorized"

Listener = Callable[[str, int], None]


class DeliveryObserver(Protocol):
    """Richer per-message reports (e.g. latency histograms); calls must be cheap and sync."""

    def message_sent(self, latency_s: float) -> None:
        """One message accepted by Telegram, ``latency_s`` after its alert was published."""

    def message_failed(self, reason: str) -> None:
        """One message given up on, once, for ``reason``.

        An inactive reason (``blocked``, ``deactivated``, ``chat_not_found``, ``kicked``,
        ``forbidden``), ``migrated``, ``bad_request``, ``failed`` (retries exhausted) or
        ``unformattable`` (the alert's article is gone or cannot be formatted).
        """

    def rate_limited(self, retry_after: float) -> None:
        """Telegram answered 429 with this ``retry_after`` (seconds)."""


class DeliveryMetrics:
    """Monotonic counters of this process; listeners get ``(event, amount)`` on every change."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._listeners: list[Listener] = []
        self._observers: list[DeliveryObserver] = []

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event, amount)`` for every future increment."""
        self._listeners.append(listener)

    def add_observer(self, observer: DeliveryObserver) -> None:
        """Report every message sent, given up on, or answered with a 429 to ``observer``."""
        self._observers.append(observer)

    def sent(self, latency_s: float) -> None:
        """A message was delivered ``latency_s`` after publication."""
        for observer in self._observers:
            self._safely(observer.message_sent, latency_s)

    def gave_up(self, reason: str) -> None:
        """A message will not be delivered, for ``reason``."""
        for observer in self._observers:
            self._safely(observer.message_failed, reason)

    def unauthorized(self) -> None:
        """Telegram rejected the bot token while delivering (the ``unauthorized`` event)."""
        self.incr(UNAUTHORIZED)

    def rate_limited(self, retry_after: float) -> None:
        """A 429 was answered."""
        self.incr(RETRY_AFTER)
        for observer in self._observers:
            self._safely(observer.rate_limited, retry_after)

    @staticmethod
    def _safely(call: Callable[[float], None] | Callable[[str], None], value: object) -> None:
        try:
            call(value)  # type: ignore[arg-type]
        except Exception:
            logger.exception("delivery metrics observer failed")

    def incr(self, event: str, amount: int = 1) -> None:
        """Count an event (listener errors are logged, never raised into the send path)."""
        self._counts[event] += amount
        for listener in self._listeners:
            try:
                listener(event, amount)
            except Exception:
                logger.exception("delivery metrics listener failed")

    def get(self, event: str) -> int:
        """The current value of one counter."""
        return self._counts[event]

    def snapshot(self) -> dict[str, int]:
        """Every counter."""
        return dict(self._counts)


def token_listener(on_rejected: Callable[[str], None], on_accepted: Callable[[], None]) -> Listener:
    """A listener reporting when delivery finds the bot token rejected, and when it works again.

    ``on_rejected(reason)`` is called on every ``unauthorized`` event; ``on_accepted()`` on the
    first message sent after one (e.g. ``ReadinessProbe.telegram_failed`` / ``telegram_ready``).
    """
    rejected = False

    def listener(event: str, amount: int) -> None:
        nonlocal rejected
        if event == UNAUTHORIZED:
            rejected = True
            on_rejected("Telegram rejected the bot token while delivering (401)")
        elif event == SENT and rejected:
            rejected = False
            on_accepted()

    return listener
