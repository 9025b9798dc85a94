"""Articles in Redis: idempotent saves, latest-first listing, deletion and word search."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from bot.models import Article, Section
from bot.search_text import search_tokens
from bot.store.keys import Keys
from bot.store.stats import StatField

# Saving is one atomic script so that two concurrent ingests of the same article (a CMS that
# retries, a feed and the API at once) agree on one id and only one of them is "created".
# KEYS: article, by_time, by_url, by_content, article_tokens, stats, alert_wanted
# ARGV: id, json, score, url, fingerprint, token-key-prefix, alert wanted (1/0), the stats field
# counting created articles, tokens...
_SAVE_SCRIPT = """
local existing = false
if ARGV[4] ~= '' then existing = redis.call('HGET', KEYS[3], ARGV[4]) end
if not existing then existing = redis.call('HGET', KEYS[4], ARGV[5]) end
if existing then return {0, existing} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {2, ARGV[1]} end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], ARGV[4], ARGV[1]) end
redis.call('HSET', KEYS[4], ARGV[5], ARGV[1])
if ARGV[7] == '1' then redis.call('SADD', KEYS[7], ARGV[1]) end
for i = 9, #ARGV do
  redis.call('SADD', ARGV[6] .. ARGV[i], ARGV[1])
  redis.call('SADD', KEYS[5], ARGV[i])
end
redis.call('HINCRBY', KEYS[6], ARGV[8], 1)
return {1, ARGV[1]}
"""

# KEYS: article, by_time, by_url, by_content, article_tokens, alert_wanted, story, versions
# ARGV: id, url, fp, token prefix, then the fingerprints and URLs of past versions (pairs)
_DELETE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[7], KEYS[8])
for i = 5, #ARGV, 2 do
  if redis.call('HGET', KEYS[4], ARGV[i]) == ARGV[1] then redis.call('HDEL', KEYS[4], ARGV[i]) end
  if ARGV[i + 1] ~= '' and redis.call('HGET', KEYS[3], ARGV[i + 1]) == ARGV[1] then
    redis.call('HDEL', KEYS[3], ARGV[i + 1])
  end
end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '' and redis.call('HGET', KEYS[3], ARGV[2]) == ARGV[1] then
  redis.call('HDEL', KEYS[3], ARGV[2])
end
if redis.call('HGET', KEYS[4], ARGV[3]) == ARGV[1] then redis.call('HDEL', KEYS[4], ARGV[3]) end
for _, token in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  redis.call('SREM', ARGV[4] .. token, ARGV[1])
end
redis.call('DEL', KEYS[5])
redis.call('SREM', KEYS[6], ARGV[1])
return 1
"""

logger = logging.getLogger(__name__)

ID_LENGTH = 10
MAX_ID_LENGTH = 16
SEARCH_LIMIT = 20
#: Stored records read on the event loop at most this large in all (bytes); larger reads are
#: decoded in a thread: a 1 MB article takes tens of milliseconds of CPU to validate, and
#: ``/latest 20`` over such articles would hold every other reader up for about a second.
LOAD_INLINE_BYTES = 128 * 1024
#: Records reported as odd are remembered (to log each once) up to this many, then forgotten.
_REPORTED_MAX = 1024


@dataclass(frozen=True)
class SaveResult:
    """The outcome of saving an article: its id, and whether it is new."""

    article: Article
    created: bool

    @property
    def id(self) -> str:
        """The stored article's id."""
        article_id = self.article.id
        if article_id is None:  # save() always assigns one; a hand-built result may not
            raise ValueError("this SaveResult's article has no id")
        return article_id


def _known_fields(data: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The article's fields (and its sections' fields) this version knows, and the others."""
    unknown = {name for name in data if name not in Article.model_fields}
    known = {name: value for name, value in data.items() if name in Article.model_fields}
    sections = known.get("sections")
    if isinstance(sections, list):
        cleaned: list[object] = []
        for section in sections:
            if isinstance(section, dict):
                extra = {n for n in section if n not in Section.model_fields}
                unknown |= {f"sections.{n}" for n in extra}
                section = {n: v for n, v in section.items() if n not in extra}
            cleaned.append(section)
        known["sections"] = cleaned
    return known, unknown


def text_chars(article: Article) -> int:
    """Characters of the article's title and text (what indexing it costs grows with)."""
    return len(article.title) + sum(
        len(s.heading or "") + sum(len(p) for p in s.paragraphs) for s in article.sections
    )


def index_terms(article: Article) -> tuple[str, list[str]]:
    """The article's content fingerprint and its search tokens (pure, CPU-bound)."""
    text = "\n".join([article.title, *(s.heading or "" for s in article.sections)])
    tokens = search_tokens(text + "\n" + "\n".join(article.paragraphs()))
    return article.content_fingerprint(), tokens


