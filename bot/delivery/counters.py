"""The delivery engine's counters: their names in its ``delivery:counters`` hash.

Defined here only: the engine's Lua scripts get the names as arguments, and readers (metrics,
``/stats``) use the same constants through ``DeliveryReader.counters``.
"""

from __future__ import annotations

from enum import StrEnum

#: Prefix of the per-outcome message counters (``messages_sent``, ``messages_blocked``...).
MESSAGES_PREFIX = "messages_"
#: Prefix of the per-outcome counters of edits (corrections, retractions, catch-ups):
#: ``edits_edited``, ``edits_unchanged``, ``edits_gone``...
EDITS_PREFIX = "edits_"
#: Prefix of the per-outcome counters of updates sent as replies: ``updates_sent``...
UPDATES_PREFIX = "updates_"


class Counter(StrEnum):
    """The fixed counters of the engine."""

    #: Alerts queued (one per article at most).
    ALERTS_PUBLISHED = "alerts_published"
    #: 429 answers from Telegram to the delivery workers.
    RATE_LIMITED = "rate_limited"


def messages_field(outcome: str) -> str:
    """The counter of messages that ended with ``outcome`` (sent, blocked, failed...)."""
    return f"{MESSAGES_PREFIX}{outcome}"


def messages_outcome(field: str) -> str | None:
    """The outcome a ``messages_<outcome>`` counter counts, or ``None`` for other fields."""
    return field.removeprefix(MESSAGES_PREFIX) if field.startswith(MESSAGES_PREFIX) else None
