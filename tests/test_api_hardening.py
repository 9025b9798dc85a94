"""Hostile and clumsy request bodies (issue 9): a 4xx naming the problem, never a 500."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.ingest.errors import json_dumps
from bot.ops.metrics import Metrics
from bot.store import Store
from tests.constants import API_TOKEN, AUTH
from tests.ingest_support import (
    ApiHarness,
    api_harness,
    live_api,
    status_of,
    unhandled_errors,
)
from tests.waiting import wait_for

JSON = {**AUTH, "Content-Type": "application/json"}
TEXT = {**AUTH, "Content-Type": "text/plain"}
TITLE = "انقطاع الكهرباء في العاصمة"
BODY = "انقطعت الكهرباء عن أحياء واسعة من العاصمة مساء اليوم."
LONE = "\ud800"  # a lone surrogate: valid in JSON's \u escapes, not Unicode text


@pytest.fixture
async def api(store: Store) -> AsyncIterator[ApiHarness]:
    async with api_harness(store) as harness:
        yield harness


async def _refused(api: ApiHarness, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """POST ``data``; assert a JSON 400 that stored nothing and hit no catch-all; the body."""
    resp = await api.client.post("/api/articles", data=data, headers=headers)
    assert resp.status == 400, await resp.text()
    assert resp.content_type == "application/json"
    body: dict[str, Any] = json.loads(await resp.read())
    assert await api.store.articles.count() == 0
    assert unhandled_errors(api.metrics) == 0
    return body


SURROGATES: list[tuple[str, dict[str, Any]]] = [
    ("title", {"title": TITLE + LONE, "body": BODY}),
    ("body", {"title": TITLE, "body": BODY + LONE}),
    ("tags.1", {"title": TITLE, "body": BODY, "tags": ["كهرباء", LONE]}),
    ("source", {"title": TITLE, "body": BODY, "source": LONE + "وكالة"}),
    ("url", {"title": TITLE, "body": BODY, "url": "https://news.example/" + LONE}),
    ("id", {"title": TITLE, "body": BODY, "id": "a" + LONE}),
    ("published_at", {"title": TITLE, "body": BODY, "published_at": LONE}),
    ("sections.0.heading", {"title": TITLE, "sections": [{"heading": LONE, "paragraphs": [BODY]}]}),
    ("sections.0.paragraphs.1",
     {"title": TITLE, "sections": [{"paragraphs": [BODY, "سطر " + LONE]}]}),
]  # fmt: skip


@pytest.mark.parametrize(("field", "data"), SURROGATES, ids=[case[0] for case in SURROGATES])
async def test_a_lone_surrogate_in_any_json_field_is_a_400_naming_the_field(
    api: ApiHarness, field: str, data: dict[str, Any]
) -> None:
    body = await _refused(api, json.dumps(data).encode(), JSON)
    assert body["code"] == "invalid_article"
    assert f"'{field}'" in body["error"] and "surrogate" in body["error"]
    # The newsroom's editors read the reason in Arabic too.
    assert any("\u0621" <= ch <= "\u064a" for ch in body["arabic"])


async def test_a_lone_surrogate_in_a_field_name_is_refused_with_a_readable_answer(
    api: ApiHarness,
) -> None:
    data = json.dumps({"title": TITLE, "body": BODY, "x" + LONE: 1}).encode()
    body = await _refused(api, data, JSON)
    assert body["code"] == "invalid_article" and "surrogate" in body["error"]


def test_an_answer_echoing_a_lone_surrogate_is_still_utf8_json() -> None:
    text = json_dumps({"error": "field 'x\ud800' is unknown", "arabic": "الحقل"})
    assert json.loads(text.encode("utf-8")) == {
        "error": "field 'x\ud800' is unknown",
        "arabic": "الحقل",
    }


def _get(path: str, *headers: bytes) -> bytes:
    lines = [f"GET {path} HTTP/1.1".encode(), b"Host: localhost", b"Connection: close", *headers]
    return b"\r\n".join([*lines, b"", b""])


@pytest.mark.parametrize("path", ["/api/articles", "/api/articles/abc", "/readyz"])
@pytest.mark.parametrize("value", [b"Bearer \xff", b"Bearer \xc3(", b"\xff\xfe", b"Bearer \x80abc"])
async def test_non_utf8_authorization_bytes_are_wrong_credentials_not_a_500(
    api: ApiHarness, caplog: pytest.LogCaptureFixture, path: str, value: bytes
) -> None:
    anonymous = await api.raw(_get(path))
    answer = await api.raw(_get(path, b"Authorization: " + value))
    # Treated as no credentials: a 401 on the API, /readyz without its details.
    assert status_of(answer) == status_of(anonymous) != 500
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    if path == "/readyz":
        assert "details" in body  # the hint shown instead of the details
    else:
        assert body["code"] == "unauthorized"
    assert unhandled_errors(api.metrics) == 0
    assert "Traceback" not in caplog.text and "Error handling request" not in caplog.text


async def test_a_client_that_disconnects_mid_body_is_no_server_error(
    redis_url: str, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    head = [
        b"POST /api/articles HTTP/1.1",
        b"Host: localhost",
        f"Authorization: Bearer {API_TOKEN}".encode(),
        b"Content-Type: text/plain",
        b"Content-Length: 5000",
        b"Expect: 100-continue",
    ]
    async with live_api(redis_url) as api:
        for _ in range(3):
            reader, writer = await asyncio.open_connection(api.host, api.port)
            writer.write(b"\r\n".join([*head, b"", b""]))
            # "100 Continue": the server is handling the request and waits for its body.
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100")
            writer.write("عنوان\n".encode())
            await writer.drain()
            writer.close()  # gone with 4990 bytes still to come
            await writer.wait_closed()
        # Each disconnect is noticed (and counted as a request); the server carries on.
        await wait_for(lambda: _requests(api.metrics, "POST") >= 3, within=10)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{api.url}/api/articles", headers=AUTH) as resp,
        ):
            assert resp.status == 200
        assert unhandled_errors(api.metrics) == 0
    assert "unhandled error" not in caplog.text and "Traceback" not in caplog.text
    assert "Error handling request" not in caplog.text


def _requests(metrics: Metrics, method: str) -> float:
    """API requests counted for one method (any route and status)."""
    total = 0.0
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == "newsbot_api_requests_total" and sample.labels["method"] == method:
                total += sample.value
    return total


@pytest.mark.parametrize(
    "far", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59", "2999-01-01T00:00:00-05:00"]
)
async def test_a_future_date_is_clamped_to_now_and_does_not_pin_the_article(
    api: ApiHarness, far: str
) -> None:
    before = datetime.now(UTC)
    future = {"title": TITLE, "body": BODY, "published_at": far}
    resp = await api.client.post("/api/articles", json=future, headers=JSON)
    after = datetime.now(UTC)
    assert resp.status == 201
    # The answer says what was stored: the time of posting, as the feeds clamp future dates.
    answered = datetime.fromisoformat((await resp.json())["published_at"])
    assert before <= answered <= after
    article_id = (await resp.json())["id"]
    stored = await (await api.client.get(f"/api/articles/{article_id}", headers=AUTH)).json()
    assert datetime.fromisoformat(stored["article"]["published_at"]) == answered
    # News posted afterwards comes first in "latest", as it should.
    later = {"title": "افتتاح جسر جديد", "body": "افتتح جسر جديد فوق النهر صباح اليوم."}
    assert (await api.client.post("/api/articles", json=later, headers=JSON)).status == 201
    listed = await (await api.client.get("/api/articles", headers=AUTH)).json()
    assert [a["title"] for a in listed["articles"]] == [later["title"], TITLE]


async def test_a_past_date_is_kept(api: ApiHarness) -> None:
    past = {"title": TITLE, "body": BODY, "published_at": "2024-05-01T10:00:00+03:00"}
    resp = await api.client.post("/api/articles", json=past, headers=JSON)
    assert resp.status == 201
    assert datetime.fromisoformat((await resp.json())["published_at"]) == datetime(
        2024, 5, 1, 7, 0, tzinfo=UTC
    )


async def test_blank_paragraphs_in_sections_are_dropped_as_the_document_says(
    api: ApiHarness,
) -> None:
    sections = [{"heading": None, "paragraphs": ["", BODY, "  \n ", "سطر ثان"]}]
    resp = await api.client.post(
        "/api/articles", json={"title": TITLE, "sections": sections}, headers=JSON
    )
    assert resp.status == 201, await resp.text()
    article_id = (await resp.json())["id"]
    got = await api.client.get(f"/api/articles/{article_id}", headers=AUTH)
    stored = (await got.json())["article"]["sections"]
    assert stored == [{"heading": None, "paragraphs": [BODY, "سطر ثان"]}]
    document = (await (await api.client.get("/api/openapi.json")).json())["components"]
    paragraph = document["schemas"]["Section"]["properties"]["paragraphs"]
    assert "blank ones are dropped" in paragraph["description"]
    assert "minLength" not in paragraph["items"]  # the contract test would refuse the 201


@pytest.mark.parametrize("value", ["yes", "true", "no", 1, 0, "1", [], {}])
async def test_breaking_must_be_a_json_boolean(api: ApiHarness, value: object) -> None:
    data = json.dumps({"title": TITLE, "body": BODY, "breaking": value}).encode()
    body = await _refused(api, data, JSON)
    assert body["code"] == "invalid_article" and "'breaking'" in body["error"]
    assert await api.alerts() == 0


@pytest.mark.parametrize("value", [True, False, None])
async def test_breaking_true_false_or_null_is_accepted(api: ApiHarness, value: object) -> None:
    data = {"title": TITLE, "body": BODY, "breaking": value}
    resp = await api.client.post("/api/articles", json=data, headers=JSON)
    assert resp.status == 201
    assert (await resp.json())["breaking"] is bool(value)


@pytest.mark.parametrize(
    "value", [0, 1714557600, 1714557600000, 1.5e9, "0", "1714557600", " 17e8 "]
)
async def test_published_at_must_be_an_iso_8601_string_not_a_number(
    api: ApiHarness, value: object
) -> None:
    # pydantic reads a number (or a numeric string) as a Unix time, guessing seconds or
    # milliseconds: 0 was stored as 1970-01-01, the bottom of every list, without a word.
    data = json.dumps({"title": TITLE, "body": BODY, "published_at": value}).encode()
    body = await _refused(api, data, JSON)
    assert body["code"] == "invalid_article" and "'published_at'" in body["error"]
    assert "ISO 8601" in body["error"]
    assert await api.alerts() == 0


async def test_a_correction_with_a_numeric_date_is_refused_and_changes_nothing(
    api: ApiHarness,
) -> None:
    posted = {"title": TITLE, "body": BODY, "published_at": "2024-05-01T10:00:00Z"}
    resp = await api.client.post("/api/articles", json=posted, headers=JSON)
    article_id = (await resp.json())["id"]
    corrected = {"title": "تصحيح: " + TITLE, "body": BODY, "published_at": 0}
    resp = await api.client.put(f"/api/articles/{article_id}", json=corrected, headers=JSON)
    assert resp.status == 400 and (await resp.json())["code"] == "invalid_article"
    stored = await (await api.client.get(f"/api/articles/{article_id}", headers=AUTH)).json()
    assert stored["version"] == 1 and stored["article"]["title"] == TITLE


ARTICLE_TEXT = f"{TITLE}\n{BODY}\n"


@pytest.mark.parametrize(
    "data",
    [
        ARTICLE_TEXT.encode("utf-16"),  # with a byte order mark
        ARTICLE_TEXT.encode("utf-16-le"),
        ARTICLE_TEXT.encode("utf-16-be"),
        json.dumps({"title": TITLE, "body": BODY}).encode("utf-16"),
    ],
    ids=["utf-16", "utf-16-le", "utf-16-be", "json-utf-16"],
)
@pytest.mark.parametrize("headers", [TEXT, JSON], ids=["text", "json"])
async def test_utf16_is_refused_as_not_utf8(
    api: ApiHarness, data: bytes, headers: dict[str, str]
) -> None:
    body = await _refused(api, data, headers)
    assert body["code"] == "binary"
    assert "not UTF-8" in body["error"] and "UTF-16" in body["error"]
    assert "NUL" not in body["error"]


async def test_api_query_strings_are_not_written_to_the_access_log(
    redis_url: str, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    secret = "tok-0123456789-must-not-be-logged"
    async with live_api(redis_url) as api, aiohttp.ClientSession() as http:
        url = f"{api.url}/api/articles?access_token={secret}&limit=5"
        async with http.get(url, headers=AUTH) as resp:
            assert resp.status == 400  # not a parameter of the route (the token goes in a header)
            assert secret not in await resp.text()
        async with http.get(f"{api.url}/api/articles/{secret}?x={secret}", headers=AUTH):
            pass
        async with http.get(f"{api.url}/healthz?probe=1") as resp:
            assert resp.status == 200
        await wait_for(lambda: "/healthz?probe=1" in caplog.text)
    assert secret not in caplog.text.replace(f"/api/articles/{secret}?", "")
    assert "/api/articles?access_token=…&limit=…" in caplog.text


MALFORMED = [
    b"GET /api/articles?access_token=tok\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/articles HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 10_000 + b"\r\n\r\n",
    b"GET /api/articles HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"POST /api/articles HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST /api/articles HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
]


@pytest.mark.parametrize("request_bytes", MALFORMED)
async def test_a_malformed_request_is_a_400_logged_in_one_line_without_a_traceback(
    redis_url: str, redis: Redis, caplog: pytest.LogCaptureFixture, request_bytes: bytes
) -> None:
    async with live_api(redis_url) as api:
        answer = await api.raw(request_bytes)
        assert 400 <= status_of(answer) < 500
        assert unhandled_errors(api.metrics) == 0
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in records] == ["WARNING"]
    assert records[0].exc_info is None and "Traceback" not in caplog.text
    assert b"tok" not in caplog.text.encode()  # the request line (a query token) is not logged


async def test_a_query_parameter_the_route_does_not_take_is_refused_and_nothing_stored(
    api: ApiHarness,
) -> None:
    # «?breakng=true» ignored would publish a flash as routine news (or refuse it for no body).
    resp = await api.client.post("/api/articles?breakng=true", data=TITLE.encode(), headers=TEXT)
    assert resp.status == 400
    body = await resp.json()
    assert body["code"] == "unknown_parameter"
    assert "'breakng'" in body["error"] and "breaking" in body["error"]
    assert await api.store.articles.count() == 0
    # The parameters the document names still work, on every route that takes them.
    resp = await api.client.post("/api/articles?breaking=true", data=TITLE.encode(), headers=TEXT)
    assert resp.status == 201
    resp = await api.client.get("/api/articles?limit=5&offset=0", headers=AUTH)
    assert resp.status == 200
    resp = await api.client.get(f"/api/articles/{(await resp.json())['articles'][0]['id']}?x=1",
                                headers=AUTH)  # fmt: skip
    assert resp.status == 400
    assert unhandled_errors(api.metrics) == 0
