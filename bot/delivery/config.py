"""The delivery engine's knobs: read from ``Settings`` plus tuning constants with safe defaults."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from config import Settings
from config.settings import FREE_BROADCAST_RATE


class Priority(StrEnum):
    """Delivery queues, most urgent first: breaking alerts overtake routine notifications."""

    BREAKING = "breaking"
    ROUTINE = "routine"


#: Queues in the order workers serve them.
PRIORITIES: tuple[Priority, ...] = (Priority.BREAKING, Priority.ROUTINE)


@dataclass(frozen=True)
class DeliveryConfig:
    """Everything the workers, the limiter and the sender need to know, in plain numbers."""

    api_url: str
    token: str
    #: Messages per second for the whole bot token, however many workers send.
    rate: float = FREE_BROADCAST_RATE
    paid_broadcast: bool = False
    #: Upper bound of the adaptive in-flight window (``bot.delivery.window``), per worker.
    max_in_flight: int = 1024
    #: A batch or job untouched this long is taken over by another worker: the safety net for a
    #: worker that is alive (its heartbeat goes on) but stuck.
    claim_idle: float = 30.0
    #: Workers write a heartbeat this often, which expires after ``heartbeat_ttl``: a worker
    #: without one is dead, and what it held is taken over at once (not after ``claim_idle``).
    heartbeat_interval: float = 1.0
    heartbeat_ttl: float = 4.0
    #: Attempts after the first for network errors and 5xx before a chat counts as failed.
    send_retries: int = 5
    #: Slots are spaced at ``1 / (rate * rate_safety)`` so that network jitter between our clock
    #: and Telegram's never packs more than ``rate`` messages into one second.
    rate_safety: float = 0.97
    #: How far ahead broadcasts may book slots; a reply never waits longer than this for them.
    horizon: float = 0.15
    #: Per-chat spacing (Telegram: about 1/s per private chat, 20/min per group or channel),
    #: with a small margin for the same jitter reason.
    private_spacing: float = 1.05
    group_spacing: float = 3.05
    #: Messages a reply may send at once to one private chat before the spacing applies again
    #: (a 4-message article then takes ~1 s instead of ~3 s).  Telegram tolerates short bursts
    #: in a chat ("eventually" answering 429), the sandbox's 1-per-sliding-second rule does not:
    #: 1 (strict) by default.  Groups, channels and broadcasts always keep the strict spacing.
    reply_burst: int = 1
    batch_size: int = 100
    #: Batches written per expansion step, and how many unread batches an alert's stream may
    #: hold before its expansion waits (keeps Redis memory bounded for huge audiences).
    expand_chunk: int = 10
    expand_lag: int = 30
    retry_base: float = 0.5
    retry_cap: float = 30.0
    request_timeout: float = 15.0
    #: Chats a worker keeps in hand (None: about 2 s of sending and twice the in-flight window,
    #: see ``Dispatcher.prefetch``), plus up to
    #: one batch of each urgent alert in progress it holds nothing of (so a new one starts).
    prefetch_chats: int | None = None
    #: Days the per-chat outcomes of a finished alert are kept (idempotent replays), with the
    #: message ids they hold: corrections and updates reach the alert's readers that long
    #: (``NEWSBOT_STORY_RETENTION``).
    outcomes_ttl_days: int = 7
    #: How long a worker stops sending after Telegram rejected the bot token (401/404).
    invalid_token_pause: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings, *, require_token: bool = True) -> DeliveryConfig:
        """The configuration of a worker process (which needs the token; the limiter does not)."""
        secret = settings.telegram_bot_token
        config = cls(
            api_url=settings.telegram_api_url,
            token=settings.require_token() if require_token or secret else "",
            rate=settings.rate_limit,
            paid_broadcast=settings.paid_broadcast,
            max_in_flight=settings.max_in_flight,
            claim_idle=settings.claim_idle_seconds,
            send_retries=settings.send_retries,
            outcomes_ttl_days=settings.story_retention_days,
        )
        return config

    def with_overrides(self, **changes: object) -> DeliveryConfig:
        """A copy with some fields changed (benchmarks and tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def send_url(self) -> str:
        """The sendMessage URL; it contains the token, so it is never logged."""
        return self.method_url("sendMessage")

    def method_url(self, method: str) -> str:
        """A Bot API method's URL (``""``: the base to append one); never logged (the token)."""
        return f"{self.api_url}{self.token}/{method}"

    def prefetch(self, window: int) -> int:
        """Chats a worker keeps in hand with ``window`` requests in flight: ~2 s of sending and
        at least twice the window, capped (memory stays flat)."""
        if self.prefetch_chats is not None:
            return max(1, self.prefetch_chats)
        return min(max(2 * window, min(int(self.rate * 2), 4_000), self.batch_size), 8_192)

    def __repr__(self) -> str:
        # The token must never reach a log line through a repr.
        return f"DeliveryConfig(rate={self.rate}, paid_broadcast={self.paid_broadcast}, ...)"
