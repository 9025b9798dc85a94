"""The full-text messages of articles: formatted off the event loop, cached per article version.

Formatting is pure but not cheap (about 25 ms of CPU per 4096-character message: a 1 MB
article takes seconds). Done on the event loop, every reader, the webhook and ``/healthz``
wait meanwhile, and each press of a read button would pay it again. So:

* results are kept in a small LRU keyed by (article id, version tag of the stored record),
  bounded by entries and by characters;
* anything but a short article is formatted in one dedicated thread (one at a time, so at most
  one formatting thread competes with the loop for the GIL, which it releases every few
  milliseconds), and concurrent requests for the same article share one formatting.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from bot.models import Article, StoryState
from formatters import format_article, format_story
from formatters.message import OutgoingMessage

logger = logging.getLogger(__name__)

#: Articles of at most this many characters (title and body) are formatted on the loop: one
#: message or two, a few milliseconds, less than the hop to a thread would cost in latency.
INLINE_CHARS = 2_000
#: Cached formatted articles, and the characters they may hold in all (about 2 bytes each).
MAX_ENTRIES = 64
MAX_CHARS = 8_000_000

Messages = tuple[OutgoingMessage, ...]
_Key = tuple[str, str]


def article_chars(article: Article) -> int:
    """The characters of the article's title and body (what formatting costs grows with)."""
    return len(article.title) + sum(
        len(section.heading or "") + sum(len(p) for p in section.paragraphs)
        for section in article.sections
    )


class ArticleTexts:
    """Formatted articles by (id, version): an LRU, filled off the loop, one formatting each."""

    def __init__(
        self,
        *,
        max_entries: int = MAX_ENTRIES,
        max_chars: int = MAX_CHARS,
        inline_chars: int = INLINE_CHARS,
    ) -> None:
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._inline_chars = inline_chars
        self._cache: OrderedDict[_Key, tuple[Messages, int]] = OrderedDict()
        self._chars = 0
        # Futures belong to one event loop; a process may run several loops one after another
        # (tests), so a formatting in progress is only shared within its own loop.
        self._pending: dict[tuple[int, _Key], asyncio.Future[Messages]] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        #: Formattings done (cache misses), for tests and logs.
        self.formatted = 0

    async def messages(
        self, article: Article, version: str | None, story: StoryState | None = None
    ) -> Messages:
        """The article's :func:`format_article` messages; cached when ``version`` is given.

        ``version`` must change whenever the article or its ``story`` does (updates, a
        retraction): ``StoryStore.view`` gives such a tag.
        """
        article_id = article.id or ""
        if version is None or not article_id:
            return await self._format(article, story)
        key = (article_id, version)
        cached = self._get(key)
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        pending_key = (id(loop), key)
        pending = self._pending.get(pending_key)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request itself was cancelled
                # The request that was formatting it was cancelled: format it here.
        future: asyncio.Future[Messages] = loop.create_future()
        self._pending[pending_key] = future
        try:
            messages = await self._format(article, story)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved, so an unshared failure is not logged twice
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            if self._pending.get(pending_key) is future:
                del self._pending[pending_key]
        future.set_result(messages)
        self._put(key, messages)
        return messages

    def cached(self, article_id: str, version: str) -> bool:
        """Whether this version of the article is formatted and kept."""
        with self._lock:
            return (article_id, version) in self._cache

    def clear(self) -> None:
        """Forget every cached article (tests; a process never needs to)."""
        with self._lock:
            self._cache.clear()
            self._chars = 0

    async def _format(self, article: Article, story: StoryState | None) -> Messages:
        self.formatted += 1
        if article_chars(article) <= self._inline_chars:
            return _format_all(article, story)
        loop = asyncio.get_running_loop()
        if story is None:
            return await loop.run_in_executor(self._thread(), _format_all, article)
        return await loop.run_in_executor(self._thread(), _format_all, article, story)

    def _thread(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="newsbot-format")
            return self._executor

    def _get(self, key: _Key) -> Messages | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            self._cache.move_to_end(key)
            return entry[0]

    def _put(self, key: _Key, messages: Messages) -> None:
        size = sum(len(m.text) for m in messages)
        if size > self._max_chars:
            return  # larger than the whole cache: formatting it again is the lesser evil
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = (messages, size)
            self._chars += size
            while len(self._cache) > self._max_entries or self._chars > self._max_chars:
                _, (_, dropped) = self._cache.popitem(last=False)
                self._chars -= dropped


def _format_all(article: Article, story: StoryState | None = None) -> Messages:
    if story is None:
        return tuple(format_article(article))
    return tuple(format_story(article, story))


#: The process's formatted-article cache, shared by the bot's handlers and the newsroom API.
ARTICLE_TEXTS = ArticleTexts()
