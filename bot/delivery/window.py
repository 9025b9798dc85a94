"""How many requests a worker keeps in flight: enough to carry the rate at the measured latency.

Little's law: requests in flight = throughput × time each one takes. A send occupies its place
from the moment its slot is granted (it may wait up to the booking horizon for its time) until
Telegram answers, so the window is ``rate × (horizon + round trip) × headroom``, recomputed from
a moving average of the measured round trips. A Bot API 10 ms away needs a handful of places, one
500 ms away (or a slow day at Telegram) hundreds; ``NEWSBOT_MAX_IN_FLIGHT`` only caps it.

The average follows a slowdown quickly (a rising sample weighs more) and a recovery more slowly,
so a burst of slow answers in the middle of an alert does not starve the rate, and one fast
answer does not collapse the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Places kept however fast the network: a send also spends time in our own event loop.
MIN_WINDOW = 8
#: Margin over Little's law: round trips vary, and a place is freed only once the outcome is
#: handed to the recorder.
HEADROOM = 1.5
#: Weight of a new sample in the average: larger when it rises (react to a slowdown at once).
RISE_WEIGHT = 0.3
FALL_WEIGHT = 0.05
#: The round trip assumed before the first answer (opening connections must not hold the
#: first deliveries back: start generous, the average corrects it within a few answers).
INITIAL_RTT = 0.25


@dataclass(slots=True)
class InFlightWindow:
    """The adaptive limit of concurrent requests for one worker."""

    rate: float
    horizon: float
    ceiling: int
    rtt: float = INITIAL_RTT
    samples: int = 0
    #: Read for every booking and every outcome: computed once per answer, not per read.
    _size: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._resize()

    def observe(self, seconds: float) -> None:
        """Account for one request that took ``seconds`` from sending to its answer."""
        seconds = max(0.0, seconds)
        weight = RISE_WEIGHT if seconds > self.rtt else FALL_WEIGHT
        self.rtt += weight * (seconds - self.rtt)
        self.samples += 1
        self._resize()

    def _resize(self) -> None:
        needed = math.ceil(self.rate * (self.horizon + self.rtt) * HEADROOM)
        self._size = max(1, min(self.ceiling, max(MIN_WINDOW, needed)))

    @property
    def size(self) -> int:
        """Requests allowed in flight now: Little's law with headroom, within the bounds."""
        return self._size