def _past_article(raw: str | bytes) -> bytes:
    """The article record inside a stored past version (``{"article": {...}, ...}``)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return b""
    inner = data.get("article") if isinstance(data, dict) else None
    return json.dumps(inner).encode() if isinstance(inner, dict) else b""


def _candidate_ids(seed: str) -> list[str]:
    """Short URL-safe ids derived from a hash: stable for the same article, longer on collision."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(seed.encode("utf-8")).digest()).decode()
    digest = digest.rstrip("=")
    return [digest[:n] for n in range(ID_LENGTH, MAX_ID_LENGTH + 1)]


class ArticleStore:
    """Stores articles and answers "latest", "get", "search" and "delete"."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._save = redis.register_script(_SAVE_SCRIPT)
        self._delete = redis.register_script(_DELETE_SCRIPT)
        self._reported: set[str] = set()

    async def save(
        self, article: Article, *, alert_wanted: bool = False, now: float | None = None
    ) -> SaveResult:
        """Store an article once; a repeat (same URL, or same title and body) returns the first.

        ``alert_wanted`` is remembered only when the article is created, so a later repeat
        knows whether the first ingestion meant to alert (a feed's silent first poll did not).
        """
        if text_chars(article) <= LOAD_INLINE_BYTES:
            fingerprint, tokens = index_terms(article)
        else:  # a large article: hashing and tokenising it take CPU seconds per MB
            fingerprint, tokens = await asyncio.to_thread(index_terms, article)
        url = article.url or ""
        score = article.published_at.timestamp() if article.published_at else (now or time.time())
        seeds = [article.id] if article.id else _candidate_ids(url or fingerprint)
        for candidate in seeds:
            stored = article.model_copy(update={"id": candidate})
            status, article_id = await self._save(
                keys=[
                    self._keys.article(candidate),
                    self._keys.articles_by_time,
                    self._keys.articles_by_url,
                    self._keys.articles_by_content,
                    self._keys.article_tokens(candidate),
                    self._keys.stats,
                    self._keys.articles_alert_wanted,
                ],
                args=[
                    candidate,
                    stored.model_dump_json(),
                    score,
                    url,
                    fingerprint,
                    self._keys.search_token(""),
                    "1" if alert_wanted else "0",
                    StatField.ARTICLES_INGESTED.value,
                    *tokens,
                ],
            )
            if status == 1:
                return SaveResult(stored, created=True)
            if status == 0:
                existing = await self.get(str(article_id))
                if existing is not None:
                    return SaveResult(existing, created=False)
            if article.id:
                raise ValueError(f"article id {article.id!r} is already used by another article")
        raise RuntimeError("could not find a free article id")  # 2**42 collisions: not in practice

    async def ids_by_url(self, urls: list[str]) -> dict[str, str]:
        """The ids of the articles stored with these source URLs (unknown URLs left out)."""
        if not urls:
            return {}
        found = await self._redis.hmget(self._keys.articles_by_url, urls)
        return {
            url: raw.decode() if isinstance(raw, bytes) else str(raw)
            for url, raw in zip(urls, found, strict=True)
            if raw is not None
        }

    async def alert_wanted(self, article_id: str) -> bool:
        """Whether the article was first ingested with an alert wanted."""
        return bool(await self._redis.sismember(self._keys.articles_alert_wanted, article_id))

    async def get(self, article_id: str) -> Article | None:
        """The article with this id, or ``None`` (also when its record cannot be read)."""
        found = await self.get_versioned(article_id)
        return found[0] if found is not None else None

    async def get_versioned(self, article_id: str) -> tuple[Article, str] | None:
        """The article and a version tag (a hash of its stored record), or ``None``.

        The tag changes whenever the record does (an article deleted and posted again under
        the same id), so what is derived from an article can be cached under (id, tag).
        """
        raw = await self._redis.get(self._keys.article(article_id))
        if not raw:
            return None
        data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        [article] = await self._load_all([(article_id, data)])
        if article is None:
            return None
        return article, hashlib.blake2b(data, digest_size=12).hexdigest()

    async def get_many(self, article_ids: list[str]) -> list[Article]:
        """The readable articles with these ids that still exist, in the given order."""
        if not article_ids:
            return []
        raws = await self._redis.mget([self._keys.article(i) for i in article_ids])
        pairs = [(i, raw) for i, raw in zip(article_ids, raws, strict=True) if raw]
        loaded = await self._load_all(pairs)
        return [article for article in loaded if article is not None]

    async def _load_all(self, pairs: list[tuple[str, str | bytes]]) -> list[Article | None]:
        """:meth:`_load` each record; in a thread when they are large (CPU off the loop)."""

        def load() -> list[Article | None]:
            return [self._load(article_id, raw) for article_id, raw in pairs]

        if sum(len(raw) for _, raw in pairs) <= LOAD_INLINE_BYTES:
            return load()
        return await asyncio.to_thread(load)

    async def load(self, article_id: str, raw: bytes) -> Article | None:
        """A stored record (read by another part of the store) as an ``Article``, or ``None``."""
        [article] = await self._load_all([(article_id, raw)])
        return article

    def _load(self, article_id: str, raw: str | bytes) -> Article | None:
        """A stored record as an ``Article``: fields this version does not know are dropped.

        Stored records outlive the code that wrote them (a rollback, a newer version sharing
        the Redis), so unlike incoming articles they are read leniently; a record that still
        does not validate counts as missing rather than breaking every reader of the list.
        """
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            known, unknown = _known_fields(data)
            article = Article.model_validate(known)
        except ValueError as exc:  # bad JSON, or a ValidationError (a ValueError too)
            if self._first_report(article_id):
                why = (
                    f"{exc.error_count()} invalid field(s)"
                    if isinstance(exc, ValidationError)
                    else type(exc).__name__
                )
                logger.error("article %s: stored record unreadable (%s); skipped", article_id, why)
            return None
        if unknown and self._first_report(article_id):
            logger.warning(
                "article %s: stored record has fields this version ignores: %s",
                article_id,
                ", ".join(sorted(unknown)),
            )
        return article

    def _first_report(self, article_id: str) -> bool:
        """Whether this record's oddity is reported for the first time by this process."""
        if article_id in self._reported:
            return False
        if len(self._reported) >= _REPORTED_MAX:
            self._reported.clear()
        self._reported.add(article_id)
        return True

    async def latest(self, limit: int = 5, *, offset: int = 0) -> list[Article]:
        """The newest articles first."""
        if limit <= 0:
            return []
        ids = await self._redis.zrevrange(self._keys.articles_by_time, offset, offset + limit - 1)
        return await self.get_many([str(i) for i in ids])

    async def count(self) -> int:
        """How many articles are stored."""
        return int(await self._redis.zcard(self._keys.articles_by_time))

    async def delete(self, article_id: str) -> bool:
        """Remove an article and its indexes; ``False`` when it did not exist."""
        article = await self.get(article_id)
        if article is None:
            return False
        # Corrections leave the fingerprints and URLs of earlier versions naming the article
        # (a repeat of the first version finds it): they go with it.
        past: list[str] = []
        for raw in await self._redis.lrange(self._keys.article_versions(article_id), 0, -1):
            inner = _past_article(raw)
            old = self._load(article_id, inner) if inner else None
            if old is not None:
                past += [old.content_fingerprint(), old.url or ""]
        removed = await self._delete(
            keys=[
                self._keys.article(article_id),
                self._keys.articles_by_time,
                self._keys.articles_by_url,
                self._keys.articles_by_content,
                self._keys.article_tokens(article_id),
                self._keys.articles_alert_wanted,
                self._keys.article_story(article_id),
                self._keys.article_versions(article_id),
            ],
            args=[
                article_id,
                article.url or "",
                article.content_fingerprint(),
                self._keys.search_token(""),
                *past,
            ],
        )
        return bool(removed)

    async def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[Article]:
        """Articles containing every word of the query (spelling variants folded), newest first.

        Redis intersects and ranks (one transaction, scratch keys deleted in it) and returns at
        most ``limit`` ids: a common word matches most articles, and moving all their ids into
        the bot to intersect and sort them there cost CPU on the event loop per search.
        """
        variants = [v for v in (search_tokens(w) for w in query.split() if w.strip()) if v]
        if not variants or limit <= 0:
            return []
        nonce = uuid.uuid4().hex
        scratch = [self._keys.search_scratch(nonce, i) for i in range(len(variants) + 1)]
        ranked_key, word_keys = scratch[0], scratch[1:]
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, forms in zip(word_keys, variants, strict=True):
                pipe.sunionstore(key, [self._keys.search_token(v) for v in forms])
            # A set member scores 1 times its weight 0: the rank is the publication time alone.
            weights = {self._keys.articles_by_time: 1.0, **dict.fromkeys(word_keys, 0.0)}
            pipe.zinterstore(ranked_key, weights, aggregate="SUM")
            pipe.zrevrange(ranked_key, 0, limit - 1)
            pipe.delete(*scratch)
            results = await pipe.execute()
        ids = [str(i) for i in results[-2]]
        return await self.get_many(ids)
