"""One feedparser entry → one Article: key, title, clean body paragraphs, link, date, source."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bot.ingest.html_text import html_to_inline, html_to_paragraphs, text_to_paragraphs
from bot.models import Article, not_in_future
from bot.parser import ParseError, parse_text
from bot.textclean import normalize_inline

_HTTP_URL_RE = re.compile(r"^https?://[^\s/]+")

#: WordPress appends "The post <title> appeared first on <site>." to every feed summary.
_WORDPRESS_FOOTER_RE = re.compile(r"\s*The post .{1,400}? appeared first on .{1,200}$", re.S)

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def entry_key(entry: Mapping[str, object]) -> str | None:
    """The identity of an entry within its feed: guid/id, else link, else a hash of the title."""
    for field in ("id", "link"):
        value = entry.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    title = entry.get("title")
    if isinstance(title, str) and title.strip():
        digest = hashlib.sha256(" ".join(title.split()).encode("utf-8")).hexdigest()[:24]
        return f"title:{digest}"
    return None


def entry_url(entry: Mapping[str, object]) -> str | None:
    """The entry's link when it is an http(s) URL (the article's ``url``), else ``None``."""
    link = entry.get("link")
    if isinstance(link, str) and _HTTP_URL_RE.match(link.strip()):
        return normalize_inline(link) or None  # decoded once, as the parser stores a URL
    return None


def entry_digest(entry: Mapping[str, object]) -> str:
    """A digest of what the entry says (title, text, link): it changes when the item is edited.

    Taken over the raw fields, so it is cheap for every entry of every poll; a change of markup
    alone changes it too, and then the correction finds nothing changed in the article.
    """
    content = entry.get("content")
    values = (
        [item.get("value") for item in content if isinstance(item, Mapping)]
        if isinstance(content, Sequence)
        else []
    )
    fields = [entry.get("title"), entry.get("summary"), values, entry.get("link")]
    raw = json.dumps([f if isinstance(f, str | list) else None for f in fields], ensure_ascii=False)
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def feed_source(feed: Mapping[str, object], feed_url: str) -> str:
    """A feed's display name: its own title, else the host of its URL."""
    title = feed.get("title")
    if isinstance(title, str):
        cleaned = html_to_inline(title) if _is_html(feed.get("title_detail")) else title
        cleaned = " ".join(cleaned.split())
        if cleaned:
            return cleaned
    host = urlsplit(feed_url).hostname or feed_url
    return host.removeprefix("www.")


def entry_published(entry: Mapping[str, object], *, now: float | None = None) -> datetime | None:
    """The entry's publication (else update) time in UTC; a future date is clamped to now."""
    for field in ("published_parsed", "updated_parsed"):
        value = entry.get(field)
        if isinstance(value, time.struct_time):
            try:
                when = datetime(*value[:6], tzinfo=UTC)
            except (ValueError, OverflowError):
                continue
            return not_in_future(when, now=now)
    return None


def entry_title(entry: Mapping[str, object]) -> str:
    """The entry's headline as one line of plain text (HTML titles de-tagged)."""
    title = entry.get("title")
    if not isinstance(title, str):
        return ""
    text = html_to_inline(title) if _is_html(entry.get("title_detail")) else title
    return " ".join(text.split())


def entry_paragraphs(entry: Mapping[str, object]) -> list[str]:
    """The entry's body as clean paragraphs: the richest of ``content`` and ``summary``."""
    candidates: list[tuple[str, bool]] = []
    content = entry.get("content")
    if isinstance(content, Sequence):
        for item in content:
            if isinstance(item, Mapping) and isinstance(item.get("value"), str):
                candidates.append((item["value"], _is_html(item)))
    summary = entry.get("summary")
    if isinstance(summary, str):
        candidates.append((summary, _is_html(entry.get("summary_detail"), default=True)))
    best: list[str] = []
    for value, is_html in candidates:
        paragraphs = html_to_paragraphs(value) if is_html else text_to_paragraphs(value)
        paragraphs = _drop_footer(paragraphs)
        if sum(map(len, paragraphs)) > sum(map(len, best)):
            best = paragraphs
    return best


def entry_to_article(entry: Mapping[str, object], *, source: str) -> Article:
    """Build the article of an entry; raises ``ParseError`` (e.g. ``no_body``) like any input.

    The text goes through the same parser as every other source ("headline, then one paragraph
    per line"), so breaking labels (``عاجل | ...``), entities, bidi controls and scraper residue
    are handled identically everywhere.
    """
    title = entry_title(entry)
    if not title:
        # Never let the first body line silently become the headline.
        raise ParseError("empty", "feed entry has no title", "عنصر الخلاصة بلا عنوان")
    # The feed's text is decoded already (XML, then HTML for HTML fields): its "&" are escaped
    # so the parser's own entity decoding gives them back as they are, and "&amp;quot;" in a
    # feed reads "&quot;" exactly as the same text posted to the API does, never a second '"'.
    text = "\n".join([title, *entry_paragraphs(entry)]).replace("&", "&amp;")
    url = entry_url(entry)
    return parse_text(
        text,
        url=url.replace("&", "&amp;") if url else None,
        source=source.replace("&", "&amp;"),
        published_at=entry_published(entry),
    )


def _is_html(detail: object, *, default: bool = False) -> bool:
    if isinstance(detail, Mapping):
        kind = detail.get("type")
        if isinstance(kind, str):
            return kind.lower() in _HTML_TYPES
    return default


def _drop_footer(paragraphs: list[str]) -> list[str]:
    """Remove the WordPress "The post … appeared first on …" footer from the last paragraph."""
    if not paragraphs:
        return paragraphs
    last = _WORDPRESS_FOOTER_RE.sub("", paragraphs[-1]).rstrip()
    return [*paragraphs[:-1], last] if last else paragraphs[:-1]
