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
from typing import Literal, Protocol

from bot.models import (
    MAX_REASON_CHARS,
    MAX_UPDATE_CHARS,
    Article,
    PendingChange,
    StoryState,
    StoryUpdate,
)
from bot.parser import ParseError
from bot.pipeline import parse_bytes_off_loop
from bot.store import Store, Taken
from bot.store.stories import StoryError, changed_fields, merged_version

logger = logging.getLogger(__name__)

#: Seconds an editor's confirmation button stays valid: long enough to reread the preview,
#: short enough that a forgotten one is not pressed by accident a day later.
CONFIRM_TTL_SECONDS = 600

ChangeKind = Literal["correct", "update", "retract"]


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


class AlertReached(Protocol):
    """How far an alert got (``bot.delivery.stories.AlertReach``)."""

    @property
    def chats(self) -> int:
        """The chats the alert reached so far."""

    @property
    def sending(self) -> bool:
        """Whether the alert is still being sent."""


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

    async def reach(self, alert_id: str) -> AlertReached | None:
        """The chats an alert reached so far; ``None`` when never alerted."""
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


@dataclass(frozen=True)
class Proposal:
    """A change held for the editor's confirmation, and what it will do.

    ``title`` is the headline now; ``new_title`` and ``changed`` describe a correction;
    ``reach`` is ``None`` when the article was never alerted (only the stored article changes).
    """

    token: str
    change: PendingChange
    title: str
    reach: AlertReached | None
    new_title: str | None = None
    changed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Confirmed:
    """A confirmed change and what the desk did with it."""

    change: PendingChange
    result: Correction | UpdatePosted | Retraction


@dataclass(frozen=True)
class Refused:
    """A confirmed change the desk could not make (retracted meanwhile, text refused...)."""

    change: PendingChange
    error: StoryError | ParseError


def _norm_lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


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

    # Changes asked for in Telegram, run on confirmation ---------------------------------------
    async def propose(
        self, kind: ChangeKind, article_id: str, text: str | None, *, owner: int
    ) -> Proposal:
        """Check a change and hold it for ``owner``'s confirmation; nothing changes yet.

        Raises ``StoryError`` (``not_found``, ``retracted``, ``empty``, ``too_long``,
        ``unchanged``) or ``ParseError`` (a new version the parser refuses).
        """
        view = await self._store.stories.view(article_id)
        if view is None:
            raise StoryError("not_found", f"no article with id {article_id!r}")
        if view.story.retracted:
            raise StoryError("retracted", f"article {article_id!r} was retracted")
        text = _norm_lines(text or "")
        new_title: str | None = None
        changed: list[str] = []
        if kind == "correct":
            if not text:
                raise StoryError("empty", "the correction has no text")
            new = await parse_bytes_off_loop(
                text.encode("utf-8"), max_bytes=self._max_bytes, breaking=view.article.breaking
            )
            changed = changed_fields(view.article, merged_version(view.article, new))
            if not changed:
                raise StoryError("unchanged", "the new version says what the article says")
            new_title = new.title
        elif kind == "update":
            if not text:
                raise StoryError("empty", "the update has no text")
            if len(text) > MAX_UPDATE_CHARS:
                raise StoryError("too_long", f"the update is longer than {MAX_UPDATE_CHARS}")
        elif len(" ".join(text.split())) > MAX_REASON_CHARS:
            raise StoryError("too_long", f"the reason is longer than {MAX_REASON_CHARS}")
        reach = await self._publisher.reach(article_id)
        change = PendingChange(kind=kind, article_id=article_id, owner=owner, text=text or None)
        token = await self._store.pending.hold(change, CONFIRM_TTL_SECONDS)
        logger.info("%s of article %s held for editor %s", kind, article_id, owner)
        return Proposal(token, change, view.article.title, reach, new_title, changed)

    async def confirm(self, token: str, user_id: int) -> Confirmed | Refused | Taken:
        """Run the change behind ``token`` if ``user_id`` asked for it; at most once."""
        change = await self._store.pending.take(token, user_id)
        if isinstance(change, Taken):
            return change
        by = f"telegram:{user_id}"
        result: Correction | UpdatePosted | Retraction
        try:
            if change.kind == "correct":
                data = (change.text or "").encode("utf-8")
                result = await self.correct_bytes(change.article_id, data, by=by)
            elif change.kind == "update":
                result = await self.update(change.article_id, change.text or "", by=by)
            else:
                result = await self.retract(change.article_id, change.text, by=by)
        except (StoryError, ParseError) as exc:
            # Something changed since the preview (retracted meanwhile...): say so, run nothing.
            logger.info("confirmed %s of %s refused: %s", change.kind, change.article_id, exc)
            return Refused(change, exc)
        return Confirmed(change, result)

    async def cancel(self, token: str, user_id: int) -> PendingChange | Taken:
        """Drop the change behind ``token`` (its owner only) without running it."""
        change = await self._store.pending.take(token, user_id)
        if not isinstance(change, Taken):
            logger.info("%s of article %s cancelled", change.kind, change.article_id)
        return change
