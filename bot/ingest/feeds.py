"""RSS/Atom polling: conditional GET, bounded fetch, feedparser on the bytes, new entries ingested.

Each configured feed has its own loop: poll, then sleep one interval (or a doubling backoff
after errors, capped); a failing feed stays in the rotation and its error streak is kept in
Redis for ``/readyz`` and ``/metrics``.

Decisions:

* The first successful poll of a feed never seen before stores its current items as articles
  *without alerting* (``/latest`` then has content; subscribers get no flood of old news).
  Later polls ingest new items with alerts: breaking ones reach every subscriber, the others
  only "all news" subscribers (the publisher decides the audience).
* Entries are identified by guid/id, else link, else a hash of the title; seen ids live in a
  Redis sorted set per feed, so restarts never re-ingest.
* An entry already taken whose title, text or link changes (same id) is a correction of its
  article, through the story desk like ``PUT /api/articles/{id}``: every chat its alert reached
  has the alert edited; an article never alerted is only updated in the store. Each entry's
  article id and a digest of its content are kept per feed, so an unchanged entry costs one
  comparison and does nothing; an entry that leaves the feed does nothing either.
* A non-breaking entry without any body text is skipped with a log line (a breaking
  headline-only flash is kept): repeating the headline as its own body reads badly.
* In a feed feedparser flags as not well-formed, an entry whose text refers to an entity the
  document never defines (``&lol9;``: a billion-laughs DTD feedparser refused, or a typo) is
  skipped, counted as ``malformed`` and logged with the feed and the entity: feedparser's
  lenient parser keeps such a reference as literal text (and may drop its ``;``), so the text
  is not what the newsroom wrote, and «عاجل | &lol9;» must never reach a reader. The feed's
  other entries are taken as usual; in a well-formed feed ``&amp;lol9;`` is the author's own
  text and is kept exactly as written.
"""

from __future__ import annotations

import asyncio
import contextlib
import html.entities
import io
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import aiohttp
import feedparser
from redis.exceptions import RedisError

from bot.ingest.feed_entries import (
    entry_digest,
    entry_key,
    entry_to_article,
    entry_url,
    feed_source,
)
from bot.ops.metrics import Metrics
from bot.parser import ParseError
from bot.services import Services
from bot.store import StoryError
from bot.store.feeds import TakenItem
from config import Settings

logger = logging.getLogger(__name__)

USER_AGENT = "newsbot-feed-poller/0.1"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
READ_CHUNK = 64 * 1024
MAX_REDIRECTS = 5
MAX_CONCURRENT_POLLS = 8

#: An entity reference in the raw document (names are ASCII in every encoding feeds use).
_ENTITY_REF_RE = re.compile(rb"&([A-Za-z_][A-Za-z0-9._-]{0,63});")

_CDATA_RE = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.S)

#: The entities XML itself defines; every other name needs a definition in the document.
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})


class FeedError(Exception):
    """A poll that failed: network, timeout, HTTP status, oversize or unparseable body."""


