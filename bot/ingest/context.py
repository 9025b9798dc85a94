"""What the newsroom API handlers share: the application's dependencies, under one app key."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from bot.ops.metrics import Metrics
from bot.services import Services
from config import Settings


@dataclass(frozen=True)
class ApiContext:
    """Everything the handlers need, stored once on the application."""

    settings: Settings
    services: Services
    metrics: Metrics
    #: NEWSBOT_API_TOKEN, ``None`` when the API is disabled (kept out of the repr: no leaks).
    api_token: str | None = field(default=None, repr=False)


CONTEXT = web.AppKey("newsbot_api_context", ApiContext)


def context_of(request: web.Request) -> ApiContext:
    """The context of the application serving this request."""
    return request.app[CONTEXT]
