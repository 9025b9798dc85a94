"""Arabic-aware search normalisation shared by the store's search index and ``/search``.

Both sides of a search must go through the same functions, so that "الحكومة" finds "حكومه",
"إيران" finds "ايران" and "٢٠٢٤" finds "2024". This is for matching only: never show its output.
"""

from __future__ import annotations

import re
from types import MappingProxyType

_DIACRITICS_RE = re.compile("[\u064b-\u065f\u0670\u0640]")  # tashkeel, dagger alef, tatweel
#: Invisible format characters that would otherwise split or glue tokens (ZWJ/ZWNJ, LRM/RLM,
#: bidi embeddings and isolates, zero-width space, BOM).
_FORMAT_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\u061c]")
_LETTER_MAP = MappingProxyType(
    str.maketrans(
        {
            "أ": "ا",
            "إ": "ا",
            "آ": "ا",
            "ٱ": "ا",
            "ة": "ه",
            "ى": "ي",
            "ؤ": "و",
            "ئ": "ي",
            "ی": "ي",  # Persian yeh, common in copy-pasted text
            "ک": "ك",  # Persian keheh
            **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
            **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
        }
    )
)
_TOKEN_RE = re.compile(r"[^\W_]+")
#: Longest first: "وال" must be tried before "و", "لل" before "ال".
_PREFIXES = ("وال", "بال", "لل", "ال", "و")
_MIN_STEM_LETTERS = 3


def normalize_arabic(text: str) -> str:
    """Fold ``text`` for matching: lowercase, no diacritics/tatweel, unified letters and digits."""
    text = _FORMAT_RE.sub("", text.lower())
    return _DIACRITICS_RE.sub("", text).translate(_LETTER_MAP)


def _without_prefix(token: str) -> str | None:
    """``token`` without its article/conjunction prefix, when at least 3 letters remain."""
    for prefix in _PREFIXES:
        if token.startswith(prefix):
            stem = token[len(prefix) :]
            if sum(ch.isalpha() for ch in stem) >= _MIN_STEM_LETTERS:
                return stem
            return None
    return None


def search_tokens(text: str) -> list[str]:
    """Normalised word tokens (2+ characters, or a digit), plus prefix-less forms, deduplicated."""
    seen: dict[str, None] = {}
    for token in _TOKEN_RE.findall(normalize_arabic(text)):
        if len(token) < 2 and not token.isdigit():
            continue  # a lone letter is a split-off clitic ("و", "ب"); a lone digit is news
        seen.setdefault(token, None)
        stem = _without_prefix(token)
        if stem is not None:
            seen.setdefault(stem, None)
    return list(seen)
