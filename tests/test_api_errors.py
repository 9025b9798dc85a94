"""Bad requests to the newsroom API: the right 4xx, a JSON error naming the problem, no trace."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.ops.metrics import Metrics
from bot.store import Store
from tests.constants import AUTH
from tests.delivery_support import DKEYS
from tests.ingest_support import ApiHarness, api_harness, make_settings, metric_value

TEXT = {**AUTH, "Content-Type": "text/plain; charset=utf-8"}
JSON = {**AUTH, "Content-Type": "application/json"}
MAX_BYTES = 4096


@pytest.fixture
async def api(store: Store) -> AsyncIterator[ApiHarness]:
    async with api_harness(store, make_settings(api_max_bytes=MAX_BYTES)) as harness:
        yield harness


def unhandled(metrics: Metrics) -> float:
    """How many requests hit the catch-all 500 handler."""
    return metrics.registry.get_sample_value("newsbot_api_unhandled_errors_total") or 0.0


BAD_POSTS: list[tuple[str, dict[str, str], bytes, str, int, str]] = [
    ("malformed JSON", JSON, b'{"title": "x", ', "", 400, "invalid_json"),
    ("JSON array", JSON, b'["title"]', "", 400, "invalid_json"),
    ("JSON without title", JSON, json.dumps({"body": "نص بلا عنوان"}).encode(), "", 400,
     "invalid_article"),
    ("JSON with unknown field", JSON,
     json.dumps({"title": "عنوان", "body": "نص", "author": "س"}).encode(), "", 400,
     "invalid_article"),
    ("JSON with wrong type", JSON, json.dumps({"title": "عنوان", "body": 5}).encode(), "", 400,
     "invalid_article"),
    ("JSON with a bad url", JSON,
     json.dumps({"title": "عنوان", "body": "نص", "url": "javascript:alert(1)"}).encode(), "",
     400, "invalid_article"),
    ("headline without body", TEXT, "عنوان بلا نص".encode(), "", 400, "no_body"),
    ("JSON headline without body", JSON, json.dumps({"title": "عنوان"}).encode(), "", 400,
     "no_body"),
    ("empty body", TEXT, b"", "", 400, "empty"),
    ("whitespace body", TEXT, b" \n\t\n", "", 400, "empty"),
    ("invalid UTF-8", TEXT, "عنوان\n\nنص".encode() + b"\xff\xfe", "", 400, "binary"),
    ("binary data", TEXT, bytes(range(256)) * 4, "", 400, "binary"),
    ("body over the limit", TEXT, ("عنوان\n\n" + "ن" * MAX_BYTES).encode(), "", 413,
     "too_large"),
    ("XML content type", {**AUTH, "Content-Type": "application/xml"}, b"<a/>", "", 415,
     "unsupported_media_type"),
    ("form content type", {**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
     b"title=x", "", 415, "unsupported_media_type"),
    ("non-UTF-8 charset", {**AUTH, "Content-Type": "text/plain; charset=windows-1256"},
     "عنوان\n\nنص".encode("cp1256"), "", 415, "unsupported_charset"),
    ("breaking not a boolean", TEXT, "عنوان\n\nنص".encode(), "?breaking=maybe", 400,
     "invalid_breaking"),
    ("breaking twice", TEXT, "عنوان\n\nنص".encode(), "?breaking=true&breaking=false", 400,
     "invalid_breaking"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "data", "query", "status", "code"),
    [case[1:] for case in BAD_POSTS],
    ids=[case[0] for case in BAD_POSTS],
)
async def test_bad_post_gets_its_status_and_a_json_error_and_stores_nothing(
    api: ApiHarness,
    headers: dict[str, str],
    data: bytes,
    query: str,
    status: int,
    code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    resp = await api.client.post(f"/api/articles{query}", data=data, headers=headers)
    assert resp.status == status
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["code"] == code and body["error"]
    assert await api.store.articles.count() == 0
    assert await api.alerts() == 0
    assert unhandled(api.metrics) == 0
    assert "unhandled error" not in caplog.text


async def test_missing_content_type_is_415(api: ApiHarness) -> None:
    # aiohttp's client adds a Content-Type for bytes; send the request without one at all.
    resp = await api.client.post(
        "/api/articles",
        data="عنوان\n\nنص".encode(),
        headers=AUTH,
        skip_auto_headers=["Content-Type"],
    )
    assert resp.status == 415
    assert (await resp.json())["code"] == "unsupported_media_type"
    assert await api.store.articles.count() == 0


async def test_chunked_body_over_the_limit_is_413_while_reading(api: ApiHarness) -> None:
    sent = 0

    async def chunks() -> Any:
        nonlocal sent
        for _ in range(64):  # 64 KiB in 1 KiB chunks, no Content-Length
            sent += 1024
            yield "ن".encode() * 512

    resp = await api.client.post("/api/articles", data=chunks(), headers=TEXT)
    assert resp.status == 413
    body = await resp.json()
    assert body["code"] == "too_large" and str(MAX_BYTES) in body["error"]
    assert await api.store.articles.count() == 0


async def test_declared_length_over_the_limit_is_refused_before_reading(api: ApiHarness) -> None:
    resp = await api.client.post("/api/articles", data=b"x" * (MAX_BYTES + 1), headers=TEXT)
    assert resp.status == 413
    assert f"{MAX_BYTES + 1} bytes" in (await resp.json())["error"]


async def test_body_exactly_at_the_limit_is_accepted(api: ApiHarness) -> None:
    head = "خبر بحجم الحد الأقصى\n\n".encode()
    body = head + "ن".encode() * ((MAX_BYTES - len(head)) // 2)
    assert len(body) <= MAX_BYTES
    resp = await api.client.post("/api/articles", data=body, headers=TEXT)
    assert resp.status == 201


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain; charset=UTF-8", "text/plain;charset=utf8", "TEXT/PLAIN"],
)
async def test_utf8_or_no_charset_is_accepted(api: ApiHarness, content_type: str) -> None:
    resp = await api.client.post(
        "/api/articles",
        data="خبر عن الطقس\n\nأمطار غزيرة متوقعة غداً.".encode(),
        headers={**AUTH, "Content-Type": content_type},
    )
    assert resp.status in (200, 201)


async def test_unknown_route_is_404_json(api: ApiHarness) -> None:
    for path in ("/api/nothing", "/nothing", "/api/articles/abc/extra"):
        resp = await api.client.get(path, headers=AUTH)
        assert resp.status == 404, path
        assert (await resp.json())["code"] == "not_found"


async def test_wrong_method_is_405_json_with_allow(api: ApiHarness) -> None:
    resp = await api.client.put("/api/articles", data=b"{}", headers=JSON)
    assert resp.status == 405
    body = await resp.json()
    assert body["code"] == "method_not_allowed" and "PUT" in body["error"]
    assert "POST" in resp.headers["Allow"]
    resp = await api.client.post("/api/articles/abc", data=b"{}", headers=JSON)
    assert resp.status == 405
    assert await api.store.articles.count() == 0


async def test_unexpected_exception_is_a_logged_500_without_traceback(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # A corrupted alert record (a hand edit, a bug of an older version): reading it fails.
    await store.redis.hset(DKEYS.alert("someid"), mapping={"published_at": "secret garbage"})
    async with api_harness(store) as api:
        with caplog.at_level(logging.ERROR, logger="bot.ingest.server"):
            resp = await api.client.get("/api/alerts/someid", headers=AUTH)
        assert resp.status == 500
        text = await resp.text()
        assert json.loads(text) == {"error": "internal server error", "code": "internal"}
        assert "secret" not in text and "Traceback" not in text
        assert "ValueError" in caplog.text and "secret garbage" in caplog.text  # the log has it
        assert unhandled(api.metrics) == 1
        metrics_text = await (await api.client.get("/metrics")).text()
        assert metric_value(metrics_text, "newsbot_api_unhandled_errors_total") == 1
        assert (
            metric_value(
                metrics_text,
                "newsbot_api_requests_total",
                {"method": "GET", "route": "/api/alerts/{id}", "status": "500"},
            )
            == 1
        )


def test_metrics_instances_are_independent() -> None:
    one, two = Metrics(), Metrics()
    one.api_unhandled_errors.inc()
    assert (unhandled(one), unhandled(two)) == (1, 0)
