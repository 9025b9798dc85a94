"""In-process delivery counters with listeners, for whoever exports metrics (e.g. Prometheus)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

logger = logging.getLogger(__name__)

#: Event names: one per final outcome, plus what happened on the way.
SENT = "sent"
BLOCKED = "blocked"
FAILED = "failed"
BAD_REQUEST = "bad_request"
SKIPPED = "skipped"
RETRY_AFTER = "retry_after"  # a 429 was answered (the message is retried)
TRANSIENT_ERROR = "transient_error"  # a network error or 5xx (retried or, at the limit, failed)

Listener = Callable[[str, int], None]


class DeliveryMetrics:
    """Monotonic counters of this process; listeners get ``(event, amount)`` on every change."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event, amount)`` for every future increment."""
        self._listeners.append(listener)

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
