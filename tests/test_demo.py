"""``newsbot demo --once``: the offline transcript that a newcomer runs first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo import CORRECTED_HEADLINE, SEED_UPDATE, run_demo
from config import Settings

SEED_HEADINGS = (
    "التحركات العسكرية الأميركية",
    "الاتصالات الأميركية الإسرائيلية",
    "تحركات دبلوماسية",
    "التعاون الأمني الإسرائيلي الأميركي",
    "استعدادات إسرائيلية",
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings as a fresh checkout has them (a production data dir the demo must not touch)."""
    return Settings(_env_file=None, NEWSBOT_DATA_DIR=str(tmp_path / "data"))


async def test_demo_once_prints_alert_button_and_full_text(
    settings: Settings, tmp_path: Path
) -> None:
    lines: list[str] = []
    assert await run_demo(settings, once=True, out=lines.append) == 0
    transcript = "\n".join(lines)

    alert_part = transcript.split("٣. خبر عاجل", 1)[1].split("٤.", 1)[0]
    assert "🔴 عاجل" in alert_part
    assert "بايدن يحذر نتنياهو بتخلي أمريكا عن إسرائيل بعد اغتيال إسماعيل هنية" in alert_part
    assert "[ اقرأ الخبر كاملاً ]" in alert_part
    assert "received by: ليلى، عمر، هدى، غرفة الأخبار" in alert_part

    full_text = transcript.split("٤.", 1)[1].split("٥.", 1)[0]
    positions = [full_text.index(h) for h in SEED_HEADINGS]
    assert positions == sorted(positions)
    assert "مواجهة واسعة النطاق" in full_text

    routine = transcript.split("٢. خبر عادي", 1)[1].split("٣.", 1)[0]
    assert "received by: عمر" in routine and "ليلى" not in routine

    latest = transcript.split("٥. /latest", 1)[1].split("٦.", 1)[0]
    assert latest.index("بايدن يحذر") < latest.index("افتتاح معرض الكتاب")
    search = transcript.split("٦. /search", 1)[1].split("٧.", 1)[0]
    assert "بايدن يحذر نتنياهو" in search and "معرض الكتاب" not in search

    # The editor corrects the delivered alert from Telegram: everybody's alert is edited in
    # place to the corrected headline, marked as corrected, and nobody got a second alert.
    readers = "ليلى، عمر، هدى، غرفة الأخبار، المحرر"
    correction = transcript.split("٧.", 1)[1].split("٨.", 1)[0]
    assert "[ تأكيد ]" in correction and "تم التنفيذ" in correction
    assert f"✏️ alert edited in place (5 chats): {readers}" in correction
    edited = correction.split("alert edited in place", 1)[1]
    assert f"🔴 عاجل | {CORRECTED_HEADLINE}" in edited and "✏️ تصحيح" in edited
    assert "(معدلة)" in edited and "نتنياهو بتخلي" not in edited
    # ...then posts an update: a reply under every reader's alert.
    update = transcript.split("٨.", 1)[1].split("٩.", 1)[0]
    assert f"🔄 update replied under the alert (5 chats): {readers}" in update
    replied = update.split("update replied under the alert", 1)[1]
    assert "🔄 تحديث |" in replied and SEED_UPDATE in replied
    assert "5 sent, 0 blocked, 0 failed" in transcript
    # The production data directory stays untouched: the demo's Redis lives in a temp dir.
    assert not (tmp_path / "data").exists()


def test_cli_demo_once_is_deterministic_and_quick(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEWSBOT_"))}
    env["NEWSBOT_DATA_DIR"] = str(tmp_path / "data")
    env.pop("REDIS_URL", None)
    runs = [
        subprocess.run(
            [sys.executable, "-m", "bot", "demo", "--once"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
        assert "🔴 عاجل" in run.stdout and "[ اقرأ الخبر كاملاً ]" in run.stdout
    assert runs[0].stdout == runs[1].stdout
