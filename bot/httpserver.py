"""What every aiohttp server of newsbot shares: safe header bytes and bounded body reads.

The newsroom API and the webhook both face the internet (or a careless CMS); a client's bytes
are its own fault, so none of them may make a server error.
"""

from __future__ import annotations

import logging

from aiohttp import web

logger = logging.getLogger(__name__)


def header_bytes(value: str) -> bytes:
    """A header value as the bytes the client sent (non-UTF-8 bytes included, never an error).

    aiohttp decodes header bytes that are not UTF-8 as surrogate escapes; a plain
    ``encode("utf-8")`` of such a value raises, which made a wrong credential a 500.
    """
    return value.encode("utf-8", "surrogateescape")


def client_gone(request: web.BaseRequest) -> bool:
    """Whether the client has closed its connection (a read error is then no server fault)."""
    transport = request.transport
    return transport is None or transport.is_closing()


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body within ``limit`` bytes, else ``web.HTTPRequestEntityTooLarge``.

    The declared length is checked first, then the bytes as read (chunked uploads declare none).
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared)
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return bytes(body)
