"""JSON error bodies for the HTTP API: ``{"error": ..., "code": ...}`` and the matching status."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiohttp import web

#: Parser error codes and the HTTP status each one maps to (everything else is a 400).
_PARSE_STATUS = {"too_large": 413}


class ApiError(Exception):
    """A client error raised by a handler; the error middleware turns it into a JSON response."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        arabic: str | None = None,
        headers: Mapping[str, str] | None = None,
        close: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.arabic = arabic
        self.headers = dict(headers or {})
        #: Close the connection after answering (the client's stream cannot be trusted).
        self.close = close

    def response(self) -> web.Response:
        """The JSON response for this error."""
        response = error_response(
            self.status, self.code, self.message, arabic=self.arabic, headers=self.headers
        )
        if self.close:
            response.force_close()
        return response


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    arabic: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A JSON error response: ``error`` (English), ``code`` (stable), ``arabic`` when known."""
    body: dict[str, str] = {"error": message, "code": code}
    if arabic:
        body["arabic"] = arabic
    return web.json_response(body, status=status, headers=headers, dumps=json_dumps)


def parse_error_status(code: str) -> int:
    """The HTTP status for a parser error code (``too_large`` → 413, the rest → 400)."""
    return _PARSE_STATUS.get(code, 400)


def json_dumps(data: object) -> str:
    """JSON with Arabic kept readable (no ``\\u`` escapes), for every API response body."""
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (echoed from a request) has no UTF-8 form: escape it rather than
        # fail while writing the answer.
        return json.dumps(data)
    return text


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "timeout",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def http_exception_response(exc: web.HTTPException) -> web.Response:
    """aiohttp's own HTTP errors (404 unknown route, 405 wrong method, 413 ...) as JSON."""
    headers = {}
    if "Allow" in exc.headers:
        headers["Allow"] = exc.headers["Allow"]
    message = exc.reason or "error"
    if exc.status == 404:
        message = "no such route"
    elif isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        message = f"method {exc.method} is not allowed here (allowed: {allowed})"
    return error_response(
        exc.status, _HTTP_CODES.get(exc.status, f"http_{exc.status}"), message, headers=headers
    )
