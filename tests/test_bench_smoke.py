"""Each benchmark mode runs end to end on a tiny audience and prints its figures.

Speeds are not asserted (they belong in bench/RESULTS.md); what is checked is that every mode
still runs against the current engine and reports the fields it promises, baseline included.
The crash mode is left out: it waits for a real heartbeat to expire (4 s) and two process
starts, which would take the whole module past 20 s; tests/test_delivery_crash.py covers what
it measures.
"""

from __future__ import annotations

import pytest

from bench.delivery import main

MODES = {
    "latency": (
        ["--subscribers", "150", "--latencies", "20", "--baseline-seconds", "0.1"],
        ["newsbot msg/s", "raw aiohttp, 256 conns", "PTB loop msg/s", "| 20 ms |"],
    ),
    "first": (
        ["--subscribers", "5", "--alerts", "1", "--latency-ms", "5"],
        ["publish → first delivery p50 / p95", "raw sendMessage round trip"],
    ),
    "readers": (
        ["--subscribers", "200", "--readers", "2", "--idle-seconds", "0.5"],
        ["bot idle, answer p50 / p95", "during the broadcast", "broadcast rate"],
    ),
    "scale": (
        ["--sizes", "300"],
        ["Redis per subscriber", "RSS every second", "| 300 |"],
    ),
    "stories": (
        ["--subscribers", "100", "--ledger-chats", "200", "--latency-ms", "5"],
        [
            "ledger total (the engine's keys)",
            "outcomes hash before living stories",
            "plain hash chat → message id",
            "call → every alert edited",
            "baseline: the alert, publish → last delivery",
            "100 to 100 chats, 0 duplicates",
        ],
    ),
}


@pytest.mark.parametrize("mode", list(MODES))
def test_bench_mode_runs_and_reports_its_fields(
    mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args, fields = MODES[mode]
    main(["--mode", mode, *args])
    out = capsys.readouterr().out
    for field in fields:
        assert field in out, (field, out)
    assert " nan " not in out, out  # every figure was measured
