"""Telegram-like flood limits (sliding windows) and injected failures (429 storms, 5xx errors)."""

from __future__ import annotations

import bisect
import math
import random
import time
from collections import deque
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.errors import server_error, too_many_requests

GROUP_WINDOW_SECONDS = 60.0

#: When the request being handled arrived (``time.monotonic()``), set by the server before its
#: added latency: limits count a send on arrival, as Telegram does, not when the answer is due.
ARRIVED: ContextVar[float | None] = ContextVar("sandbox_arrived", default=None)


@dataclass(frozen=True, slots=True)
class FloodConfig:
    """Flood limits; off unless ``enabled``. Windows slide: 1 s global/private, 60 s groups."""

    enabled: bool = True
    global_per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON object."""
        return asdict(self)


def _retry_after(window: deque[float], span: float, now: float) -> int:
    """Whole seconds until the oldest send leaves the window (at least 1, like Telegram)."""
    return max(1, math.ceil(window[0] + span - now))


def _prune(window: deque[float], span: float, now: float) -> None:
    while window and window[0] <= now - span:
        window.popleft()


def _count(window: deque[float], now: float) -> None:
    """Add a send to a window kept in arrival order (handlers may finish out of order)."""
    if window and window[-1] > now:
        bisect.insort(window, now)
    else:
        window.append(now)


@dataclass(slots=True)
class _Faults:
    """Injected error answers: the next ``count`` calls fail, or a ``rate`` fraction of them."""

    count: int = 0
    rate: float = 0.0
    status: int = 500

    @classmethod
    def of(cls, rate_or_count: float, status: int) -> _Faults:
        """An ``int`` is a count of failures, a ``float`` a failure rate (0 to 1)."""
        if isinstance(rate_or_count, int):
            return cls(count=max(0, rate_or_count), status=status)
        return cls(rate=min(max(rate_or_count, 0.0), 1.0), status=status)

    def due(self, rng: random.Random) -> bool:
        """Whether this call fails (using up one of ``count``)."""
        if self.count > 0:
            self.count -= 1
            return True
        return bool(self.rate) and rng.random() < self.rate

    @property
    def spent(self) -> bool:
        """Nothing more will fail."""
        return self.count == 0 and not self.rate


class FloodGuard:
    """Decides whether an outgoing message is allowed now; raises the 429/5xx answer if not."""

    def __init__(self, config: FloodConfig, *, seed: int | None = None) -> None:
        self.config = config
        self._global: deque[float] = deque()
        self._chats: dict[int, deque[float]] = {}
        self._storm_count = 0
        self._storm_until = 0.0
        self._storm_retry_after = 1
        self._errors = _Faults()
        self._method_errors: dict[str, _Faults] = {}
        self._rng = random.Random(seed)
        #: The most sends accepted in any sliding second since the limits were last set.
        self.peak_per_second = 0

    def configure(self, config: FloodConfig) -> None:
        """Replace the limits and forget the windows counted so far."""
        self.config = config
        self._global.clear()
        self._chats.clear()
        self.peak_per_second = 0

    def storm(self, *, count: int = 0, seconds: float = 0.0, retry_after: int = 1) -> None:
        """Make the next ``count`` sends, and every send for ``seconds``, answer 429."""
        self._storm_count = count
        self._storm_until = time.monotonic() + seconds if seconds > 0 else 0.0
        self._storm_retry_after = max(1, retry_after)

    def errors(self, rate_or_count: float, status: int = 500, *, method: str | None = None) -> None:
        """An ``int`` fails that many next sends; a ``float`` fails that fraction of sends.

        ``method`` (a canonical Bot API method name) fails calls of that method instead.
        """
        faults = _Faults.of(rate_or_count, status)
        if method is None:
            self._errors = faults
        elif faults.spent:
            self._method_errors.pop(method, None)
        else:
            self._method_errors[method] = faults

    def clear_injections(self) -> None:
        """Stop every injected failure."""
        self.storm()
        self.errors(0)
        self._method_errors.clear()

    def injected(self) -> dict[str, Any]:
        """The injections still pending, for the control API."""
        left = max(0.0, self._storm_until - time.monotonic())
        return {
            "storm_count": self._storm_count,
            "storm_seconds_left": round(left, 3),
            "storm_retry_after": self._storm_retry_after,
            "error_count": self._errors.count,
            "error_rate": self._errors.rate,
            "error_status": self._errors.status,
            "method_errors": {name: asdict(f) for name, f in self._method_errors.items()},
        }

    def check_injected(self) -> None:
        """Raise the injected 429 or 5xx answer if one is due for this send."""
        if self._storm_count > 0:
            self._storm_count -= 1
            raise too_many_requests(self._storm_retry_after)
        if self._storm_until and time.monotonic() < self._storm_until:
            raise too_many_requests(self._storm_retry_after)
        if self._errors.due(self._rng):
            raise server_error(self._errors.status)

    def check_method(self, method: str) -> None:
        """Raise the error injected for calls of ``method`` (canonical name), if one is due."""
        faults = self._method_errors.get(method)
        if faults is None:
            return
        failing = faults.due(self._rng)
        if faults.spent:
            del self._method_errors[method]
        if failing:
            raise server_error(faults.status)

    def check(self, chat_id: int, chat_type: str, *, per_chat: bool) -> None:
        """Raise 429 when this send would exceed a limit; otherwise count it."""
        config = self.config
        if not config.enabled:
            return
        arrived = ARRIVED.get()
        now = time.monotonic() if arrived is None else arrived
        window = self._global
        _prune(window, 1.0, now)
        if len(window) >= config.global_per_second:
            raise too_many_requests(_retry_after(window, 1.0, now))
        chat_window: deque[float] | None = None
        if per_chat:
            private = chat_type == "private"
            span = 1.0 if private else GROUP_WINDOW_SECONDS
            limit = config.private_per_second if private else config.group_per_minute
            chat_window = self._chats.setdefault(chat_id, deque())
            _prune(chat_window, span, now)
            if len(chat_window) >= limit:
                raise too_many_requests(_retry_after(chat_window, span, now))
            _count(chat_window, now)
        _count(window, now)
        self.peak_per_second = max(self.peak_per_second, len(window))