class PollOutcome(StrEnum):
    """How a poll ended."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


@dataclass
class PollResult:
    """What one poll of one feed did."""

    url: str
    outcome: PollOutcome
    first_poll: bool = False
    ingested: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    #: Articles whose entry changed and were corrected, and the alert edits that queued.
    corrected: list[str] = field(default_factory=list)
    edits_queued: int = 0
    skipped: int = 0
    error: str | None = None


@dataclass(frozen=True)
class FeedOptions:
    """Polling knobs (from ``Settings``)."""

    interval: float = 60.0
    timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    backoff_max: float = 1800.0

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedOptions:
        """The options configured by ``NEWSBOT_FEED_*``."""
        return cls(
            interval=settings.feed_interval,
            timeout=settings.feed_timeout,
            max_bytes=settings.feed_max_bytes,
            backoff_max=settings.feed_backoff_max,
        )

    def delay_after(self, errors: int) -> float:
        """Seconds until the next poll: the interval, doubled per failure in a row, capped."""
        if errors <= 0:
            return self.interval
        backoff: float = self.interval * 2.0 ** min(errors - 1, 30)
        return min(backoff, max(self.backoff_max, self.interval))


@dataclass(frozen=True)
class ParsedFeed:
    """What the poller uses of feedparser's result: the channel's metadata and its entries."""

    feed: Mapping[str, object]
    entries: list[Mapping[str, object]]
    #: Entity names a not-well-formed document uses but that neither XML nor HTML defines.
    undefined_entities: frozenset[str] = frozenset()

    def undefined_entity_in(self, entry: Mapping[str, object]) -> str | None:
        """The first undefined entity ``entry``'s title or text still refers to, if any."""
        if not self.undefined_entities:
            return None
        texts = [entry.get("title"), entry.get("summary")]
        content = entry.get("content")
        if isinstance(content, Sequence):
            texts += [item.get("value") for item in content if isinstance(item, Mapping)]
        for name in sorted(self.undefined_entities):
            # Literal ("&lol9;"), or escaped ("&amp;lol9") had feedparser's HTML passes run.
            ref = re.compile(rf"&(?:amp;)?{re.escape(name)}(?![A-Za-z0-9._-])")
            if any(isinstance(text, str) and ref.search(text) for text in texts):
                return name
        return None


@dataclass(frozen=True)
class _Fetched:
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    final_url: str


