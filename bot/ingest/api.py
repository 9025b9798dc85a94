"""The newsroom API routes: post, list, read and delete articles; read an alert's progress."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter

from bot.article_text import ARTICLE_TEXTS
from bot.httpserver import BodyTimeout, read_body
from bot.ingest.context import context_of
from bot.ingest.errors import ApiError, json_dumps, parse_error_status
from bot.ingest.story_json import story_fields
from bot.models import ARTICLE_ID_RE, Article
from bot.parser import ParseError, parse_bytes

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
ACCEPTED_TYPES = ("application/json", "text/plain")
UTF8_NAMES = frozenset({"utf-8", "utf8"})
#: Dates in answers as the article JSON spells them.
_WHEN = TypeAdapter(datetime | None)


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=json_dumps)


def article_json(article: Article) -> dict[str, Any]:
    """An article as the API shows it (the model's JSON field names)."""
    data: dict[str, Any] = json.loads(article.model_dump_json())
    return data


# Request checks ----------------------------------------------------------------------------
def _breaking_param(request: web.Request) -> bool | None:
    """``?breaking=true|false`` (case-insensitive), absent → detect; anything else → 400."""
    values = request.query.getall("breaking", [])
    if not values:
        return None
    if len(values) == 1 and values[0].lower() in ("true", "false"):
        return values[0].lower() == "true"
    raise ApiError(400, "invalid_breaking", "query parameter 'breaking' must be 'true' or 'false'")


def _content_type(request: web.Request) -> str:
    """The accepted media type of the body, or 415 naming what is accepted."""
    if "Content-Type" not in request.headers:
        raise ApiError(
            415,
            "unsupported_media_type",
            "missing Content-Type: send application/json or text/plain",
        )
    media = request.content_type.lower()
    if media not in ACCEPTED_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Type {media!r} is not accepted: send application/json or text/plain",
        )
    charset = request.charset
    if charset is not None and charset.strip().lower() not in UTF8_NAMES:
        raise ApiError(
            415,
            "unsupported_charset",
            f"charset {charset!r} is not supported: send the body as UTF-8",
        )
    return media


async def _read_body(request: web.Request, limit: int, seconds: float) -> bytes:
    """The whole body: 413 past ``limit`` (declared length first), 408 after ``seconds``."""
    try:
        return await read_body(request, limit, seconds=seconds)
    except web.HTTPRequestEntityTooLarge:
        declared = request.content_length
        size = declared if declared is not None and declared > limit else None
        raise _too_large(size, limit) from None
    except BodyTimeout as exc:
        # The connection is closed with the answer: what the client still sends is not read.
        raise ApiError(408, "timeout", f"{exc} (NEWSBOT_HTTP_BODY_TIMEOUT)", close=True) from None


def _too_large(size: int | None, limit: int) -> ApiError:
    what = f"{size} bytes" if size is not None else "larger than that"
    return ApiError(
        413,
        "too_large",
        f"request body is {what}; the limit is {limit} bytes (NEWSBOT_API_MAX_BYTES)",
    )


def _article_id(request: web.Request) -> str:
    article_id = request.match_info["id"]
    if not ARTICLE_ID_RE.match(article_id):
        raise ApiError(404, "not_found", f"no article with id {article_id!r}")
    return article_id


# Handlers ---------------------------------------------------------------------------------
async def post_article(request: web.Request) -> web.Response:
    """``POST /api/articles``: ingest a JSON or text article; 201 new, 200 repeat."""
    ctx = context_of(request)
    breaking = _breaking_param(request)
    media = _content_type(request)
    data = await _read_body(request, ctx.settings.api_max_bytes, ctx.settings.http_body_timeout)
    try:
        article = parse_bytes(
            data,
            max_bytes=ctx.settings.max_article_bytes,
            content_type=media,
            breaking=breaking,
        )
    except ParseError as exc:
        raise ApiError(
            parse_error_status(exc.code), exc.code, exc.message, arabic=exc.arabic
        ) from None
    try:
        result = await ctx.services.ingestor.ingest(article, source="api")
    except ValueError as exc:
        if article.id is None:
            raise
        # The store refuses an explicit id that already names a different article.
        raise ApiError(409, "id_conflict", str(exc)) from None
    body = {
        "id": result.id,
        "breaking": result.article.breaking,
        "alert": result.alert_id,
        "created": result.created,
        # As stored: a future date is clamped to the time of posting (as for feeds).
        "published_at": _WHEN.dump_python(result.article.published_at, mode="json"),
    }
    headers = {"Location": f"/api/articles/{result.id}"}
    return _json(body, status=201 if result.created else 200, headers=headers)


async def list_articles(request: web.Request) -> web.Response:
    """``GET /api/articles?limit=N&offset=M``: newest first."""
    limit = _int_param(request, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    offset = _int_param(request, "offset", 0, low=0, high=1_000_000)
    store = context_of(request).services.store
    articles = await store.articles.latest(limit, offset=offset)
    return _json(
        {
            "articles": [article_json(a) for a in articles],
            "count": len(articles),
            "total": await store.articles.count(),
        }
    )


def _int_param(request: web.Request, name: str, default: int, *, low: int, high: int) -> int:
    """A whole-number query parameter within bounds, else 400 naming it."""
    raw = request.query.get(name)
    if raw is None:
        return default
    text = raw.strip()
    value = int(text) if text.isascii() and text.isdigit() else None
    if value is None or not low <= value <= high:
        raise ApiError(
            400, f"invalid_{name}", f"'{name}' must be a whole number from {low} to {high}"
        )
    return value


async def get_article(request: web.Request) -> web.Response:
    """``GET /api/articles/{id}``: the article and the Telegram messages it becomes."""
    article_id = _article_id(request)
    store = context_of(request).services.store
    view = await store.stories.view(article_id)
    if view is None:
        raise ApiError(404, "not_found", f"no article with id {article_id!r}")
    article = view.article
    # Formatting a huge article takes seconds of CPU: off the loop, cached per version. The
    # messages are what readers get: with the story's updates, or the retraction notice.
    texts = await ARTICLE_TEXTS.messages(article, view.tag, view.story)
    messages = [m.to_payload() for m in texts]
    story = await story_fields(store, article_id)
    return _json({"article": article_json(article), "messages": messages, **story})


async def delete_article(request: web.Request) -> web.Response:
    """``DELETE /api/articles/{id}``: 204, or 404 when unknown."""
    article_id = _article_id(request)
    if not await context_of(request).services.store.articles.delete(article_id):
        raise ApiError(404, "not_found", f"no article with id {article_id!r}")
    logger.info("article %s deleted through the API", article_id)
    return web.Response(status=204)


async def get_alert(request: web.Request) -> web.Response:
    """``GET /api/alerts/{id}``: delivery progress of an alert, or 404."""
    ctx = context_of(request)
    alert_id = request.match_info["id"]
    status = None
    if ARTICLE_ID_RE.match(alert_id):
        status = await ctx.services.delivery.alert_status(alert_id)
    if status is None:
        raise ApiError(404, "not_found", f"no alert with id {alert_id!r}")
    return _json(status.model_dump(mode="json"))


def add_api_routes(app: web.Application) -> None:
    """Register the ``/api/`` routes."""
    app.router.add_post("/api/articles", post_article)
    app.router.add_get("/api/articles", list_articles, allow_head=False)
    app.router.add_get("/api/articles/{id}", get_article, allow_head=False)
    app.router.add_delete("/api/articles/{id}", delete_article)
    app.router.add_get("/api/alerts/{id}", get_alert, allow_head=False)
