"""Bearer-token authentication of every ``/api/`` route, compared in constant time."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.httpserver import header_bytes
from bot.ingest.errors import error_response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
TOKEN_MISSING_MESSAGE = "NEWSBOT_API_TOKEN is not configured"
#: ``/api/`` paths open without a token: the API's own description (no data in it).
PUBLIC_PATHS = frozenset({"/api/openapi.json"})


def is_api_path(path: str) -> bool:
    """Whether a request path belongs to the authenticated newsroom API."""
    if path in PUBLIC_PATHS:
        return False
    return path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX)


def token_matches(header: str | None, expected: bytes) -> bool:
    """Whether an ``Authorization`` header carries the expected bearer token."""
    if not header:
        return False
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    # compare_digest on bytes: the comparison time does not depend on where they differ.
    return hmac.compare_digest(header_bytes(credentials.strip()), expected)


def authenticated(request: web.Request, token: str | None) -> bool:
    """Whether a request carries the configured bearer token (never, when none is configured)."""
    if not token:
        return False
    return token_matches(request.headers.get("Authorization"), token.encode("utf-8"))


def _unauthorized(message: str, *, invalid: bool) -> web.Response:
    challenge = 'Bearer realm="newsbot"'
    if invalid:
        challenge += ', error="invalid_token"'
    return error_response(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})


def bearer_auth_middleware(token: str | None) -> Middleware:
    """Middleware: ``/api/`` needs ``Authorization: Bearer <token>``; 503 when none configured."""
    expected = token.encode("utf-8") if token else None

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_api_path(request.path):
            return await handler(request)
        if expected is None:
            return error_response(503, "api_disabled", TOKEN_MISSING_MESSAGE)
        header = request.headers.get("Authorization")
        if not token_matches(header, expected):
            if header:
                logger.warning("API request with a wrong token from %s", request.remote)
            message = "wrong bearer token" if header else "missing 'Authorization: Bearer' header"
            return _unauthorized(message, invalid=bool(header))
        return await handler(request)

    return authenticate