class FeedPoller:
    """Polls every configured feed and feeds new entries into the ingestion pipeline."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        http_session: aiohttp.ClientSession,
        metrics: Metrics,
        *,
        feeds: Sequence[str] | None = None,
        options: FeedOptions | None = None,
    ) -> None:
        self.feeds: tuple[str, ...] = tuple(settings.feeds if feeds is None else feeds)
        self.options = options or FeedOptions.from_settings(settings)
        self._services = services
        self._session = http_session
        self._metrics = metrics
        self._state = services.store.feeds
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_POLLS)

    async def run(self, stop_event: asyncio.Event) -> None:
        """Poll until ``stop_event`` is set: one loop per feed, each on its own schedule."""
        if not self.feeds:
            logger.info("no feeds configured (NEWSBOT_FEEDS): feed poller idle")
            return
        logger.info(
            "polling %d feed(s) every %ss: %s",
            len(self.feeds),
            self.options.interval,
            ", ".join(self.feeds),
        )
        async with asyncio.TaskGroup() as group:
            for url in self.feeds:
                group.create_task(self._loop(url, stop_event), name=f"feed:{url}")

    async def _loop(self, url: str, stop_event: asyncio.Event) -> None:
        errors = 0
        while not stop_event.is_set():
            result = await self.poll_once(url)
            errors = errors + 1 if result.outcome is PollOutcome.ERROR else 0
            delay = self.options.delay_after(errors)
            self._metrics.feed_wait.labels(feed=url).set(delay)
            if errors:
                logger.info(
                    "feed %s: next attempt in %.0fs (failure %d in a row)", url, delay, errors
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_event.wait(), timeout=delay)

    async def poll_all(self) -> list[PollResult]:
        """Poll every feed once, concurrently (for tests and one-shot runs)."""
        return list(await asyncio.gather(*(self.poll_once(url) for url in self.feeds)))

    async def poll_once(self, url: str) -> PollResult:
        """Poll one feed; never raises (failures are recorded and returned as ``ERROR``)."""
        async with self._slots:
            try:
                result = await self._poll(url)
            except FeedError as exc:
                result = await self._failed(url, str(exc))
            except RedisError as exc:
                # An outage, not a bug: no traceback every poll while Redis is away.
                result = await self._failed(url, f"Redis unavailable: {type(exc).__name__}")
            except Exception as exc:
                # A poller bug or a Redis outage must not end the loop: the feed is retried.
                logger.exception("feed %s: unexpected error while polling", url)
                result = await self._failed(url, f"internal error: {type(exc).__name__}")
        self._metrics.feed_polls.labels(feed=url, outcome=result.outcome.value).inc()
        return result

    async def _failed(self, url: str, message: str) -> PollResult:
        logger.warning("feed %s: poll failed: %s", url, message)
        try:
            await self._state.record_error(url, message)
        except RedisError as exc:
            logger.warning("feed %s: cannot record the failure (%s)", url, type(exc).__name__)
        return PollResult(url, PollOutcome.ERROR, error=message)

    async def _poll(self, url: str) -> PollResult:
        state = await self._state.get(url)
        fetched = await self._fetch(url, etag=state.etag, last_modified=state.last_modified)
        if fetched is None:
            await self._state.record_success(
                url, etag=state.etag, last_modified=state.last_modified, title=None
            )
            logger.debug("feed %s: not modified", url)
            return PollResult(url, PollOutcome.NOT_MODIFIED)
        parsed = await asyncio.to_thread(_parse_feed, fetched)
        result = await self._take_entries(url, parsed)
        await self._state.record_success(
            url,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            title=feed_source(parsed.feed, url),
        )
        await self._state.prune_seen(url)
        return result

    async def _fetch(
        self, url: str, *, etag: str | None, last_modified: str | None
    ) -> _Fetched | None:
        """GET with validators; ``None`` for 304. Size and time bounded."""
        headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        timeout = aiohttp.ClientTimeout(
            total=self.options.timeout, sock_connect=min(10.0, self.options.timeout)
        )
        limit = self.options.max_bytes
        try:
            async with self._session.get(
                url, headers=headers, timeout=timeout, max_redirects=MAX_REDIRECTS
            ) as response:
                if response.status == 304:
                    return None
                if response.status != 200:
                    raise FeedError(f"HTTP {response.status} {response.reason or ''}".rstrip())
                if response.content_length is not None and response.content_length > limit:
                    raise FeedError(f"feed is {response.content_length} bytes, over {limit}")
                body = bytearray()
                # Counted after decompression, so a small gzip bomb is caught too.
                async for chunk in response.content.iter_chunked(READ_CHUNK):
                    body += chunk
                    if len(body) > limit:
                        raise FeedError(f"feed is over {limit} bytes")
                return _Fetched(
                    body=bytes(body),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    content_type=response.headers.get("Content-Type"),
                    final_url=str(response.url),
                )
        except TimeoutError:
            raise FeedError(f"timed out after {self.options.timeout:g}s") from None
        except aiohttp.TooManyRedirects:
            raise FeedError(f"more than {MAX_REDIRECTS} redirects") from None
        except aiohttp.ClientError as exc:
            raise FeedError(f"{type(exc).__name__}: {exc}") from None

    async def _take_entries(self, url: str, parsed: ParsedFeed) -> PollResult:
        """Ingest the entries not seen before (first poll: store them without alerting)."""
        first = not await self._state.is_known(url)
        source = feed_source(parsed.feed, url)
        keyed = _keyed_entries(parsed.entries)
        new_keys = set(await self._state.unseen(url, list(keyed)))
        taken = await self._taken(url, [k for k in keyed if k not in new_keys], keyed)
        result = PollResult(url, PollOutcome.OK, first_poll=first)
        for key, entry in keyed.items():
            if key not in new_keys:
                before = taken.get(key)
                if before is not None:
                    await self._follow(url, key, entry, before, parsed, source, result)
                continue
            undefined = parsed.undefined_entity_in(entry)
            if undefined is not None:
                logger.warning(
                    "feed %s: skipping entry %s: it refers to the undefined entity &%s; in a "
                    "feed that is not well-formed",
                    url,
                    key,
                    undefined,
                )
                self._metrics.feed_entries.labels(feed=url, outcome="malformed").inc()
                result.skipped += 1
                await self._state.mark_seen(url, [key])
                continue
            try:
                article = entry_to_article(entry, source=source)
            except ParseError as exc:
                logger.info("feed %s: skipping entry %s: %s", url, key, exc.message)
                self._metrics.feed_entries.labels(feed=url, outcome="skipped").inc()
                result.skipped += 1
                await self._state.mark_seen(url, [key])
                continue
            ingested = await self._services.ingestor.ingest(article, alert=not first, source="feed")
            outcome = "recorded" if first else "ingested" if ingested.created else "duplicate"
            self._metrics.feed_entries.labels(feed=url, outcome=outcome).inc()
            result.ingested.append(ingested.id)
            if ingested.alert_id and ingested.created:
                result.alerts.append(ingested.alert_id)
            await self._state.remember_item(url, key, TakenItem(ingested.id, entry_digest(entry)))
            # Marked only once stored: a crash before this line re-ingests idempotently.
            await self._state.mark_seen(url, [key])
        # Refresh the last-seen time of everything still in the feed (retention is by absence).
        await self._state.mark_seen(url, list(keyed))
        if first:
            await self._state.mark_known(url)
            logger.info(
                "feed %s: first poll, recorded %d existing item(s) without alerting",
                url,
                len(result.ingested),
            )
        elif result.ingested:
            logger.info(
                "feed %s: %d new item(s), %d alert(s)",
                url,
                len(result.ingested),
                len(result.alerts),
            )
        return result

    async def _taken(
        self, url: str, seen: list[str], keyed: Mapping[str, Mapping[str, object]]
    ) -> dict[str, TakenItem]:
        """What the seen entries became; an entry taken before its article id was recorded
        (by an older version) is found by its link, and followed from its next change on."""
        taken = await self._state.taken_items(url, seen)
        links = {key: entry_url(keyed[key]) for key in seen if key not in taken}
        ids = await self._services.store.articles.ids_by_url([u for u in links.values() if u])
        for key, link in links.items():
            if link in ids:
                taken[key] = TakenItem(ids[link], "")
        return taken

    async def _follow(
        self,
        url: str,
        key: str,
        entry: Mapping[str, object],
        before: TakenItem,
        parsed: ParsedFeed,
        source: str,
        result: PollResult,
    ) -> None:
        """An entry taken before: when what it says changed, correct its article."""
        digest = entry_digest(entry)
        if digest == before.digest:
            return  # idempotent by content: an unchanged entry does nothing
        now = TakenItem(before.article_id, digest)
        if not before.digest:
            # Taken before digests were kept: what it said then is unknown, and comparing with
            # the stored article would undo a correction the newsroom made through the API.
            await self._state.remember_item(url, key, now)
            return
        undefined = parsed.undefined_entity_in(entry)
        if undefined is not None:
            # A broken feed's text is not what the newsroom wrote: never a correction.
            logger.warning(
                "feed %s: entry %s changed but refers to the undefined entity &%s; in a feed "
                "that is not well-formed: article %s left as it was",
                url,
                key,
                undefined,
                before.article_id,
            )
            self._metrics.feed_entries.labels(feed=url, outcome="malformed").inc()
            await self._state.remember_item(url, key, now)
            return
        try:
            article = entry_to_article(entry, source=source)
            done = await self._services.stories.correct(
                before.article_id, article, by=f"feed {url}"
            )
        except (ParseError, StoryError) as exc:
            # A retracted or vanished article, or an entry that no longer parses: the stored
            # article stays; remembered so the same change is not tried again every poll.
            logger.info(
                "feed %s: entry %s changed, article %s not corrected: %s",
                url,
                key,
                before.article_id,
                exc.message,
            )
            await self._state.remember_item(url, key, now)
            return
        if done.changed:
            self._metrics.feed_entries.labels(feed=url, outcome="corrected").inc()
            result.corrected.append(before.article_id)
            result.edits_queued += done.edits_queued
            logger.info(
                "feed %s: entry %s changed (%s): article %s corrected, %d alert edit(s) queued",
                url,
                key,
                ", ".join(done.changed),
                before.article_id,
                done.edits_queued,
            )
        # Remembered only once corrected: a crash before this line corrects again, idempotently.
        await self._state.remember_item(url, key, now)


def _parse_feed(fetched: _Fetched) -> ParsedFeed:
    """feedparser on the fetched bytes (never a URL: feedparser must not fetch anything)."""
    headers = {"content-location": fetched.final_url}
    if fetched.content_type:
        headers["content-type"] = fetched.content_type
    # feedparser is untyped: its FeedParserDict is narrowed to plain mappings right here.
    # feedparser's own HTML passes (sanitizing, resolving relative links) rewrite an unknown
    # entity "&notanentity;" as "&amp;notanentity", losing its ";". The HTML is reduced to
    # plain text by ``bot.ingest.html_text`` (scripts and styles dropped) and never shown as
    # HTML, so the markup is taken exactly as the feed wrote it.
    parsed = feedparser.parse(
        io.BytesIO(fetched.body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    feed = parsed.get("feed")
    all_entries = [e for e in parsed.get("entries") or () if isinstance(e, Mapping)]
    entries = [e for e in all_entries if e.get("title")]
    if parsed.get("bozo") and not entries:
        problem = parsed.get("bozo_exception")
        raise FeedError(f"not a valid RSS/Atom feed: {problem}")
    if not parsed.get("version") and not entries:
        raise FeedError("not an RSS/Atom feed")
    undefined: frozenset[str] = frozenset()
    if parsed.get("bozo"):
        logger.info(
            "feed %s is not well-formed (%s); using what parsed",
            fetched.final_url,
            parsed.get("bozo_exception"),
        )
        undefined = _undefined_entities(fetched.body)
    # Untitled entries are kept: they are counted as skipped, not silently dropped.
    return ParsedFeed(
        feed=feed if isinstance(feed, Mapping) else {},
        entries=all_entries,
        undefined_entities=undefined,
    )


def _undefined_entities(body: bytes) -> frozenset[str]:
    """Entity names the document refers to that neither XML nor HTML defines.

    A name the document's own DTD declares counts as undefined too: feedparser never expands
    DTD entities (that is how billion-laughs feeds stay harmless), so its reference stays
    literal text.
    """
    # Inside CDATA "&foo;" is the HTML author's text, not an XML reference the feed broke.
    markup = _CDATA_RE.sub(b"", body)
    names = {m.group(1).decode("ascii") for m in _ENTITY_REF_RE.finditer(markup)}
    return frozenset(
        n for n in names if n not in _XML_ENTITIES and f"{n};" not in html.entities.html5
    )


def _keyed_entries(entries: Sequence[Mapping[str, object]]) -> dict[str, Mapping[str, object]]:
    """Entries by key, oldest first (alerts go out in publication order).

    Of entries sharing a key, the first in the document wins: feeds put the current version of
    an item first.
    """
    unique: dict[str, tuple[int, Mapping[str, object]]] = {}
    for index, entry in enumerate(entries):
        key = entry_key(entry)
        if key is not None and key not in unique:
            unique[key] = (index, entry)
    items = list(unique.items())
    if all(_date(entry) is not None for _, (_, entry) in items):
        # Same date: the later in the document (older, in a newest-first feed) goes first.
        items.sort(key=lambda item: (tuple(_date(item[1][1]) or ()), -item[1][0]))
    else:
        items.reverse()  # feeds list newest first
    return {key: entry for key, (_, entry) in items}


def _date(entry: Mapping[str, object]) -> time.struct_time | None:
    value = entry.get("published_parsed") or entry.get("updated_parsed")
    return value if isinstance(value, time.struct_time) else None
