"""Split body lines into sections: detect the short heading lines that introduce paragraphs.

Input is one paragraph per line (no markup), so headings are recognised by shape alone, and
conservatively; a line that is not taken as a heading stays a paragraph, so nothing is lost.

A line is a heading *candidate* when it is short (at most 8 words and 80 characters), has a
letter, does not end like a sentence (``. ! ? ؟ … : ؛ ، ; ,``) unless it is one question that
opens with an interrogative («ماذا نعرف عن جزيرة سقطرى؟»), contains no label colon
("السعة: 81", "يحمي من: ..."; a colon between digits as in "1:14" is fine), and does not open
with a quotation mark or a list bullet, nor consist only of hashtags, mentions or links.

A candidate is a heading when the next line is a paragraph for it: either a line that could not
be a heading itself, or a clearly longer one (more words, and at least 1.5 times as many). The
line after a heading is always a paragraph, so two headings never follow each other and a
trailing short line is never a heading. Lines before the first heading form the lead section.
"""

from __future__ import annotations

import math
import re

from bot.models import Section

MAX_HEADING_WORDS = 8
MAX_HEADING_CHARS = 80
_SENTENCE_END = tuple(".!?؟…:؛،;,‽")
_CLOSERS = "\"'»”’)]}›"
_OPENERS = tuple("\"'«“„‘‹-–—•*▪●·>")
_LABEL_COLON_RE = re.compile(r"[:：](?!\d)|(?<!\d)[:：]")
_LINK_RE = re.compile(r"https?://|www\.", re.IGNORECASE)


def word_count(line: str) -> int:
    """Number of words: whitespace-separated tokens with at least one letter or digit."""
    return sum(1 for token in line.split() if any(ch.isalnum() for ch in token))


#: Interrogatives a question crosshead opens with («ماذا نعرف عن جزيرة سقطرى؟»).
_QUESTION_WORDS = frozenset(
    {"ماذا", "ما", "من", "كيف", "لماذا", "لم", "هل", "متى", "أين", "كم", "أي", "بماذا", "لمن"}
)
_TASHKEEL_RE = re.compile("[\u064b-\u065f\u0670\u0640]")


def _is_question_crosshead(line: str) -> bool:
    """A one-question line opening with an interrogative: a crosshead, not running text.

    A question inside the text («لكن ما الفائدة إذن …؟») opens with a connective and stays a
    paragraph; only one question mark, at the end.
    """
    core = line.rstrip(_CLOSERS)
    if not core.endswith(("؟", "?")) or core[:-1].count("؟") + core[:-1].count("?"):
        return False
    first = _TASHKEEL_RE.sub("", line.split()[0])
    return first in _QUESTION_WORDS


def is_heading_candidate(line: str) -> bool:
    """Whether ``line`` has the shape of a section heading (see the module docstring)."""
    words = word_count(line)
    if not 1 <= words <= MAX_HEADING_WORDS or len(line) > MAX_HEADING_CHARS:
        return False
    if not any(ch.isalpha() for ch in line) or line.startswith(_OPENERS):
        return False
    if _LABEL_COLON_RE.search(line):
        return False
    if line.rstrip(_CLOSERS).endswith(_SENTENCE_END) and not _is_question_crosshead(line):
        return False
    if _LINK_RE.search(line):
        return False
    tokens = [t for t in line.split() if any(ch.isalnum() for ch in t)]
    return not all(t.startswith(("#", "@")) for t in tokens)


def _introduces(heading: str, following: str) -> bool:
    """Whether ``following`` reads as a paragraph under ``heading`` rather than a peer line."""
    if not is_heading_candidate(following):
        return True
    heading_words = word_count(heading)
    following_words = word_count(following)
    return following_words > heading_words and following_words >= math.ceil(1.5 * heading_words)


def build_sections(lines: list[str]) -> list[Section]:
    """Group body lines (already cleaned, residue removed) into lead + headed sections."""
    sections: list[Section] = []
    heading: str | None = None
    paragraphs: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else None
        if following is not None and is_heading_candidate(line) and _introduces(line, following):
            if heading is not None or paragraphs:
                sections.append(Section(heading=heading, paragraphs=paragraphs))
            heading, paragraphs = line, [following]
            index += 2
            continue
        paragraphs.append(line)
        index += 1
    if heading is not None or paragraphs:
        sections.append(Section(heading=heading, paragraphs=paragraphs))
    return sections
