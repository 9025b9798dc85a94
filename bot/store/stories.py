"""Living stories in Redis: corrections (new versions), updates and retractions of articles.

The article record (``article:<id>``) stays the newsroom's content, now its newest version; what
happened to it since lives beside it: ``article:<id>:story`` (version number, who revised it
last, the updates, the retraction) and ``article:<id>:versions`` (the versions corrections
replaced, with who, when and what changed). Every change is one optimistic transaction
(``WATCH`` the article and its story, write both and the indexes in ``MULTI``), so two editors
correcting at once never lose a version, and each change is idempotent by content: the same
correction, update or retraction again changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from bot.models import (
    MAX_REASON_CHARS,
    MAX_UPDATE_CHARS,
    Article,
    PastVersion,
    Retraction,
    StoryState,
    StoryUpdate,
)
from bot.store.articles import LOAD_INLINE_BYTES, ArticleStore, index_terms, text_chars
from bot.store.keys import Keys

logger = logging.getLogger(__name__)

#: Attempts of one change when other writers keep changing the same article meanwhile.
_ATTEMPTS = 20


class StoryError(ValueError):
    """A change that cannot be made; ``code`` is stable (``not_found``, ``retracted``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ArticleView:
    """An article with its story state, and a tag that changes whenever either does."""

    article: Article
    story: StoryState
    tag: str


@dataclass(frozen=True)
class Revision:
    """What a correction did: the stored article now, and what changed (empty: nothing)."""

    article: Article
    story: StoryState
    changed: list[str]


@dataclass(frozen=True)
class UpdateAdded:
    """An update appended (``created``) or found already there (the same text again)."""

    article: Article
    story: StoryState
    update: StoryUpdate
    created: bool


@dataclass(frozen=True)
class Retracted:
    """A retraction made now (``created``) or already in place."""

    article: Article
    story: StoryState
    created: bool


def _norm(text: str) -> str:
    return " ".join(text.split())


def _body(article: Article) -> list[tuple[str, tuple[str, ...]]]:
    """The article's sections without its lead paragraph, whitespace folded."""
    out: list[tuple[str, tuple[str, ...]]] = []
    skipped_lead = False
    for section in article.sections:
        paragraphs = [_norm(p) for p in section.paragraphs]
        if not skipped_lead and paragraphs:
            paragraphs = paragraphs[1:]
            skipped_lead = True
        out.append((_norm(section.heading or ""), tuple(paragraphs)))
    return [s for s in out if s[0] or s[1]]


def changed_fields(old: Article, new: Article) -> list[str]:
    """What a new version changes: ``title``, ``lead``, ``body``, ``url``, ``source``, ``tags``."""
    changed: list[str] = []
    if _norm(old.title) != _norm(new.title):
        changed.append("title")
    if _norm(old.lead()) != _norm(new.lead()):
        changed.append("lead")
    if _body(old) != _body(new):
        changed.append("body")
    for name in ("url", "source", "tags"):
        if getattr(old, name) != getattr(new, name):
            changed.append(name)
    return changed


def merged_version(old: Article, new: Article) -> Article:
    """The next version: the new title and text; what the new one leaves out is kept.

    The id, the breaking flag (the alert went out as what it was) and the publication time
    stay; url, source and tags change only when the new version gives them.
    """
    return old.model_copy(
        update={
            "title": new.title,
            "sections": list(new.sections),
            "url": new.url or old.url,
            "source": new.source or old.source,
            "tags": list(new.tags) if new.tags else list(old.tags),
        }
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _tag(article_raw: bytes, story_raw: bytes | None) -> str:
    digest = hashlib.blake2b(article_raw, digest_size=12)
    if story_raw:
        digest.update(b"\x00")
        digest.update(story_raw)
    return digest.hexdigest()


def _raw(value: object) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value) if isinstance(value, bytes | bytearray | memoryview) else None


class StoryStore:
    """Versions, updates and retractions of stored articles."""

    def __init__(self, redis: Redis, keys: Keys, articles: ArticleStore) -> None:
        self._redis = redis
        self._keys = keys
        self._articles = articles
        self._reported: set[str] = set()

    # Reading ---------------------------------------------------------------------------------
    async def view(self, article_id: str) -> ArticleView | None:
        """The article, its story state and a version tag; ``None`` when unknown or unreadable."""
        keys = self._keys
        raw_article, raw_story = await self._redis.mget(
            [keys.article(article_id), keys.article_story(article_id)]
        )
        article_bytes = _raw(raw_article)
        if not article_bytes:
            return None
        article = await self._articles.load(article_id, article_bytes)
        if article is None:
            return None
        story_bytes = _raw(raw_story)
        return ArticleView(
            article, self._story(article_id, story_bytes), _tag(article_bytes, story_bytes)
        )

    async def state(self, article_id: str) -> StoryState:
        """The story state of an article (the default one when nothing happened to it)."""
        return self._story(
            article_id, _raw(await self._redis.get(self._keys.article_story(article_id)))
        )

    async def versions(self, article_id: str) -> list[PastVersion]:
        """The versions corrections replaced, oldest first (unreadable entries left out)."""
        raws = await self._redis.lrange(self._keys.article_versions(article_id), 0, -1)
        out: list[PastVersion] = []
        for raw in raws:
            try:
                out.append(PastVersion.model_validate_json(raw))
            except ValidationError:
                logger.warning("article %s: a past version is unreadable; left out", article_id)
        return out

    def _story(self, article_id: str, raw: bytes | None) -> StoryState:
        if not raw:
            return StoryState()
        try:
            return StoryState.model_validate_json(raw)
        except ValidationError:
            if article_id not in self._reported:
                self._reported.add(article_id)
                logger.error("article %s: story record unreadable; shown as unchanged", article_id)
            return StoryState()

    # Changing --------------------------------------------------------------------------------
    async def revise(self, article_id: str, new: Article, *, by: str | None) -> Revision:
        """Store ``new`` as the next version of the article (same id); idempotent by content.

        Raises ``StoryError`` (``not_found``, ``retracted``, ``id_mismatch``).
        """
        if new.id not in (None, article_id):
            raise StoryError(
                "id_mismatch", f"the new version names article {new.id!r}, not {article_id!r}"
            )

        async def change(pipe: Pipeline, article: Article, story: StoryState) -> Revision | None:
            if story.retracted:
                raise StoryError("retracted", f"article {article_id!r} was retracted")
            merged = merged_version(article, new)
            changed = changed_fields(article, merged)
            if not changed:
                return None
            now = _now()
            past = PastVersion(
                version=story.version,
                article=article,
                replaced_at=now,
                replaced_by=by,
                changed=changed,
            )
            story = story.model_copy(
                update={"version": story.version + 1, "revised_at": now, "revised_by": by}
            )
            old_tokens = await pipe.smembers(self._keys.article_tokens(article_id))
            fingerprint, tokens = await self._terms(merged)
            pipe.multi()  # type: ignore[no-untyped-call]
            self._write(pipe, article_id, merged, story)
            pipe.rpush(self._keys.article_versions(article_id), past.model_dump_json())
            # The older fingerprints and URL keep naming this article: the newsroom's system
            # posting the first version again (a retry) must find it, not create a new alert.
            pipe.hsetnx(self._keys.articles_by_content, fingerprint, article_id)
            if merged.url:
                pipe.hsetnx(self._keys.articles_by_url, merged.url, article_id)
            self._reindex(pipe, article_id, [str(t) for t in old_tokens], tokens)
            return Revision(merged, story, changed)

        done = await self._transaction(article_id, change)
        if isinstance(done, Revision):
            logger.info(
                "article %s corrected to version %d (%s) by %s",
                article_id,
                done.story.version,
                ", ".join(done.changed),
                by or "?",
            )
            return done
        view = await self._current(article_id)
        return Revision(view.article, view.story, [])

    async def add_update(self, article_id: str, text: str, *, by: str | None) -> UpdateAdded:
        """Append an update to the story; the same text again returns the existing one."""
        text = "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())
        if not text:
            raise StoryError("empty", "the update has no text")
        if len(text) > MAX_UPDATE_CHARS:
            raise StoryError(
                "too_long", f"the update is {len(text)} characters; at most {MAX_UPDATE_CHARS}"
            )

        async def change(pipe: Pipeline, article: Article, story: StoryState) -> UpdateAdded:
            if story.retracted:
                raise StoryError("retracted", f"article {article_id!r} was retracted")
            for existing in story.updates:
                if _norm(existing.text) == _norm(text):
                    return UpdateAdded(article, story, existing, created=False)
            update = StoryUpdate(number=len(story.updates) + 1, text=text, at=_now(), by=by)
            story = story.model_copy(update={"updates": [*story.updates, update]})
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.set(self._keys.article_story(article_id), story.model_dump_json())
            return UpdateAdded(article, story, update, created=True)

        result = await self._transaction(article_id, change)
        assert isinstance(result, UpdateAdded)
        if result.created:
            logger.info(
                "article %s: update %d added by %s", article_id, result.update.number, by or "?"
            )
        return result

    async def retract(self, article_id: str, reason: str | None, *, by: str | None) -> Retracted:
        """Withdraw an article: it leaves the latest list and the search; idempotent."""
        reason = _norm(reason or "") or None
        if reason is not None and len(reason) > MAX_REASON_CHARS:
            raise StoryError(
                "too_long", f"the reason is {len(reason)} characters; at most {MAX_REASON_CHARS}"
            )

        async def change(pipe: Pipeline, article: Article, story: StoryState) -> Retracted:
            if story.retracted:
                return Retracted(article, story, created=False)
            story = story.model_copy(
                update={"retraction": Retraction(reason=reason, at=_now(), by=by)}
            )
            old_tokens = await pipe.smembers(self._keys.article_tokens(article_id))
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.set(self._keys.article_story(article_id), story.model_dump_json())
            pipe.zrem(self._keys.articles_by_time, article_id)
            self._reindex(pipe, article_id, [str(t) for t in old_tokens], [])
            return Retracted(article, story, created=True)

        result = await self._transaction(article_id, change)
        assert isinstance(result, Retracted)
        if result.created:
            logger.info("article %s retracted by %s", article_id, by or "?")
        return result

    # Internals -------------------------------------------------------------------------------
    async def _transaction(self, article_id: str, change: Any) -> object:
        """Run ``change(pipe, article, story)`` under WATCH until it commits (or returns early)."""
        keys = self._keys
        watched = [keys.article(article_id), keys.article_story(article_id)]
        for _ in range(_ATTEMPTS):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(*watched, keys.article_tokens(article_id))
                    raw_article, raw_story = await pipe.mget(watched)
                    article_bytes = _raw(raw_article)
                    article = (
                        await self._articles.load(article_id, article_bytes)
                        if article_bytes
                        else None
                    )
                    if article is None:
                        raise StoryError("not_found", f"no article with id {article_id!r}")
                    story = self._story(article_id, _raw(raw_story))
                    result = await change(pipe, article, story)
                    if result is None or not pipe.explicit_transaction:
                        await pipe.unwatch()  # type: ignore[no-untyped-call]
                        return result
                    await pipe.execute()
                    return result
                except WatchError:
                    continue
        raise StoryError("busy", f"article {article_id!r} kept changing; try again")

    async def _current(self, article_id: str) -> ArticleView:
        view = await self.view(article_id)
        if view is None:
            raise StoryError("not_found", f"no article with id {article_id!r}")
        return view

    async def _terms(self, article: Article) -> tuple[str, list[str]]:
        if text_chars(article) <= LOAD_INLINE_BYTES:
            return index_terms(article)
        return await asyncio.to_thread(index_terms, article)

    def _write(self, pipe: Pipeline, article_id: str, article: Article, story: StoryState) -> None:
        pipe.set(self._keys.article(article_id), article.model_dump_json())
        pipe.set(self._keys.article_story(article_id), story.model_dump_json())

    def _reindex(self, pipe: Pipeline, article_id: str, old: list[str], new: list[str]) -> None:
        """Move the article from its old search tokens to ``new`` (none: out of the search)."""
        keys = self._keys
        for token in set(old) - set(new):
            pipe.srem(keys.search_token(token), article_id)
        for token in new:
            pipe.sadd(keys.search_token(token), article_id)
        pipe.delete(keys.article_tokens(article_id))
        if new:
            pipe.sadd(keys.article_tokens(article_id), *new)


def story_json(story: StoryState) -> dict[str, Any]:
    """A story state as the API shows it."""
    data: dict[str, Any] = json.loads(story.model_dump_json())
    return data
