"""An independent word oracle for parser tests: what counts as "the same words" in and out.

Deliberately not built on bot.textclean: it decodes entities with html.unescape, splits on any
Unicode whitespace and ignores invisible format characters (bidi controls, LRM, ZWJ, ZWSP).
"""

from __future__ import annotations

import html
import unicodedata

from bot.models import Article


def _visible(token: str) -> str:
    return "".join(ch for ch in token if unicodedata.category(ch) not in ("Cf", "Cc"))


def text_words(text: str) -> list[str]:
    """The visible words of raw text, in order."""
    words = (_visible(token) for token in html.unescape(text).split())
    return [word for word in words if word]


def line_words(text: str) -> list[list[str]]:
    """The visible words of each non-blank line of raw text."""
    lines = (text_words(line) for line in html.unescape(text).splitlines())
    return [words for words in lines if words]


def article_texts(article: Article) -> list[str]:
    """Title, then every heading and paragraph in reading order."""
    out = [article.title]
    for section in article.sections:
        if section.heading is not None:
            out.append(section.heading)
        out.extend(section.paragraphs)
    return out


def article_words(article: Article) -> list[str]:
    """The visible words of title, headings and paragraphs, in reading order."""
    return [word for text in article_texts(article) for word in text_words(text)]
