"""Bearer authentication of the newsroom API, and the API disabled without a configured token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.ingest.auth import token_matches
from bot.ops.health import ReadinessProbe
from bot.store import Store
from config import ConfigError, load_settings
from config.settings import MIN_API_TOKEN_LENGTH
from tests.constants import API_TOKEN, AUTH
from tests.ingest_support import ApiHarness, api_harness, make_settings

ARTICLE = "خبر عن افتتاح مستشفى\n\nافتتح وزير الصحة مستشفى جديداً في الضاحية.".encode()
ROUTES = [
    ("post", "/api/articles"),
    ("get", "/api/articles"),
    ("get", "/api/articles/abcdefghij"),
    ("delete", "/api/articles/abcdefghij"),
    ("get", "/api/alerts/abcdefghij"),
    ("get", "/api/unknown"),
]


@pytest.fixture
async def api(store: Store) -> AsyncIterator[ApiHarness]:
    async with api_harness(store) as harness:
        yield harness


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong-token",
        f"Bearer {API_TOKEN}x",
        f"Bearer {API_TOKEN[:-1]}",
        f"Basic {API_TOKEN}",
        API_TOKEN,
        "Bearer",
        "Bearer ",
    ],
)
async def test_post_without_the_right_token_is_401_and_stores_nothing(
    api: ApiHarness, authorization: str | None
) -> None:
    headers = {"Content-Type": "text/plain"}
    if authorization is not None:
        headers["Authorization"] = authorization
    resp = await api.client.post("/api/articles", data=ARTICLE, headers=headers)
    assert resp.status == 401
    # RFC 6750: the challenge names the realm, and says the token was wrong only when one came.
    challenge = 'Bearer realm="newsbot"'
    if authorization:
        challenge += ', error="invalid_token"'
    assert resp.headers["WWW-Authenticate"] == challenge
    body = await resp.json()
    assert body["code"] == "unauthorized" and body["error"]
    assert await api.store.articles.count() == 0 and await api.alerts() == 0


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_api_route_needs_the_token(api: ApiHarness, method: str, path: str) -> None:
    resp = await getattr(api.client, method)(path, headers={"Authorization": "Bearer nope"})
    assert resp.status == 401
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


async def test_bearer_scheme_is_case_insensitive(api: ApiHarness) -> None:
    resp = await api.client.get("/api/articles", headers={"Authorization": f"bearer {API_TOKEN}"})
    assert resp.status == 200


async def test_health_and_metrics_need_no_token(api: ApiHarness) -> None:
    assert (await api.client.get("/healthz")).status == 200
    assert (await api.client.get("/metrics")).status == 200
    assert (await api.client.get("/readyz")).status in (200, 503)


async def test_without_a_configured_token_the_api_is_disabled_but_health_works(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.ingest.server"):
        async with api_harness(store, make_settings(api_token=None)) as api:
            assert "NEWSBOT_API_TOKEN is not set" in caplog.text
            assert "DISABLED" in caplog.text
            for method, path in ROUTES:
                resp = await getattr(api.client, method)(path, data=ARTICLE, headers=AUTH)
                assert resp.status == 503, (method, path)
                assert (await resp.json()) == {
                    "error": "NEWSBOT_API_TOKEN is not configured",
                    "code": "api_disabled",
                }
            assert await store.articles.count() == 0
            assert (await api.client.get("/healthz")).status == 200
            assert (await api.client.get("/metrics")).status == 200


async def test_empty_token_counts_as_not_configured(store: Store) -> None:
    async with api_harness(store, make_settings(api_token="")) as api:
        resp = await api.client.get("/api/articles", headers={"Authorization": "Bearer "})
        assert resp.status == 503


async def test_readyz_details_need_the_token_but_the_verdict_does_not(store: Store) -> None:
    # The workers check fails (no heartbeat): its verdict is public, its explanation is not.
    async with api_harness(store) as api:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_TOKEN}):
            resp = await api.client.get("/readyz", headers=headers)
            assert resp.status == 503
            body = await resp.json()
            assert body["status"] == "not_ready"
            assert body["checks"]["workers"] == {"ok": False, "alive": 0}
            assert "NEWSBOT_API_TOKEN" in body["details"]
        resp = await api.client.get("/readyz", headers=AUTH)
        assert resp.status == 503
        body = await resp.json()
        assert body["checks"]["workers"]["error"] == "no delivery worker has a fresh heartbeat"
        assert "details" not in body


async def test_readyz_without_a_configured_token_never_shows_details(store: Store) -> None:
    readiness = ReadinessProbe(store, require_telegram=False, delivery=None)
    async with api_harness(store, make_settings(api_token=None), readiness=readiness) as api:
        resp = await api.client.get("/readyz", headers={"Authorization": "Bearer "})
        assert resp.status == 200
        assert (await resp.json())["checks"]["telegram"] == {"ok": True}


@pytest.mark.parametrize("length", [1, 16, MIN_API_TOKEN_LENGTH - 1])
async def test_a_short_token_refuses_to_start_naming_the_variable(
    store: Store, length: int
) -> None:
    token = "Q" * length
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, NEWSBOT_API_TOKEN=token)
    message = str(caught.value)
    assert message.startswith("NEWSBOT_API_TOKEN: too short")
    assert f"({length} characters)" in message and "at least 32" in message
    assert token not in message  # the secret itself is never echoed


async def test_a_token_of_exactly_the_minimum_length_is_accepted(store: Store) -> None:
    token = "t" * MIN_API_TOKEN_LENGTH
    async with api_harness(store, make_settings(api_token=token)) as api:
        resp = await api.client.get("/api/articles", headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 200


def test_token_comparison() -> None:
    expected = b"abc"
    assert token_matches("Bearer abc", expected)
    assert token_matches("  BEARER   abc  ", expected)
    assert not token_matches("Bearer abcd", expected)
    assert not token_matches("Bearer ab", expected)
    assert not token_matches("Token abc", expected)
    assert not token_matches("", expected)
    assert not token_matches(None, expected)
    assert not token_matches("Bearer عربي", expected)
