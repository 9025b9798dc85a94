"""The newsroom API's contract: ``openapi.yaml`` (package data), served at ``/api/openapi.json``.

The document is written by hand (``docs/openapi.yaml`` links to it) and shipped inside the
``bot.ingest`` package, so a non-editable install and the Docker image find it too. The tests
check it names exactly the routes the application registers and run schemathesis against it.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml
from aiohttp import web

from bot.ingest.errors import json_dumps

#: Where the document is served; open to everyone (it is documentation, not data).
OPENAPI_PATH = "/api/openapi.json"
_RESOURCE = "openapi.yaml"


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document as loaded from the package (read once)."""
    text = resources.files("bot.ingest").joinpath(_RESOURCE).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValueError(f"bot/ingest/{_RESOURCE} is not a YAML mapping")
    return document


@functools.cache
def _document_json() -> str:
    return json_dumps(openapi_document())


async def get_openapi(request: web.Request) -> web.Response:
    """``GET /api/openapi.json``: the OpenAPI 3.1 document of this API."""
    del request
    return web.Response(text=_document_json(), content_type="application/json")


def add_openapi_route(app: web.Application) -> None:
    """Register ``GET /api/openapi.json``."""
    app.router.add_get(OPENAPI_PATH, get_openapi, allow_head=False)
