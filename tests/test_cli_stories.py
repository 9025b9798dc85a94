"""``newsbot correct``, ``update``, ``retract`` and ``status``, run as a newsroom runs them."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from tests.test_cli import assert_one_line_error, newsbot

SEED = "عاجل | انفجار في المرفأ\nقتل خمسة أشخاص في انفجار وقع صباح اليوم.\n"
FIXED = "عاجل | انفجار في المرفأ\nأصيب خمسة أشخاص في انفجار وقع صباح اليوم.\n"


async def test_correct_update_retract_and_status(redis_url: str, redis: Redis) -> None:
    env = {"REDIS_URL": redis_url, "NEWSBOT_REDIS_NAMESPACE": "cli-stories"}
    ingested = newsbot("ingest", "-", env=env, stdin=SEED.encode())
    assert ingested.returncode == 0, ingested.stderr
    article_id = ingested.stdout.strip()

    corrected = newsbot("correct", article_id, "-", "--json", env=env, stdin=FIXED.encode())
    assert corrected.returncode == 0, corrected.stderr
    assert json.loads(corrected.stdout) == {
        "id": article_id,
        "version": 2,
        "changed": ["lead"],
        "edits_queued": 0,
    }
    same = newsbot("correct", article_id, "-", env=env, stdin=FIXED.encode())
    assert same.returncode == 0 and "nothing changed" in same.stderr

    update = newsbot("update", article_id, "-", env=env, stdin="فتح تحقيق.".encode())
    assert update.returncode == 0 and "update 1 added" in update.stderr

    retract = newsbot("retract", article_id, "--reason", "خبر غير دقيق", "--json", env=env)
    assert retract.returncode == 0, retract.stderr
    assert json.loads(retract.stdout)["reason"] == "خبر غير دقيق"
    again = newsbot("retract", article_id, env=env)
    assert again.returncode == 0 and "already retracted" in again.stderr

    status = newsbot("status", article_id, env=env)
    assert status.returncode == 0, status.stderr
    assert "correction (revision 1)" in status.stdout
    assert "update 1" in status.stdout and "retraction" in status.stdout
    assert "text: retracted" in status.stdout

    latest = newsbot("latest", env=env)
    assert article_id not in latest.stdout  # withdrawn: no longer listed


async def test_story_commands_refuse_unknown_ids_and_bad_input(
    redis_url: str, redis: Redis
) -> None:
    env = {"REDIS_URL": redis_url, "NEWSBOT_REDIS_NAMESPACE": "cli-stories-bad"}
    assert_one_line_error(
        newsbot("correct", "nope", "-", env=env, stdin=FIXED.encode()), "no article", "nope"
    )
    assert_one_line_error(newsbot("retract", "nope", env=env), "no article")
    ingested = newsbot("ingest", "-", env=env, stdin=SEED.encode())
    article_id = ingested.stdout.strip()
    assert_one_line_error(newsbot("update", article_id, "-", env=env, stdin=b"  \n"), "no text")
    assert_one_line_error(newsbot("correct", article_id, "-", env=env, stdin=b""), "empty")
