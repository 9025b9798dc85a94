"""The ingestion pipeline every source shares: parse → store → alert when new and breaking."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from bot.models import Article
from bot.parser import parse_bytes
from bot.store import Store
from bot.store.stats import ingested_field

logger = logging.getLogger(__name__)

#: Inputs up to this size are parsed on the event loop; larger ones in a thread, since parsing
#: takes about 0.7 s of CPU per MB, during which no reader would be answered.
PARSE_INLINE_BYTES = 64 * 1024


async def parse_bytes_off_loop(
    data: bytes,
    *,
    max_bytes: int,
    content_type: str | None = None,
    breaking: bool | None = None,
) -> Article:
    """:func:`bot.parser.parse_bytes`, in a thread for large inputs (raises ``ParseError``)."""
    if len(data) <= PARSE_INLINE_BYTES:
        return parse_bytes(data, max_bytes=max_bytes, content_type=content_type, breaking=breaking)
    return await asyncio.to_thread(
        parse_bytes, data, max_bytes=max_bytes, content_type=content_type, breaking=breaking
    )


class AlertPublisher(Protocol):
    """Something that queues a push of an article to its audience (the delivery engine)."""

    async def publish(self, article: Article) -> str | None:
        """Queue the push of a stored article once; a repeat returns the same alert id."""
        ...


@dataclass(frozen=True)
class IngestResult:
    """What happened to one incoming article."""

    article: Article
    created: bool
    alert_id: str | None

    @property
    def id(self) -> str:
        """The stored article's id."""
        article_id = self.article.id
        if article_id is None:  # the store always assigns one; this guards the type only
            raise ValueError("ingested article has no id")
        return article_id


class Ingestor:
    """Takes articles from any source into the store and hands new ones to the publisher."""

    def __init__(self, store: Store, publisher: AlertPublisher | None, *, max_bytes: int) -> None:
        self._store = store
        self._publisher = publisher
        self._max_bytes = max_bytes

    async def ingest_bytes(
        self,
        data: bytes,
        *,
        content_type: str | None = None,
        breaking: bool | None = None,
        alert: bool = True,
        source: str = "other",
    ) -> IngestResult:
        """Parse raw text or JSON (raises ``ParseError``) and ingest the article."""
        article = await parse_bytes_off_loop(
            data, max_bytes=self._max_bytes, content_type=content_type, breaking=breaking
        )
        return await self.ingest(article, alert=alert, source=source)

    async def ingest(
        self, article: Article, *, alert: bool = True, source: str = "other"
    ) -> IngestResult:
        """Store an article and queue its push; a repeat returns the same article and alert.

        ``source`` (api, feed, cli, telegram) is counted for the metrics when the article is new.
        """
        wanted = alert and self._publisher is not None
        saved = await self._store.articles.save(article, alert_wanted=wanted)
        if saved.created:
            await self._store.stats.incr(ingested_field(source))
            logger.info(
                "ingested article %s from %s (breaking=%s): %s",
                saved.id,
                source,
                saved.article.breaking,
                saved.article.title,
            )
        alert_id: str | None = None
        # Publishing is idempotent per article, so a repeat (a CMS retrying after a crash
        # between "stored" and "queued") completes a lost hand-over but never alerts twice.
        # An article first stored without an alert (a feed's silent first poll, `ingest
        # --no-alert`) stays silent when it comes again.
        if (
            wanted
            and self._publisher is not None
            and (saved.created or await self._store.articles.alert_wanted(saved.id))
        ):
            alert_id = await self._publisher.publish(saved.article)
        return IngestResult(saved.article, saved.created, alert_id)
