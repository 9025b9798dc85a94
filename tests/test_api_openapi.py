"""The OpenAPI document: served at /api/openapi.json, and naming exactly the app's routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from bot.delivery.status import AlertStatus
from bot.ingest.openapi import openapi_document
from bot.models import Article, Retraction, StoryUpdate
from bot.store import Store
from tests.constants import AUTH
from tests.ingest_support import api_harness, make_settings

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def _fields(model: type[BaseModel]) -> set[str]:
    """The names a model's JSON has: its fields and its computed fields."""
    return set(model.model_fields) | set(model.model_computed_fields)


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = openapi_document()["components"]["schemas"][name]
    return schema


async def test_the_served_document_is_docs_openapi_yaml_without_a_token(store: Store) -> None:
    expected = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    async with api_harness(store) as api:
        resp = await api.client.get("/api/openapi.json")
        assert resp.status == 200 and resp.content_type == "application/json"
        served = await resp.json()
        with_token = await (await api.client.get("/api/openapi.json", headers=AUTH)).json()
    # JSON has no integer keys or dates: a YAML `200:` or unquoted date would differ here.
    assert served == expected == with_token
    assert served["openapi"].startswith("3.1")


async def test_the_document_is_served_while_the_api_is_disabled(store: Store) -> None:
    async with api_harness(store, make_settings(api_token=None)) as api:
        assert (await api.client.get("/api/articles")).status == 503
        resp = await api.client.get("/api/openapi.json")
        assert resp.status == 200
        assert (await resp.json())["info"]["title"] == openapi_document()["info"]["title"]


async def test_every_route_of_the_app_is_documented_and_every_documented_route_exists(
    store: Store,
) -> None:
    async with api_harness(store) as api:
        registered = {
            (route.method, route.resource.canonical)
            for route in api.client.app.router.routes()
            if route.resource is not None
        }
    documented = _documented(openapi_document())
    assert registered - documented == set(), "routes the document does not describe"
    assert documented - registered == set(), "documented routes the app does not have"


def test_the_response_schemas_name_every_field_the_models_send() -> None:
    # A field added to a model (and so to the answers) must be added to the contract too.
    article = _fields(Article)
    assert set(_schema("Article")["properties"]) == article
    assert set(_schema("ArticleInput")["properties"]) == article | {"body"}
    assert set(_schema("AlertStatus")["properties"]) == _fields(AlertStatus)
    assert set(_schema("StoryUpdate")["properties"]) == _fields(StoryUpdate)
    assert set(_schema("Retraction")["properties"]) == _fields(Retraction)
