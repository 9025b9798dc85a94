"""The newsroom API of living stories: PUT a new version, POST an update, POST a retraction."""

from __future__ import annotations

from typing import Any

from bot.store import Store
from tests.constants import AUTH
from tests.ingest_support import api_harness

SEED = (
    "عاجل | انفجار في المرفأ\nقتل خمسة أشخاص في انفجار وقع صباح اليوم.\nوتواصل فرق الإنقاذ عملها."
)
FIXED = (
    "عاجل | انفجار في المرفأ\nأصيب خمسة أشخاص في انفجار وقع صباح اليوم.\nوتواصل فرق الإنقاذ عملها."
)
TEXT = {**AUTH, "Content-Type": "text/plain; charset=utf-8"}
JSON = {**AUTH, "Content-Type": "application/json"}


async def _post(client: Any, text: str = SEED) -> str:
    resp = await client.post("/api/articles", data=text.encode(), headers=TEXT)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["id"])


async def test_put_stores_a_new_version_and_keeps_the_old_one(store: Store) -> None:
    async with api_harness(store) as api:
        article_id = await _post(api.client)
        resp = await api.client.put(
            f"/api/articles/{article_id}", data=FIXED.encode(), headers=TEXT
        )
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert body == {"id": article_id, "version": 2, "changed": ["lead"], "edits_queued": 0}
        got = await (await api.client.get(f"/api/articles/{article_id}", headers=AUTH)).json()
        assert got["version"] == 2 and got["retracted"] is False and got["updates"] == []
        assert got["article"]["sections"][0]["paragraphs"][0].startswith("أصيب")
        [past] = got["versions"]
        assert past["version"] == 1 and past["lead"].startswith("قتل")
        assert past["changed"] == ["lead"] and past["replaced_by"] == "api"
        assert "أصيب" in got["messages"][0]["text"]
        # The same version again: nothing changes, nothing is queued.
        again = await api.client.put(
            f"/api/articles/{article_id}", data=FIXED.encode(), headers=TEXT
        )
        assert (await again.json())["changed"] == [] and (await again.json())["version"] == 2
        # The first version posted again (a CMS retry) finds the article: no second alert.
        repeat = await api.client.post("/api/articles", data=SEED.encode(), headers=TEXT)
        assert repeat.status == 200 and (await repeat.json())["id"] == article_id
        assert await api.alerts() == 1


async def test_put_refuses_bad_input_and_changes_nothing(store: Store) -> None:
    async with api_harness(store) as api:
        article_id = await _post(api.client)
        url = f"/api/articles/{article_id}"
        cases = [
            (url, b"", TEXT, 400, "empty"),
            (url, b"{not json", JSON, 400, "invalid_json"),
            (url, b'{"title": "x", "id": "other"}', JSON, 400, "id_mismatch"),
            (url, b'{"title": "x", "updates": []}', JSON, 400, "invalid_article"),
            ("/api/articles/nope", FIXED.encode(), TEXT, 404, "not_found"),
            (url, FIXED.encode(), {**AUTH, "Content-Type": "image/png"}, 415, None),
        ]
        for path, data, headers, status, code in cases:
            resp = await api.client.put(path, data=data, headers=headers)
            assert resp.status == status, (path, data, await resp.text())
            if code:
                assert (await resp.json())["code"] == code
        got = await (await api.client.get(url, headers=AUTH)).json()
        assert got["version"] == 1 and got["versions"] == []


async def test_updates_are_appended_once_and_shown(store: Store) -> None:
    async with api_harness(store) as api:
        article_id = await _post(api.client)
        url = f"/api/articles/{article_id}/updates"
        resp = await api.client.post(
            url, json={"text": "ارتفع عدد المصابين إلى سبعة."}, headers=AUTH
        )
        assert resp.status == 201, await resp.text()
        body = await resp.json()
        assert body["id"] == article_id and body["update"]["number"] == 1
        assert body["queued"] == 0 and body["created"] is True
        again = await api.client.post(
            url, data="ارتفع عدد المصابين إلى سبعة.".encode(), headers=TEXT
        )
        assert again.status == 200 and (await again.json())["update"]["number"] == 1
        second = await api.client.post(url, json={"text": "فتح تحقيق في الحادث."}, headers=AUTH)
        assert (await second.json())["update"]["number"] == 2
        for data, headers, code in [
            (b"", TEXT, "empty"),
            (b'{"text": ""}', JSON, "empty"),
            (b'{"text": 5}', JSON, "invalid_field"),
            (b'{"txt": "x"}', JSON, "invalid_field"),
            (b"[1]", JSON, "invalid_json"),
        ]:
            bad = await api.client.post(url, data=data, headers=headers)
            assert bad.status == 400 and (await bad.json())["code"] == code
        missing = await api.client.post(
            "/api/articles/nope/updates", json={"text": "x"}, headers=AUTH
        )
        assert missing.status == 404
        got = await (await api.client.get(f"/api/articles/{article_id}", headers=AUTH)).json()
        assert [u["text"] for u in got["updates"]] == [
            "ارتفع عدد المصابين إلى سبعة.",
            "فتح تحقيق في الحادث.",
        ]
        assert "فتح تحقيق في الحادث." in got["messages"][-1]["text"]


async def test_a_retraction_withdraws_the_article_once(store: Store) -> None:
    async with api_harness(store) as api:
        article_id = await _post(api.client)
        url = f"/api/articles/{article_id}/retract"
        resp = await api.client.post(url, json={"reason": "الخبر غير دقيق"}, headers=AUTH)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert body["retracted"] is True and body["reason"] == "الخبر غير دقيق"
        assert body["created"] is True
        again = await api.client.post(url, headers=AUTH)  # no body: idempotent
        assert again.status == 200 and (await again.json())["created"] is False
        got = await (await api.client.get(f"/api/articles/{article_id}", headers=AUTH)).json()
        assert got["retracted"] is True and got["retraction"]["reason"] == "الخبر غير دقيق"
        [notice] = got["messages"]
        assert "سُحب هذا الخبر" in notice["text"] and "انفجار" not in notice["text"]
        listed = await (await api.client.get("/api/articles", headers=AUTH)).json()
        assert article_id not in [a["id"] for a in listed["articles"]]
        refused = await api.client.put(
            f"/api/articles/{article_id}", data=FIXED.encode(), headers=TEXT
        )
        assert refused.status == 409 and (await refused.json())["code"] == "retracted"
        update = await api.client.post(
            f"/api/articles/{article_id}/updates", json={"text": "x"}, headers=AUTH
        )
        assert update.status == 409
        assert (await api.client.post("/api/articles/nope/retract", headers=AUTH)).status == 404
        bad = await api.client.post(url, data=b'{"reason": 3}', headers=JSON)
        assert bad.status == 400


async def test_the_alert_shows_its_corrections_and_updates(store: Store) -> None:
    async with api_harness(store) as api:
        article_id = await _post(api.client)
        await api.client.put(f"/api/articles/{article_id}", data=FIXED.encode(), headers=TEXT)
        await api.client.post(
            f"/api/articles/{article_id}/updates", json={"text": "تحديث أول"}, headers=AUTH
        )
        alert = await (await api.client.get(f"/api/alerts/{article_id}", headers=AUTH)).json()
        assert alert["revision"] == 1
        kinds = [(a["kind"], a["alert_id"], a["state"]) for a in alert["actions"]]
        assert kinds == [
            ("edit", f"{article_id}.r1", "queued"),
            ("reply", f"{article_id}.u1", "queued"),
        ]
