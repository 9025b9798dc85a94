"""Shortening text by characters or UTF-16 units: whole words where possible, whole graphemes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from formatters.html import utf16_len
from formatters.segment import (
    ELLIPSIS,
    LIST_DASHES,
    WEAK_ENDS,
    announces,
    is_grapheme_boundary,
    lead_excerpt,
    shorten,
    shorten_units,
)

_PIECES = st.sampled_from(
    ["خبر", "عاجل", "غزّة", "بِسْمِ", " ", "  ", "\n", ".", "،", "abc", "٣", "😀", "🇵🇸", "👍🏽",
     "👨‍👩‍👧", "𝐀", "e\u0301"]
)  # fmt: skip
_TEXT = st.lists(_PIECES, min_size=1, max_size=80).map("".join)


def _check_cut(text: str, short: str) -> None:
    flat = " ".join(text.split())
    if short == flat:
        return
    assert short.endswith(ELLIPSIS)
    kept = short.removesuffix(ELLIPSIS)
    assert flat.startswith(kept)
    # Never half an emoji, a flag or a letter without its diacritic.
    assert is_grapheme_boundary(flat, len(kept))


@given(_TEXT, st.integers(min_value=2, max_value=60))
def test_shorten_units_fits_and_cuts_between_graphemes(text: str, limit: int) -> None:
    short = shorten_units(text, limit)
    assert utf16_len(short) <= limit
    _check_cut(text, short)


@given(_TEXT, st.integers(min_value=2, max_value=60))
def test_shorten_by_characters_fits_and_cuts_between_graphemes(text: str, limit: int) -> None:
    short = shorten(text, limit)
    assert len(short) <= limit
    _check_cut(text, short)


def test_shorten_prefers_a_word_boundary() -> None:
    assert shorten_units("اغتيال إسماعيل هنية في طهران", 20) == "اغتيال إسماعيل هنية…"
    # An emoji counts two units: the second word no longer fits.
    assert shorten_units("😀😀😀 عاجل", 8) == "😀😀😀…"


_LEAD_WORDS = st.sampled_from(
    ["خبر", "الأمير", "في", "إلى", "شمالي", "الوزير", "قال", "المدينة", "،", "بيان.", "أمس،",
     "اليوم:", "-", "2.", "😀", "النار؛"]
)  # fmt: skip


@given(st.lists(_LEAD_WORDS, min_size=1, max_size=120).map(" ".join), st.integers(2, 200))
def test_a_lead_never_ends_mid_clause_on_an_announcing_word_or_over_its_limit(
    text: str, limit: int
) -> None:
    lead = lead_excerpt(text, limit, max_limit=limit)
    assert len(lead) <= limit
    body = lead.removesuffix(ELLIPSIS)
    words_in = text.split()
    while words_in and words_in[0] in LIST_DASHES:
        words_in = words_in[1:]
    assert " ".join(words_in).startswith(body)
    words = body.split()
    # A cut ends on a word that may end a lead whenever the words that fit hold one («في…» at
    # a limit of 3 had no other choice).
    could_end = [w for w in words if not announces(w) and w.strip("".join(WEAK_ENDS) + "-–—")]
    if lead != body and could_end and len(body) > 1:
        assert not announces(words[-1]), lead
    assert not words or words[0] not in LIST_DASHES
