"""The newsroom API of living stories: correct, update and retract a published article.

``PUT /api/articles/{id}`` (a new version), ``POST /api/articles/{id}/updates`` (a development
of the story) and ``POST /api/articles/{id}/retract``. Each is idempotent by content: the same
request again changes nothing and sends nothing. ``GET /api/articles/{id}`` shows the story
(``story_fields``), ``GET /api/alerts/{id}`` the progress of every edit and update.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.ingest.api import _article_id, _content_type, _read_body
from bot.ingest.context import context_of
from bot.ingest.errors import ApiError, json_dumps, parse_error_status
from bot.models import MAX_REASON_CHARS, MAX_UPDATE_CHARS
from bot.parser import ParseError
from bot.store import StoryError

logger = logging.getLogger(__name__)

#: Who the API's changes are recorded as made by (``versions[].replaced_by`` and the like).
API_EDITOR = "api"

_STORY_STATUS = {"not_found": 404, "retracted": 409, "busy": 503, "id_mismatch": 400}


def _json(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=json_dumps)


def _story_error(exc: StoryError) -> ApiError:
    return ApiError(_STORY_STATUS.get(exc.code, 400), exc.code, exc.message)


async def _text_field(request: web.Request, name: str, *, required: bool) -> str | None:
    """``{"<name>": "..."}`` or a text/plain body; ``None`` when optional and absent."""
    settings = context_of(request).settings
    if not required and (request.content_length == 0 or not request.body_exists):
        return None  # no body at all (whatever Content-Type a client adds): nothing to say
    media = _content_type(request)
    raw = await _read_body(request, settings.api_max_bytes, settings.http_body_timeout)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "binary", "the body is not valid UTF-8 text") from None
    if media == "application/json":
        if not text.strip() and not required:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_json", f'send a JSON object: {{"{name}": "..."}}')
        unknown = sorted(set(data) - {name})
        if unknown:
            raise ApiError(400, "invalid_field", f"unknown field {unknown[0]!r}")
        value = data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise ApiError(400, "invalid_field", f"'{name}' must be a string")
        text = value
    if not text.strip():
        if not required:
            return None
        raise ApiError(400, "empty", f"the {name} is empty")
    return text


async def put_article(request: web.Request) -> web.Response:
    """``PUT /api/articles/{id}``: a new version (a correction); 200 with what changed."""
    ctx = context_of(request)
    article_id = _article_id(request)
    media = _content_type(request)
    data = await _read_body(request, ctx.settings.api_max_bytes, ctx.settings.http_body_timeout)
    try:
        done = await ctx.services.stories.correct_bytes(
            article_id, data, content_type=media, by=API_EDITOR
        )
    except ParseError as exc:
        raise ApiError(
            parse_error_status(exc.code), exc.code, exc.message, arabic=exc.arabic
        ) from None
    except StoryError as exc:
        raise _story_error(exc) from None
    return _json(
        {
            "id": done.id,
            "version": done.story.version,
            "changed": done.changed,
            "edits_queued": done.edits_queued,
        }
    )


async def post_update(request: web.Request) -> web.Response:
    """``POST /api/articles/{id}/updates``: 201 a new update, 200 the same text again."""
    ctx = context_of(request)
    article_id = _article_id(request)
    text = await _text_field(request, "text", required=True)
    assert text is not None
    if len(text.strip()) > MAX_UPDATE_CHARS:
        raise ApiError(400, "too_long", f"an update has at most {MAX_UPDATE_CHARS} characters")
    try:
        done = await ctx.services.stories.update(article_id, text, by=API_EDITOR)
    except StoryError as exc:
        raise _story_error(exc) from None
    body = {
        "id": article_id,
        "update": json.loads(done.update.model_dump_json()),
        "queued": done.queued,
        "created": done.created,
    }
    return _json(body, status=201 if done.created else 200)


async def post_retract(request: web.Request) -> web.Response:
    """``POST /api/articles/{id}/retract``: withdraw the article (idempotent)."""
    ctx = context_of(request)
    article_id = _article_id(request)
    reason = await _text_field(request, "reason", required=False)
    if reason is not None and len(" ".join(reason.split())) > MAX_REASON_CHARS:
        raise ApiError(400, "too_long", f"a reason has at most {MAX_REASON_CHARS} characters")
    try:
        done = await ctx.services.stories.retract(article_id, reason, by=API_EDITOR)
    except StoryError as exc:
        raise _story_error(exc) from None
    retraction = done.story.retraction
    return _json(
        {
            "id": article_id,
            "retracted": True,
            "reason": retraction.reason if retraction else None,
            "created": done.created,
            "edits_queued": done.edits_queued,
        }
    )


def add_story_routes(app: web.Application) -> None:
    """Register the living-story routes."""
    app.router.add_put("/api/articles/{id}", put_article)
    app.router.add_post("/api/articles/{id}/updates", post_update)
    app.router.add_post("/api/articles/{id}/retract", post_retract)
