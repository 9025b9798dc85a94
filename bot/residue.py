"""Recognise and drop scraper residue: lines that are wholly page furniture, not article text.

Only whole lines are ever dropped, and only when the entire line is residue:

* anywhere: share/print buttons ("شارك", "شارك الخبر", "share", "طباعة"), "read also" lines
  ("اقرأ أيضاً", "اقرأ أيضاً: <link title>", "إقرأ المزيد", "Read more"), related-content
  labels ("مواضيع ذات صلة") and wire-service continuation marks ("// يتبع //", "(انتهى)");
* after a *bare* "read also"/"related" label, the run of link titles right below it (at most
  six short lines without sentence punctuation): those are other stories' headlines;
* at the end of the body only: a comments label ("التعليقات", "تعليقات (3)", "أضف تعليقاً"),
  a bare "يتبع" and a wire time stamp ("19:23 ت م", i.e. Makkah time, as SPA appends).
"""

from __future__ import annotations

import re
import unicodedata

_TASHKEEL_RE = re.compile("[\u064b-\u065f\u0670\u0640]")

_ALSO = r"(?:[اأإ]يضا|كذلك|المزيد)"
_READ_ALSO_RE = re.compile(
    rf"^(?:[اأإ]قر[اأء]?|طالع|شاهد)\s+{_ALSO}(?![\w])"
    r"|^(?:read|see)\s+(?:also|more)\b|^also\s+read\b",
    re.IGNORECASE,
)
_RELATED_LABELS = frozenset(
    {
        "ذات صلة",
        "مواضيع ذات صلة",
        "موضوعات ذات صلة",
        "اخبار ذات صلة",
        "أخبار ذات صلة",
        "مقالات ذات صلة",
        "قصص ذات صلة",
        "related",
        "related articles",
        "related stories",
        "related news",
    }
)

#: A share/print bar is a short line made only of these words, with at least one trigger.
_SHARE_TRIGGERS = frozenset({"شارك", "شاركوا", "شاركها", "share", "print", "طباعة", "اطبع", "غرد"})
_SHARE_WORDS = _SHARE_TRIGGERS | frozenset(
    {
        "مشاركة",
        "الخبر",
        "المقال",
        "الموضوع",
        "هذا",
        "على",
        "عبر",
        "this",
        "article",
        "story",
        "on",
        "via",
        "فيسبوك",
        "فيس",
        "بوك",
        "تويتر",
        "واتساب",
        "واتس",
        "اب",
        "تلغرام",
        "تليجرام",
        "لينكدإن",
        "ماسنجر",
        "البريد",
        "الإلكتروني",
        "الالكتروني",
        "نسخ",
        "الرابط",
        "facebook",
        "twitter",
        "whatsapp",
        "telegram",
        "linkedin",
        "messenger",
        "email",
        "x",
        "copy",
        "link",
        "tweet",
    }
)
_MAX_SHARE_WORDS = 8

_WIRE_MARK_RE = re.compile(
    r"^(?:/+|-+|—|\()\s*(?:يتبع|انتهى|تتبع|نهاية)\s*(?:/+|-+|—|\))$",
)
_COMMENTS_RE = re.compile(
    r"^(?:(?:ال)?تعليق(?:ات)?(?:\s*\(?\s*\d+\s*\)?)?|\d+\s+تعليق(?:ات)?"
    r"|[اأ]ضف\s+تعليق(?:ا|ك)?|اترك\s+تعليق(?:ا|ك)?|comments?|\d+\s+comments?)$",
    re.IGNORECASE,
)
_TIME_STAMP_RE = re.compile(r"^\d{1,2}:\d{2}\s*(?:ت\s*\.?\s*م|ت\s*غ|تغ|gmt|utc)\.?$", re.IGNORECASE)

#: Link titles below a bare "read also" label are short and never end a sentence.
_MAX_LINK_LINES = 6
_MAX_LINK_WORDS = 15
_MAX_LINK_CHARS = 120
_SENTENCE_END = tuple(".!?؟…؛،:;,")


def _key(line: str) -> str:
    """The line as compared with residue labels: no diacritics/tatweel, no edge punctuation."""
    text = _TASHKEEL_RE.sub("", line).casefold()
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return " ".join(text[start:end].split())


def _words(key: str) -> list[str]:
    """Word tokens of a residue key (letters and digits only)."""
    return re.findall(r"[^\W_]+", key)


def _is_share_bar(key: str) -> bool:
    """A line of share/print buttons: every word a share word, at least one a trigger."""
    words = _words(key)
    if not words or len(words) > _MAX_SHARE_WORDS or not all(w in _SHARE_WORDS for w in words):
        return False
    return any(w in _SHARE_TRIGGERS for w in words) or (len(words) > 1 and "مشاركة" in words)


def is_related_label(line: str) -> bool:
    """A bare "read also" / "related" label announcing a list of links below it."""
    key = _key(line)
    return key in _RELATED_LABELS or (
        _READ_ALSO_RE.match(key) is not None and len(_words(key)) <= 2
    )


def is_residue(line: str) -> bool:
    """Whether ``line`` is residue wherever it appears (share bar, read-also, wire mark)."""
    key = _key(line)
    if not key:
        return False  # emoji or punctuation only ("🇧🇭", "***"): not ours to judge
    if _WIRE_MARK_RE.match(line.strip()):
        return True
    return key in _RELATED_LABELS or bool(_READ_ALSO_RE.match(key)) or _is_share_bar(key)


def is_trailing_residue(line: str) -> bool:
    """Whether ``line`` is residue when it ends the body (comments label, wire tail)."""
    if is_residue(line):
        return True
    key = _key(line)
    return bool(_COMMENTS_RE.match(key) or _TIME_STAMP_RE.match(line.strip())) or key == "يتبع"


def _is_link_title(line: str) -> bool:
    """A short headline-like line: what a related-link list below "اقرأ أيضاً:" consists of."""
    stripped = line.rstrip("\"'»”’)] ")
    return (
        len(line) <= _MAX_LINK_CHARS
        and len(line.split()) <= _MAX_LINK_WORDS
        and not stripped.endswith(_SENTENCE_END)
        and any(unicodedata.category(ch)[0] == "L" for ch in line)
    )


def drop_residue(lines: list[str]) -> list[str]:
    """The body lines without residue lines (see the module docstring for the exact rules)."""
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if is_related_label(line):
            links = 0
            while index < len(lines) and links < _MAX_LINK_LINES and _is_link_title(lines[index]):
                index += 1
                links += 1
            continue
        if not is_residue(line):
            kept.append(line)
    while kept and is_trailing_residue(kept[-1]):
        kept.pop()
    return kept


def drop_leading_residue(lines: list[str]) -> list[str]:
    """The lines without residue lines before the headline (a share bar above the title)."""
    index = 0
    while index < len(lines) and is_residue(lines[index]):
        index += 1
    return lines[index:]
