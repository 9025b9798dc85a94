"""The newsroom's changes to published articles: corrections, updates and retractions.

Every entry point (the HTTP API, the CLI, the editors' Telegram commands, the feed poller) goes
through ``StoryDesk``: the store keeps the new version, the update or the retraction (and the
past versions), then the delivery engine queues the edits or replies to every chat the alert
reached. Both steps are idempotent by content, so repeating a request after a crash between
them completes the hand-over instead of doing anything twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from bot.models import Article, StoryState, StoryUpdate
from bot.pipeline import parse_bytes_off_loop
from bot.store import Store
from bot.store.stories import StoryError

logger = logging.getLogger(__name__)


class QueuedAction(Protocol):
    """What the delivery engine queued for a change (``bot.delivery.stories.ActionQueued``)."""

    @property
    def alerted(self) -> bool:
        """Whether the article was alerted at all (otherwise only the store changes)."""

    @property
    def action_id(self) -> str | None:
        """The queued action, or ``None`` when nothing new was queued."""

    @property
    def chats(self) -> int:
        """How many chats the alert had reached when the action was queued."""


class StoryPublisher(Protocol):
    """The delivery engine's side (``bot.delivery.stories.DeliveryStories``)."""

    async def correct(self, article: Article) -> QueuedAction:
        """Queue the edit of every delivered alert to the article's newest text."""
        ...

    async def retract(self, article_id: str, reason: str | None) -> QueuedAction:
        """Queue the edit of every delivered alert to the retraction notice."""
        ...

    async def update(self, article: Article, update: StoryUpdate) -> QueuedAction:
        """Queue an update as a reply under every delivered alert."""
        ...


@dataclass(frozen=True)
class Correction:
    """A correction's result: the article's version now, what changed, the edits queued."""

    article: Article
    story: StoryState
    changed: list[str]
    edits_queued: int
    action_id: str | None = None

    @property
    def id(self) -> str:
        """The article id."""
        return self.article.id or ""


@dataclass(frozen=True)
class UpdatePosted:
    """An update's result: the update (new, or the same text found) and the replies queued."""

    article: Article
    update: StoryUpdate
    created: bool
    queued: int
    action_id: str | None = None


@dataclass(frozen=True)
class Retraction:
    """A retraction's result: made now or already in place, and the edits queued."""

    article: Article
    story: StoryState
    created: bool
    edits_queued: int
    action_id: str | None = None
    notes: list[str] = field(default_factory=list)


class StoryDesk:
    """Corrections, updates and retractions: the store first, then the delivery engine."""

    def __init__(self, store: Store, publisher: StoryPublisher, *, max_bytes: int) -> None:
        self._store = store
        self._publisher = publisher
        self._max_bytes = max_bytes

    async def correct_bytes(
        self, article_id: str, data: bytes, *, content_type: str | None = None, by: str | None
    ) -> Correction:
        """Parse a new version (text or JSON, as for ingestion) and :meth:`correct` with it.

        Raises ``ParseError`` for bad input and ``StoryError`` (``not_found``...) before
        anything changes.
        """
        state = await self._store.stories.view(article_id)
        if state is None:
            raise StoryError("not_found", f"no article with id {article_id!r}")
        # A correction of a flash keeps it a flash: the breaking flag is the stored one.
        article = await parse_bytes_off_loop(
            data,
            max_bytes=self._max_bytes,
            content_type=content_type,
            breaking=state.article.breaking,
        )
        return await self.correct(article_id, article, by=by)

    async def correct(self, article_id: str, article: Article, *, by: str | None) -> Correction:
        """Store the new version of an article and edit every alert that went out."""
        revision = await self._store.stories.revise(article_id, article, by=by)
        if not revision.changed and revision.story.version == 1:
            # Never corrected and nothing changed (the first version again, or a feed item
            # whose markup alone changed): an edit would mark the unchanged alert «تصحيح».
            return Correction(revision.article, revision.story, [], 0)
        # Run even when nothing changed in the store: a repeat after a crash between the two
        # steps queues the edits then (the engine compares the text, so nothing is sent twice).
        queued = await self._publisher.correct(revision.article)
        edits = queued.chats if queued.action_id else 0
        return Correction(
            revision.article, revision.story, revision.changed, edits, queued.action_id
        )

    async def update(self, article_id: str, text: str, *, by: str | None) -> UpdatePosted:
        """Append an update to the story and reply it under every alert that went out."""
        added = await self._store.stories.add_update(article_id, text, by=by)
        queued = await self._publisher.update(added.article, added.update)
        replies = queued.chats if queued.action_id else 0
        return UpdatePosted(added.article, added.update, added.created, replies, queued.action_id)

    async def retract(self, article_id: str, reason: str | None, *, by: str | None) -> Retraction:
        """Withdraw an article and edit every alert that went out to the retraction notice."""
        done = await self._store.stories.retract(article_id, reason, by=by)
        assert done.story.retraction is not None
        queued = await self._publisher.retract(article_id, done.story.retraction.reason)
        edits = queued.chats if queued.action_id else 0
        return Retraction(done.article, done.story, done.created, edits, queued.action_id)
