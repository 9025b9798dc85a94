"""The in-flight window on its own: fed measured round trips, it carries the rate (Little's law).

No clock is involved: each test hands the controller the round trips a worker would measure and
checks how many requests it allows in flight. "Carries the rate" means ``size / (horizon + rtt)
>= rate``: a place is held from the slot's booking (up to ``horizon`` ahead) to the answer.
"""

from __future__ import annotations

from bot.delivery.config import DeliveryConfig
from bot.delivery.window import MIN_WINDOW, InFlightWindow

RATE = 1000.0
HORIZON = DeliveryConfig(api_url="", token="").horizon
DEFAULT_CAP = DeliveryConfig(api_url="", token="").max_in_flight


def window(*, cap: int = DEFAULT_CAP, rate: float = RATE) -> InFlightWindow:
    """A fresh window with the engine's horizon and the default cap."""
    return InFlightWindow(rate, HORIZON, cap)


def carried(w: InFlightWindow, rtt: float) -> float:
    """Messages per second the window can carry when every request takes ``rtt``."""
    return w.size / (HORIZON + rtt)


def feed(w: InFlightWindow, rtt: float, count: int) -> None:
    """``count`` answers that each took ``rtt`` seconds."""
    for _ in range(count):
        w.observe(rtt)


def test_before_any_answer_the_window_already_carries_the_rate_at_a_quarter_second() -> None:
    # Opening connections must not hold the first deliveries back: no answer measured yet.
    assert carried(window(), 0.25) >= RATE


def test_steady_round_trips_from_10_to_500_ms_carry_the_rate_with_the_default_cap() -> None:
    for rtt in (0.01, 0.05, 0.2, 0.4, 0.5):
        w = window()
        feed(w, rtt, 200)
        assert carried(w, rtt) >= RATE, rtt


def test_window_grows_within_a_few_answers_when_telegram_slows_down_mid_alert() -> None:
    w = window()
    feed(w, 0.05, 200)
    before = w.size
    assert carried(w, 0.4) < RATE  # sized for 50 ms: too small for 400 ms

    answers = 0
    while carried(w, 0.4) < RATE:
        w.observe(0.4)
        answers += 1
    assert w.size > before
    # A slowdown is followed at once (a rising sample weighs more): a handful of answers,
    # i.e. a few milliseconds of sending at 1,000 msg/s.
    assert answers <= 5


def test_window_shrinks_back_when_round_trips_fall_but_one_fast_answer_does_not_collapse_it() -> (
    None
):
    w = window()
    feed(w, 0.4, 200)
    slow = w.size

    w.observe(0.01)
    assert carried(w, 0.4) >= RATE  # one quick answer among slow ones changes little

    feed(w, 0.01, 400)
    fresh = window()
    feed(fresh, 0.01, 400)
    assert w.size < slow / 2
    assert w.size <= fresh.size + 1  # back to what a fast network needs


def test_window_never_exceeds_the_cap_however_slow_the_answers() -> None:
    w = window(cap=128)
    feed(w, 5.0, 50)
    assert w.size == 128
    feed(w, 0.0, 2000)
    assert w.size <= 128


def test_window_keeps_a_minimum_for_a_slow_rate_and_never_goes_below_one() -> None:
    w = window(rate=1.0)
    feed(w, 0.0, 500)
    assert w.size == MIN_WINDOW
    assert window(rate=1.0, cap=1).size == 1


def test_a_measured_round_trip_below_zero_is_taken_as_zero() -> None:
    # The loop clock is monotonic, but a bogus sample must not shrink the window below need.
    w = window()
    feed(w, -3.0, 500)
    assert w.rtt >= 0.0
    assert w.size >= MIN_WINDOW


def test_quick_429_answers_during_a_slow_alert_keep_the_window_sized_for_the_slow_network() -> None:
    # A 429 answer comes back fast (Telegram refuses before doing any work); the pause it
    # causes is the rate limiter's job (tests/test_delivery_engine.py), the window must not
    # shrink under the slow network's need because of a burst of them.
    w = window()
    feed(w, 0.4, 200)
    feed(w, 0.005, 5)
    assert carried(w, 0.4) >= RATE
