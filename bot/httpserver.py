"""What every aiohttp server of newsbot shares: bounded reads, safe header bytes, and an access
log without secrets.

The newsroom API and the webhook both face the internet (or a careless CMS); a client's bytes
are its own fault, so none of them may make a server error. aiohttp's defaults keep a
connection that never finishes its headers for an hour and one that trickles its body for
ever; here every read has a bound (``NEWSBOT_HTTP_HEADER_TIMEOUT``/``_BODY_TIMEOUT``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

logger = logging.getLogger(__name__)

#: Seconds a server still reads (and drops) the rest of a body it did not want, so the client
#: sees the answer rather than a reset (aiohttp's "lingering close"; its default is 10 s).
LINGER_SECONDS = 2.0
#: Route prefixes whose query values are not logged (a token may be passed as a parameter).
REDACTED_PREFIXES = ("/api/",)


def header_bytes(value: str) -> bytes:
    """A header value as the bytes the client sent (non-UTF-8 bytes included, never an error).

    aiohttp decodes header bytes that are not UTF-8 as surrogate escapes; a plain
    ``encode("utf-8")`` of such a value raises, which made a wrong credential a 500.
    """
    return value.encode("utf-8", "surrogateescape")


def logged_target(request: web.BaseRequest) -> str:
    """The request target as the access log shows it: API query values replaced by ``…``."""
    url = request.rel_url
    if not url.raw_query_string or not url.raw_path.startswith(REDACTED_PREFIXES):
        return url.raw_path_qs
    names = "&".join(f"{name}=…" for name in dict.fromkeys(request.query.keys()))
    return f"{url.raw_path}?{names}"


class AccessLogger(AbstractAccessLogger):
    """One line per request: client, request line (API query values redacted), status, size."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Log one answered request."""
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d %.3fs "%s"',
            request.remote,
            request.method,
            logged_target(request),
            request.version.major,
            request.version.minor,
            response.status,
            response.body_length,
            time,
            request.headers.get("User-Agent", "-"),
        )


class ServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log, where a client's malformed request is one warning line.

    aiohttp logs every request it cannot parse (a raw ``\\xff`` in the URL, an over-long
    header, a bad chunk) with a traceback at ERROR: noise an attacker controls, and its message
    quotes the request line, query tokens included. Such a request is the client's fault and
    already answered 400; only its type and status are logged.
    """

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        """Log an error; a client's unparseable request as one warning line."""
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 400) < 500:
            remote = args[0] if args else "?"
            self.logger.warning(
                "malformed request from %s refused with %s (%s)",
                remote,
                exc.code or 400,
                type(exc).__name__,
            )
            return
        super().exception(msg, *args, **kwargs)


#: The server log of every newsbot server (aiohttp's own logger, adapted).
SERVER_LOG = ServerLog(logging.getLogger("aiohttp.server"))


def make_runner(app: web.Application, *, header_timeout: float) -> web.AppRunner:
    """The ``AppRunner`` of every newsbot server: bounded header reads, redacting access log."""
    return web.AppRunner(
        app,
        handle_signals=False,
        access_log_class=AccessLogger,
        logger=SERVER_LOG,
        # aiohttp's keep-alive timer runs from the connection's opening (and from each answer)
        # until a request's headers are complete: it is the header timeout, and the idle one.
        keepalive_timeout=header_timeout,
        lingering_time=LINGER_SECONDS,
    )


def client_gone(request: web.BaseRequest) -> bool:
    """Whether the client has closed its connection (a read error is then no server fault)."""
    transport = request.transport
    return transport is None or transport.is_closing()


async def read_body(request: web.Request, limit: int, *, seconds: float) -> bytes:
    """The whole body within ``limit`` bytes and ``seconds``.

    Raises ``web.HTTPRequestEntityTooLarge`` past the limit (the declared length first, then as
    read: chunked uploads declare none) and ``BodyTimeout`` when the body is not in by then.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared)
    body = bytearray()
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    except TimeoutError:
        raise BodyTimeout(seconds) from None
    return bytes(body)


class BodyTimeout(Exception):
    """A request body that did not arrive in time (a slow or stalled client)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"request body not received within {seconds:g} s")
        self.seconds = seconds
