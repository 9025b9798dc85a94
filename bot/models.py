"""The data model shared by every part of newsbot: articles and subscribers."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: An article id: short enough for callback data (``a:<id>``) and ``/start a_<id>`` deep links.
ARTICLE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,16}$"
ARTICLE_ID_RE = re.compile(ARTICLE_ID_PATTERN)

ArticleId = Annotated[str, Field(pattern=ARTICLE_ID_PATTERN)]


def not_in_future(when: datetime, *, now: float | None = None) -> datetime:
    """A publication time no later than ``now`` (default: the clock); no zone is taken as UTC.

    Every source (feeds, API, CLI, /publish) clamps: a clock-skewed or mistyped future date
    (``9999-12-31``) would pin the article to the top of "latest" for good.
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return min(when, current)


class Section(BaseModel):
    """A run of paragraphs, optionally introduced by a heading (``None`` for the lead)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    heading: str | None = None
    paragraphs: list[str] = Field(default_factory=list)

    @field_validator("paragraphs")
    @classmethod
    def _no_blank_paragraphs(cls, value: list[str]) -> list[str]:
        if any(not p.strip() for p in value):
            raise ValueError("paragraphs must not be empty strings")
        return value


#: Why the parser left a piece of the source out of the article (see :mod:`bot.residue`).
ResidueReason = Literal[
    "furniture",
    "related_links",
    "wire_tail",
    "embedded_post",
    "author_links",
    "series_links",
    "teasers",
    "wire_tag",
]


class Residue(BaseModel):
    """Source text the parser dropped as not the article's: kept for editors, never shown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    reason: ResidueReason


class Article(BaseModel):
    """A news article as newsbot stores, formats and delivers it."""

    model_config = ConfigDict(extra="forbid")

    id: ArticleId | None = None
    title: str = Field(min_length=1)
    breaking: bool = False
    sections: list[Section] = Field(default_factory=list)
    url: str | None = None
    published_at: datetime | None = None
    source: str | None = None
    tags: list[str] = Field(default_factory=list)
    #: What the parser dropped from the source (other stories, embeds, page furniture), in
    #: source order: recorded so a newsroom sees, and can restore, what readers do not get.
    residue: list[Residue] = Field(default_factory=list)

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title must not be blank")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("url must be an http(s) URL")
        return value

    def paragraphs(self) -> list[str]:
        """All body paragraphs in reading order (headings excluded)."""
        return [p for s in self.sections for p in s.paragraphs]

    def has_body(self) -> bool:
        """Whether the article has any body text besides its headline."""
        return any(s.paragraphs or s.heading for s in self.sections)

    def lead(self) -> str:
        """The first body paragraph (empty for a headline-only flash)."""
        paragraphs = self.paragraphs()
        return paragraphs[0] if paragraphs else ""

    def content_fingerprint(self) -> str:
        """A hash of title and body text, identical for the same article ingested twice."""
        parts = [" ".join(self.title.split())]
        for section in self.sections:
            if section.heading:
                parts.append(" ".join(section.heading.split()))
            parts.extend(" ".join(p.split()) for p in section.paragraphs)
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


#: The longest update (its text, in characters): a development in the story, not a new article.
MAX_UPDATE_CHARS = 2000
#: The longest retraction reason.
MAX_REASON_CHARS = 500


class StoryUpdate(BaseModel):
    """One development of a story (``تحديث``), appended to the stored article."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: int = Field(ge=1)
    text: str = Field(min_length=1, max_length=MAX_UPDATE_CHARS)
    at: datetime
    by: str | None = None


class Retraction(BaseModel):
    """A withdrawn article: when, by whom and (optionally) why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str | None = Field(default=None, max_length=MAX_REASON_CHARS)
    at: datetime
    by: str | None = None


class PastVersion(BaseModel):
    """A version of an article that a correction replaced: what it said, who replaced it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    article: Article
    replaced_at: datetime
    replaced_by: str | None = None
    #: What the correction changed: ``title``, ``lead``, ``body``, ``url``, ``source``, ``tags``.
    changed: list[str] = Field(default_factory=list)


class StoryState(BaseModel):
    """What happened to a stored article after it was published: versions, updates, retraction.

    Kept beside the article (the article itself is only what the newsroom sent), so the model
    every source parses into stays the newsroom's content and nothing else.
    """

    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=1, ge=1)
    revised_at: datetime | None = None
    revised_by: str | None = None
    updates: list[StoryUpdate] = Field(default_factory=list)
    retraction: Retraction | None = None

    @property
    def retracted(self) -> bool:
        """Whether the article was withdrawn."""
        return self.retraction is not None


class Preference(StrEnum):
    """What a subscriber wants pushed: only breaking alerts, or every new article."""

    BREAKING = "breaking"
    ALL = "all"


class ChatKind(StrEnum):
    """The Telegram chat types newsbot can deliver to."""

    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"

    @property
    def is_group_like(self) -> bool:
        """Groups and channels share Telegram's 20-messages-per-minute limit."""
        return self is not ChatKind.PRIVATE


class SubscribeResult(StrEnum):
    """What subscribing a chat did: a new subscriber, one that came back, or no change."""

    NEW = "new"
    REACTIVATED = "reactivated"
    ALREADY = "already"


class Audience(StrEnum):
    """Who receives a push: everybody active (breaking), or those who want all news."""

    BREAKING = "breaking"
    ALL_NEWS = "all"


class Subscriber(BaseModel):
    """A chat that receives news from the bot."""

    model_config = ConfigDict(extra="forbid")

    chat_id: int
    kind: ChatKind = ChatKind.PRIVATE
    preference: Preference = Preference.BREAKING
    active: bool = True
    subscribed_at: datetime | None = None
    inactive_reason: str | None = None


class PendingChange(BaseModel):
    """An editor's correction, update or retraction from Telegram, waiting for «تأكيد».

    ``owner`` is the Telegram user who asked for it: only their press runs it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["correct", "update", "retract"]
    article_id: ArticleId
    owner: int
    #: The new version's text (correct), the update's text, or the retraction's reason.
    text: str | None = None
