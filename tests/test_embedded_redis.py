"""The embedded Redis shared by several ``newsbot`` processes on one data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: Processes started together: five already fail without the data directory's lock (two of
#: five did, in each of two runs with the lock planted away); each costs seconds of start-up.
PARALLEL = 5


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.pop("REDIS_URL", None)
    env["NEWSBOT_DATA_DIR"] = str(data_dir)
    return env


def test_commands_started_together_share_one_server_and_lose_nothing(tmp_path: Path) -> None:
    """A newsroom script firing several ``newsbot ingest`` at once, with no ``newsbot run`` up.

    Each must succeed and every article must be stored: before the data directory was locked,
    each process could start its own server on the same files, or one process's exit could shut
    down the server another had just joined ("cannot connect", "connection reset").
    """
    env = _env(tmp_path / "data")
    files = []
    for i in range(PARALLEL):
        path = tmp_path / f"article{i}.txt"
        path.write_text(f"خبر متزامن رقم {i}\n\nنص الخبر المتزامن رقم {i}.\n", encoding="utf-8")
        files.append(path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "ingest", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for path in files
    ]
    results = [p.communicate(timeout=120) for p in procs]
    failures = [err for p, (_, err) in zip(procs, results, strict=True) if p.returncode != 0]
    assert failures == []
    ids = {out.strip() for out, _ in results}
    assert len(ids) == PARALLEL

    latest = subprocess.run(
        [sys.executable, "-m", "bot", "latest", "-n", str(PARALLEL * 2)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert latest.returncode == 0, latest.stderr
    stored = {line.split("\t")[0] for line in latest.stdout.splitlines()}
    assert stored == ids
