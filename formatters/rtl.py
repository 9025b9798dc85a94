"""Right-to-left safety: make Arabic lines render RTL even when they start with Latin or digits.

Telegram clients choose each paragraph's direction from its first strong character (Unicode
bidi rule P2/P3). An Arabic paragraph that opens with ``CNN``, ``2024`` or a quotation would be
laid out left-to-right, scrambling the sentence; a leading RIGHT-TO-LEFT MARK fixes it without
touching the words.

Policy (one line = one paragraph for Telegram):

* a line that contains Arabic/Hebrew (RTL) letters but whose first strong character is not RTL
  gets an RLM; so does one that opens with a number (``2024 ...``): the bidi algorithm skips
  digits, but renderers that guess direction from the first non-neutral character do not, and
  the mark costs one unit and changes nothing where it is not needed;
* a line with no strong character at all (digits, punctuation, emoji) gets an RLM when the
  surrounding text is RTL, so it aligns with its neighbours;
* a purely Latin line (strong LTR letters and no RTL letters) stays LTR: forcing English
  sentences RTL would move their final punctuation to the wrong end.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

#: U+200F RIGHT-TO-LEFT MARK: an invisible strong RTL character (1 UTF-16 unit).
RLM = "\u200f"

_RTL_CLASSES = frozenset({"R", "AL"})
_LTR_CLASSES = frozenset({"L"})
_LTR_OR_NUMBER_CLASSES = frozenset({"L", "EN", "AN"})
_ISOLATE_OPENERS = frozenset({"LRI", "RLI", "FSI"})
_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>")


class Direction(Enum):
    """The direction of a strong bidi character."""

    LTR = "ltr"
    RTL = "rtl"


def _first_direction(text: str, ltr_classes: frozenset[str]) -> Direction | None:
    """Direction of the first RTL letter or ``ltr_classes`` character outside isolates."""
    depth = 0
    for char in text:
        bidi = unicodedata.bidirectional(char)
        if bidi in _ISOLATE_OPENERS:
            depth += 1
        elif bidi == "PDI":
            depth = max(0, depth - 1)
        elif depth:
            continue
        elif bidi in _RTL_CLASSES:
            return Direction.RTL
        elif bidi in ltr_classes:
            return Direction.LTR
    return None


def first_strong(text: str) -> Direction | None:
    """Direction of the first strong character (isolates skipped); ``None`` if there is none."""
    return _first_direction(text, _LTR_CLASSES)


def leading_direction(text: str) -> Direction | None:
    """Like :func:`first_strong`, but a number met first counts as LTR (see module docstring)."""
    return _first_direction(text, _LTR_OR_NUMBER_CLASSES)


def contains_rtl(text: str) -> bool:
    """Whether the text has any right-to-left letter (Arabic, Hebrew, Thaana, Syriac ...)."""
    return any(unicodedata.bidirectional(ch) in _RTL_CLASSES for ch in text)


def line_is_rtl(line: str, *, default_rtl: bool) -> bool:
    """Whether a line is RTL: it has RTL letters, or no strong letter in RTL surroundings."""
    return contains_rtl(line) or (default_rtl and first_strong(line) is None)


def needs_rlm(line: str, *, rtl: bool) -> bool:
    """Whether ``line``, whose paragraph is RTL (``rtl``) or not, needs a leading RLM."""
    return rtl and leading_direction(line) is not Direction.RTL


def rtl_line(line: str, *, default_rtl: bool = True) -> str:
    """``line`` with an RLM prepended when it is an RTL line that would otherwise render LTR.

    ``line`` may be plain text or one line of Telegram HTML: tags are ignored when deciding.
    """
    text = _TAG_RE.sub("", line)
    rtl = line_is_rtl(text, default_rtl=default_rtl)
    return RLM + line if needs_rlm(text, rtl=rtl) else line
