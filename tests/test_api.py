"""The newsroom HTTP API against a real Redis: ingestion, idempotency, reads, deletes, alerts."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.runtime import Parts, open_runtime
from bot.store import Store
from config import ConfigError
from tests.constants import AUTH
from tests.ingest_support import ApiHarness, api_harness, make_settings

TEXT = {**AUTH, "Content-Type": "text/plain; charset=utf-8"}
JSON = {**AUTH, "Content-Type": "application/json"}

ROUTINE_TEXT = (
    "افتتاح مكتبة عامة جديدة في وسط المدينة\n\n"
    "افتتحت البلدية مكتبة عامة تضم آلاف الكتب وقاعات للمطالعة مفتوحة للجميع.\n"
)


@pytest.fixture
async def api(store: Store) -> AsyncIterator[ApiHarness]:
    async with api_harness(store) as harness:
        yield harness


async def test_posting_the_seed_article_stores_it_and_queues_one_breaking_alert(
    api: ApiHarness, seed_text: str
) -> None:
    resp = await api.client.post("/api/articles", data=seed_text.encode(), headers=TEXT)
    assert resp.status == 201
    body = await resp.json()
    assert body["breaking"] is True and body["created"] is True
    assert body["alert"] == body["id"]
    assert resp.headers["Location"] == f"/api/articles/{body['id']}"
    stored = await api.store.articles.get(body["id"])
    assert stored is not None and "بايدن" in stored.title and "عاجل" not in stored.title
    assert await api.alert_jobs("breaking") == 1


async def test_a_cms_retrying_five_times_gets_one_article_and_one_alert(
    api: ApiHarness, seed_text: str
) -> None:
    statuses, ids = [], set()
    for _ in range(5):
        resp = await api.client.post("/api/articles", data=seed_text.encode(), headers=TEXT)
        statuses.append(resp.status)
        ids.add((await resp.json())["id"])
    assert statuses == [201, 200, 200, 200, 200]
    assert len(ids) == 1
    assert await api.store.articles.count() == 1
    assert await api.alerts() == 1 and await api.alert_jobs("breaking") == 1


async def test_five_concurrent_posts_of_the_same_article_create_it_once(
    api: ApiHarness, seed_text: str
) -> None:
    async def post() -> tuple[int, str, str | None]:
        resp = await api.client.post("/api/articles", data=seed_text.encode(), headers=TEXT)
        body = await resp.json()
        return resp.status, body["id"], body["alert"]

    results = await asyncio.gather(*(post() for _ in range(5)))
    assert sorted(status for status, _, _ in results) == [200, 200, 200, 200, 201]
    assert len({article_id for _, article_id, _ in results}) == 1
    assert {alert for _, _, alert in results} == {results[0][1]}
    assert await api.store.articles.count() == 1
    assert await api.alert_jobs("breaking") == 1


async def test_same_url_with_edited_text_is_a_repeat_not_a_second_article(api: ApiHarness) -> None:
    first = {
        "title": "زلزال يضرب المنطقة",
        "body": "ضرب زلزال بقوة خمس درجات.",
        "url": "https://n.example/q",
    }
    second = {**first, "body": "ضرب زلزال بقوة خمس درجات ونصف."}
    r1 = await api.client.post("/api/articles", data=json.dumps(first), headers=JSON)
    r2 = await api.client.post("/api/articles", data=json.dumps(second), headers=JSON)
    assert (r1.status, r2.status) == (201, 200)
    assert (await r1.json())["id"] == (await r2.json())["id"]
    assert await api.store.articles.count() == 1


async def test_json_article_with_sections_round_trips_with_its_messages(api: ApiHarness) -> None:
    article = {
        "title": "الحكومة تقر خطة لدعم الطاقة الشمسية",
        "sections": [
            {"heading": None, "paragraphs": ["أقر مجلس الوزراء خطة لدعم الطاقة الشمسية."]},
            {"heading": "التمويل", "paragraphs": ["تمول الخطة من صندوق التنمية."]},
        ],
        "url": "https://n.example/solar",
        "source": "وكالة المثال",
        "tags": ["طاقة"],
    }
    resp = await api.client.post("/api/articles", data=json.dumps(article), headers=JSON)
    assert resp.status == 201
    created = await resp.json()
    assert created["breaking"] is False
    got = await api.client.get(f"/api/articles/{created['id']}", headers=AUTH)
    assert got.status == 200
    body = await got.json()
    assert body["article"]["title"] == article["title"]
    assert body["article"]["sections"][1]["heading"] == "التمويل"
    assert body["article"]["url"] == article["url"] and body["article"]["tags"] == ["طاقة"]
    assert body["messages"] and all("text" in m for m in body["messages"])
    assert "الطاقة الشمسية" in body["messages"][0]["text"]
    # Not breaking: the push goes to the routine queue ("all news" readers), not the breaking one.
    assert await api.alert_jobs("breaking") == 0 and await api.alert_jobs("routine") == 1


async def test_breaking_query_overrides_detection(api: ApiHarness, seed_text: str) -> None:
    resp = await api.client.post(
        "/api/articles?breaking=false", data=seed_text.encode(), headers=TEXT
    )
    assert resp.status == 201 and (await resp.json())["breaking"] is False
    assert await api.alert_jobs("breaking") == 0
    resp = await api.client.post(
        "/api/articles?breaking=TRUE", data=ROUTINE_TEXT.encode(), headers=TEXT
    )
    assert resp.status == 201 and (await resp.json())["breaking"] is True
    assert await api.alert_jobs("breaking") == 1


async def test_breaking_headline_only_flash_is_accepted(api: ApiHarness) -> None:
    resp = await api.client.post(
        "/api/articles", data="عاجل | انفجار قرب المطار".encode(), headers=TEXT
    )
    assert resp.status == 201
    body = await resp.json()
    assert body["breaking"] is True and body["alert"] == body["id"]


async def test_list_returns_newest_first_with_limit(api: ApiHarness) -> None:
    ids = []
    for n in range(3):
        payload = {
            "title": f"خبر رقم {n}",
            "body": f"نص الخبر رقم {n}.",
            "published_at": f"2024-05-0{n + 1}T10:00:00Z",
        }
        resp = await api.client.post("/api/articles", data=json.dumps(payload), headers=JSON)
        ids.append((await resp.json())["id"])
    resp = await api.client.get("/api/articles?limit=2", headers=AUTH)
    assert resp.status == 200
    body = await resp.json()
    assert [a["id"] for a in body["articles"]] == [ids[2], ids[1]]
    assert body["count"] == 2 and body["total"] == 3
    everything = await (await api.client.get("/api/articles", headers=AUTH)).json()
    assert [a["id"] for a in everything["articles"]] == ids[::-1]
    offset = await (await api.client.get("/api/articles?limit=2&offset=2", headers=AUTH)).json()
    assert [a["id"] for a in offset["articles"]] == [ids[0]]


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "2.5", "", "٥"])
async def test_bad_limit_is_a_400_naming_the_parameter(api: ApiHarness, limit: str) -> None:
    resp = await api.client.get(f"/api/articles?limit={limit}", headers=AUTH)
    assert resp.status == 400
    body = await resp.json()
    assert body["code"] == "invalid_limit" and "limit" in body["error"]


async def test_delete_removes_the_article_and_unknown_ids_are_404(
    api: ApiHarness, seed_text: str
) -> None:
    created = await (
        await api.client.post("/api/articles", data=seed_text.encode(), headers=TEXT)
    ).json()
    resp = await api.client.delete(f"/api/articles/{created['id']}", headers=AUTH)
    assert resp.status == 204 and await resp.read() == b""
    assert await api.store.articles.count() == 0
    for method in ("get", "delete"):
        resp = await getattr(api.client, method)(f"/api/articles/{created['id']}", headers=AUTH)
        assert resp.status == 404
        assert (await resp.json())["code"] == "not_found"
    resp = await api.client.get("/api/articles/not*an*id", headers=AUTH)
    assert resp.status == 404 and (await resp.json())["code"] == "not_found"


async def test_alert_progress_is_readable_and_unknown_alerts_are_404(
    api: ApiHarness, seed_text: str
) -> None:
    created = await (
        await api.client.post("/api/articles", data=seed_text.encode(), headers=TEXT)
    ).json()
    resp = await api.client.get(f"/api/alerts/{created['alert']}", headers=AUTH)
    assert resp.status == 200
    status = await resp.json()
    assert status["alert_id"] == created["alert"] and status["article_id"] == created["id"]
    assert status["priority"] == "breaking" and status["state"] == "queued"
    assert status["sent"] == 0 and "بايدن" in status["title"]
    resp = await api.client.get("/api/alerts/nosuchalert", headers=AUTH)
    assert resp.status == 404 and (await resp.json())["code"] == "not_found"


async def test_explicit_id_clashing_with_another_article_is_409(api: ApiHarness) -> None:
    first = {"id": "fixed-id", "title": "خبر أول", "body": "النص الأول."}
    clash = {"id": "fixed-id", "title": "خبر مختلف تماما", "body": "نص آخر."}
    assert (
        await api.client.post("/api/articles", data=json.dumps(first), headers=JSON)
    ).status == 201
    resp = await api.client.post("/api/articles", data=json.dumps(clash), headers=JSON)
    assert resp.status == 409 and (await resp.json())["code"] == "id_conflict"
    assert await api.store.articles.count() == 1


API_ONLY = Parts(bot=False, workers=0, api=True, feeds=False)


async def test_serve_api_listens_on_a_real_port(
    redis_url: str, store: Store, seed_text: str
) -> None:
    settings = make_settings(redis_url=redis_url, api_host="127.0.0.1", api_port=0)
    async with open_runtime(settings, API_ONLY) as runtime, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{runtime.api_port}"
        async with http.post(f"{base}/api/articles", data=seed_text.encode(), headers=TEXT) as r:
            assert r.status == 201
        async with http.get(f"{base}/readyz") as r:
            # Ready but for the delivery workers: none runs here (they are other processes).
            assert r.status == 503
            checks = (await r.json())["checks"]
            assert {name for name, c in checks.items() if not c["ok"]} == {"workers"}
    assert await store.articles.count() == 1
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"{base}/healthz")


async def test_a_busy_api_port_is_a_config_error_naming_the_variables(redis_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        settings = make_settings(redis_url=redis_url, api_host="127.0.0.1", api_port=port)
        with pytest.raises(ConfigError) as caught:
            async with asyncio.timeout(5), open_runtime(settings, API_ONLY):
                pass
    # What `newsbot run` prints: the variables to fix and the system's reason, no traceback.
    assert str(caught.value) == (
        f"NEWSBOT_API_HOST/NEWSBOT_API_PORT: cannot listen on 127.0.0.1:{port} "
        "(Address already in use)"
    )
