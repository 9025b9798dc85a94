"""Recognise a leading breaking-news label (``عاجل|``, ``[عاجل]``, ``🔴 عاجل:`` ...) on a headline.

Rules (conservative, because a false positive pushes an alert to every subscriber):

* The label must start the headline, optionally after decoration (emoji, ``#``, brackets,
  quotes). "عاجل" later in the headline is never a label.
* It must be the whole word: ``عاجلة``, ``عاجلاً``, ``العاجل`` are the adjective, not a label.
* It must be set off from the headline by a separator (``|`` ``:`` ``-`` ``--`` ``..`` ``/`` a
  closing bracket, an emoji ...) or by decoration before it (``#عاجل``, ``🔴 عاجل``).
  ``عاجل`` followed directly by more words (``عاجل الرئيس يصل``, ``عاجل جدا ...``) is *not*
  treated as a label: it is ambiguous and the newsroom can force ``breaking=True`` instead.
* A headline that is nothing but a label (``عاجل``, ``🔴 عاجل:``) is a label with an empty rest;
  the parser then takes the next line as the headline.
* Tatweel inside the word (``عـاجل``) is accepted; so are ``خبر عاجل``, ``عاجل جداً``,
  ``أخبار عاجلة`` and the English ``BREAKING`` / ``BREAKING NEWS`` / ``URGENT``.
"""

from __future__ import annotations

import re
import unicodedata

_T = "\u0640*"  # tatweel, used to stretch the word in channel posts ("عـــاجل")
_AJIL = f"ع{_T}ا{_T}ج{_T}ل"
_TANWEEN = "[\u064b\u064c\u064d]?"

#: Longest first so that "عاجل جدا" wins over "عاجل".
_LABEL_RE = re.compile(
    "|".join(
        [
            rf"{_AJIL}\s+جد{_TANWEEN}ا{_TANWEEN}",
            rf"خبر\s+{_AJIL}",
            rf"[أا]خبار\s+{_AJIL}ة",
            _AJIL,
            r"breaking\s+news",
            r"breaking",
            r"urgent",
        ]
    ),
    re.IGNORECASE,
)

_QUOTES = frozenset("\"'")
_MAX_LABELS = 8
#: Characters that may decorate a label but never carry meaning of their own.
_VARIATION_MARKS = frozenset("\ufe0e\ufe0f\u20e3")


def _is_decoration(ch: str) -> bool:
    """Emoji, punctuation and symbols (not letters, digits or marks) before the label."""
    return unicodedata.category(ch)[0] in "PS" or ch in _VARIATION_MARKS


def _is_word_char(ch: str) -> bool:
    """Letters, digits and combining marks: what continues a word ("عاجل" + "ة" / "اً")."""
    return unicodedata.category(ch)[0] in "LNM" and ch not in _VARIATION_MARKS


def _is_separator(ch: str, *, quoted: bool) -> bool:
    """Whether ``ch`` may sit between the label and the headline proper."""
    category = unicodedata.category(ch)
    if ch in _QUOTES or category == "Pf":
        return quoted  # only the closing half of a quoted label: «عاجل» / "عاجل"
    if category in ("Pi", "Ps") or ch in "#@%&":
        return False  # an opening quote/bracket or a hashtag belongs to the headline
    return category[0] in "PS" or ch in _VARIATION_MARKS


def _strip_one(headline: str) -> str | None:
    """The headline without one leading label, or ``None`` when it does not start with one."""
    start = 0
    decorated = False
    quoted = False
    while start < len(headline) and not _is_word_char(headline[start]):
        ch = headline[start]
        if _is_decoration(ch):
            decorated = True
            quoted = quoted or ch in _QUOTES or unicodedata.category(ch) in ("Pi", "Ps")
        start += 1
    match = _LABEL_RE.match(headline, start)
    if match is None:
        return None
    end = match.end()
    if end < len(headline) and _is_word_char(headline[end]):
        return None  # "عاجلة", "عاجلاً", "breakingviews": the word goes on
    separated = False
    while end < len(headline):
        ch = headline[end]
        if ch.isspace() or unicodedata.category(ch) == "Cf":
            end += 1
        elif _is_separator(ch, quoted=quoted):
            separated = True
            end += 1
        else:
            break
    rest = headline[end:].strip()
    if separated or decorated or not rest:
        return rest
    return None


def detect_breaking(headline: str) -> tuple[bool, str]:
    """Whether ``headline`` starts with a breaking label, and the headline without it.

    Repeated labels (``عاجل | عاجل: ...``) are all removed; the rest is returned stripped and
    may be empty when the headline was only a label.
    """
    found = False
    rest = headline.strip()
    # Bounded: a pathological headline of thousands of labels must not cost quadratic time.
    for _ in range(_MAX_LABELS):
        stripped = _strip_one(rest)
        if stripped is None:
            break
        found, rest = True, stripped
    return found, rest
