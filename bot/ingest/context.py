"""What the HTTP handlers share: the application's dependencies, stored under one app key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import BaseModel

from bot.ingest.health import ReadinessProbe
from bot.ingest.metrics import Metrics, QueueDepthProbe, WorkersProbe
from bot.store import Store
from config import Settings

if TYPE_CHECKING:  # runtime imports this package to wire it: no import cycle
    from bot.runtime import Services

#: ``bot.delivery.status.alert_status``: the progress of one alert, ``None`` when unknown.
AlertStatusLookup = Callable[[Store, str], Awaitable[BaseModel | None]]


@dataclass(frozen=True)
class ApiContext:
    """Everything the handlers need, stored once on the application."""

    settings: Settings
    services: Services
    metrics: Metrics
    readiness: ReadinessProbe
    alert_status: AlertStatusLookup
    queue_depth: QueueDepthProbe | None = None
    workers: WorkersProbe | None = None
    #: NEWSBOT_API_TOKEN, ``None`` when the API is disabled (kept out of the repr: no leaks).
    api_token: str | None = field(default=None, repr=False)


CONTEXT = web.AppKey("newsbot_api_context", ApiContext)


def context_of(request: web.Request) -> ApiContext:
    """The context of the application serving this request."""
    return request.app[CONTEXT]
