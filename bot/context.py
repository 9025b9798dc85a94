"""Typed handler context: ``context.services`` instead of untyped ``bot_data`` dictionaries."""

from __future__ import annotations

from typing import Any, TypeAlias

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.pipeline import Ingestor
from bot.services import Services
from bot.store import Store
from config import Settings


class BotData:
    """Application-wide state shared by every handler: the wired services, attached once."""

    __slots__ = ("_services",)

    def __init__(self) -> None:
        # PTB instantiates bot_data without arguments, so the services are attached right
        # after the Application is built (by ``bot.app.build_application``).
        self._services: Services | None = None

    def attach(self, services: Services) -> None:
        """Give the handlers their services (done once by the application factory)."""
        self._services = services

    @property
    def services(self) -> Services:
        """The store, ingestor, publisher and settings of this bot."""
        if self._services is None:
            raise RuntimeError("the application was not built by bot.app.build_application")
        return self._services


class NewsContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The ``context`` every newsbot handler receives, with typed shortcuts to the services."""

    @property
    def services(self) -> Services:
        """Everything the handlers need."""
        return self.bot_data.services

    @property
    def store(self) -> Store:
        """The Redis store."""
        return self.bot_data.services.store

    @property
    def settings(self) -> Settings:
        """The process settings (admin ids, limits...)."""
        return self.bot_data.services.settings

    @property
    def ingestor(self) -> Ingestor:
        """The ingestion pipeline (its publisher hands alerts to the delivery engine)."""
        return self.bot_data.services.ingestor


NewsApplication: TypeAlias = Application[
    ExtBot[None],
    NewsContext,
    dict[Any, Any],
    dict[Any, Any],
    BotData,
    # PTB's builder types the job queue over the default context; no job queue is used.
    JobQueue[Any],
]


def news_context_types() -> ContextTypes[NewsContext, dict[Any, Any], dict[Any, Any], BotData]:
    """The ``ContextTypes`` that make PTB build ``NewsContext`` and ``BotData``."""
    return ContextTypes(context=NewsContext, bot_data=BotData)
