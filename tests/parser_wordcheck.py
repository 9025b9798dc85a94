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


def _is_arabic_letter(ch: str) -> bool:
    return "\u0621" <= ch <= "\u064a"


def _is_vowel_mark(ch: str) -> bool:
    return "\u064b" <= ch <= "\u065f" or ch == "\u0670"


def text_words(text: str) -> list[str]:
    """The visible words of raw text, in order.

    A vowel mark typed at the start of a word («خطة َماي») counts with the word before it
    («خطةَ ماي»), where the parser puts it back (issue 12).
    """
    words: list[str] = []
    for token in html.unescape(text).split():
        word = _visible(token)
        if not word:
            continue
        marks = len(word) - len(word.lstrip("".join(filter(_is_vowel_mark, word))))
        if (
            marks
            and marks < len(word)
            and _is_arabic_letter(word[marks])
            and words
            and _is_arabic_letter(words[-1][-1])
        ):
            words[-1] += word[:marks]
            word = word[marks:]
        words.append(word)
    return words


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
