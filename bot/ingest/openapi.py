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
from aiohttp.typedefs import Handler, Middleware

from bot.ingest.errors import ApiError, json_dumps

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


def _parameter(document: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/parameters/"):
        found: dict[str, Any] = document["components"]["parameters"][ref.rsplit("/", 1)[1]]
        return found
    return spec


@functools.cache
def documented_queries() -> dict[tuple[str, str], frozenset[str]]:
    """The query parameters of each ``(METHOD, path template)`` of ``/api/``, per the document."""
    document = openapi_document()
    queries: dict[tuple[str, str], frozenset[str]] = {}
    for path, item in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            specs = [_parameter(document, p) for p in [*shared, *operation.get("parameters", [])]]
            names = frozenset(p["name"] for p in specs if p.get("in") == "query")
            queries[(method.upper(), path)] = names
    return queries


def query_check_middleware() -> Middleware:
    """Middleware: an ``/api/`` request naming a query parameter its route does not take is a 400.

    A typo such as ``?breakng=true`` would otherwise be ignored and the article published with
    the opposite of what the newsroom asked for.
    """
    queries = documented_queries()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        info = request.match_info
        resource = info.route.resource if info.http_exception is None else None
        if resource is not None and request.query:
            allowed = queries.get((request.method, resource.canonical))
            unknown = sorted(set(request.query) - allowed) if allowed is not None else []
            if unknown:
                takes = ", ".join(sorted(allowed)) if allowed else "none"
                raise ApiError(
                    400,
                    "unknown_parameter",
                    f"unknown query parameter {unknown[0]!r} (this route takes: {takes})",
                )
        return await handler(request)

    return check


async def get_openapi(request: web.Request) -> web.Response:
    """``GET /api/openapi.json``: the OpenAPI 3.1 document of this API."""
    del request
    return web.Response(text=_document_json(), content_type="application/json")


def add_openapi_route(app: web.Application) -> None:
    """Register ``GET /api/openapi.json``."""
    app.router.add_get(OPENAPI_PATH, get_openapi, allow_head=False)
