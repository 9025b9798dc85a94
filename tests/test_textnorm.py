"""Text normalisation as readers see it: entities, spaces, bidi controls, invisible characters."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parser import ParseError, parse_text
from bot.textclean import balance_bidi, clean_lines, decode_entities, normalize_inline
from tests.parser_wordcheck import article_texts, article_words, text_words

BODY = "أعلنت الحكومة اليوم عن خطة جديدة لدعم الاقتصاد."
_EMBEDDING = "\u202a\u202b\u202d\u202e"
_ISOLATE = "\u2066\u2067\u2068"


def _corpus_text(corpus_dir: Path, number: str) -> str:
    return next((corpus_dir / "articles").glob(f"{number}_*.txt")).read_text(encoding="utf-8")


def _bidi_balanced(text: str) -> bool:
    """Every embedding closed by PDF and every isolate by PDI, properly nested."""
    closers = {"\u202c": _EMBEDDING, "\u2069": _ISOLATE}
    stack: list[str] = []
    for ch in text:
        if ch in _EMBEDDING or ch in _ISOLATE:
            stack.append(ch)
        elif ch in closers and (not stack or stack.pop() not in closers[ch]):
            return False
    return not stack


# --- entities ---------------------------------------------------------------------------------


def test_corpus_24_headline_entities_are_decoded(corpus_dir: Path) -> None:
    article = parse_text(_corpus_text(corpus_dir, "24"))
    assert "&quot;" not in article.title
    assert article.title.count('"') == 4


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("&quot;سبق&quot;", '"سبق"'),
        ("الشركة A&amp;B", "الشركة A&B"),
        ("&#171;داعش&#187;", "«داعش»"),
        ("&#xAB;داعش&#xBB;", "«داعش»"),
        ("كلمة&nbsp;كلمة", "كلمة\u00a0كلمة"),
        ("R&D و AT&T", "R&D و AT&T"),
        ("&notice &amp", "&notice &amp"),  # unterminated: not an entity, left alone
    ],
)
def test_entities_are_decoded_once(raw: str, decoded: str) -> None:
    assert decode_entities(raw) == decoded


def test_double_encoded_entity_is_decoded_only_once() -> None:
    assert normalize_inline("&amp;quot;") == "&quot;"


# --- whitespace ------------------------------------------------------------------------------


def test_nbsp_only_and_whitespace_only_lines_are_dropped() -> None:
    text = f"عنوان\n\u00a0\n{BODY}\n \u00a0 \t\n\u2003\n{BODY}\n\u00a0 "
    assert parse_text(text).paragraphs() == [BODY, BODY]


@pytest.mark.parametrize("number", ["05", "13", "29"])
def test_corpus_nbsp_only_lines_do_not_become_paragraphs(corpus_dir: Path, number: str) -> None:
    article = parse_text(_corpus_text(corpus_dir, number))
    assert all(text.strip() and text == text.strip() for text in article_texts(article))
    assert not any("\u00a0" in text for text in article_texts(article))


def test_corpus_27_runs_of_spaces_in_headline_are_collapsed(corpus_dir: Path) -> None:
    raw = _corpus_text(corpus_dir, "27")
    article = parse_text(raw)
    assert "  " not in article.title
    # Without the wire desk «عام /» and add «إضافة أولى», recorded as residue (issue 12).
    assert article.title.split(" ") == raw.splitlines()[0].split()[2:-2]


def test_nbsp_and_unicode_spaces_become_single_spaces() -> None:
    assert normalize_inline("  أ\u00a0\u00a0ب\u2009ج\u3000د\tهـ  ") == "أ ب ج د هـ"


def test_leading_spaces_of_paragraphs_are_stripped() -> None:
    assert parse_text(f"عنوان\n    {BODY}   ").paragraphs() == [BODY]


def test_all_line_break_styles_split_paragraphs() -> None:
    text = f"عنوان\r\n{BODY}\r{BODY}\u2028{BODY}\u2029{BODY}"
    assert parse_text(text).paragraphs() == [BODY] * 4


# --- bidi and invisible characters -----------------------------------------------------------


def test_corpus_03_unbalanced_bidi_controls_are_removed(corpus_dir: Path) -> None:
    raw = _corpus_text(corpus_dir, "03")
    assert not _bidi_balanced(raw)
    article = parse_text(raw)
    assert all(_bidi_balanced(text) for text in article_texts(article))
    assert article_words(article) == text_words(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("نص\u202a", "نص"),
        ("\u202cنص", "نص"),
        ("نص \u202aGalaxy\u202c.\u202c", "نص \u202aGalaxy\u202c."),
        ("\u2067Samsung\u2069 تعلن", "\u2067Samsung\u2069 تعلن"),
        ("\u2066x\u202ay\u2069", "\u2066xy\u2069"),
        ("\u2069\u2066نص", "نص"),
    ],
)
def test_only_unbalanced_bidi_controls_are_removed(raw: str, clean: str) -> None:
    assert balance_bidi(raw) == clean


def test_zero_width_space_and_bom_are_removed_but_zwj_emoji_kept() -> None:
    family = "👨\u200d👩\u200d👧"
    line = f"\ufeffكلمة\u200b {family} می\u200cخواهم"
    assert normalize_inline(line) == f"كلمة {family} می\u200cخواهم"


def test_line_of_only_invisible_marks_is_blank() -> None:
    assert clean_lines("\u200f\u200e\n\u2066\u2069\nنص") == ["نص"]


def test_words_are_kept_exactly_tashkeel_tatweel_digits_emoji() -> None:
    words = "ماي للعَلاقاتِ بـ100 ٢٠١٨ 😎👍🏻 🥇🇧🇭 Galaxy S8 (CNN)-- *81,006"
    assert parse_text(f"عنوان\n{words}").paragraphs() == [words]


@pytest.mark.parametrize("number", ["10", "11", "22", "24"])
def test_corpus_diacritics_and_digits_survive(corpus_dir: Path, number: str) -> None:
    raw = _corpus_text(corpus_dir, number)
    article = parse_text(raw)
    # What the parser dropped as another story's residue is recorded, so it still counts.
    texts = [*article_texts(article), *(piece.text for piece in article.residue)]
    marks_in = sum(unicodedata.category(ch) == "Mn" for ch in raw)
    marks_out = sum(unicodedata.category(ch) == "Mn" for t in texts for ch in t)
    assert marks_out == marks_in
    digits_in = sum("\u0660" <= ch <= "\u0669" for ch in raw)
    assert digits_in == sum("\u0660" <= ch <= "\u0669" for t in texts for ch in t)


# --- property: words are never changed or lost ----------------------------------------------

_ARABIC_WORDS = [
    "الحكومة",
    "وزير",
    "الخارجية",
    "أعلن",
    "إن",
    "مؤتمر",
    "صحفي",
    "اليوم",
    "المدينة",
    "الأمم",
    "المتحدة",
    "مُهِمّ",
    "بـ",
    "لـ",
    "٢٠٢٤",
    "2024",
    "في",
    "على",
    "🇸🇦",
    "👍🏻",
    "&quot;",
    "&amp;",
    "«",
    "»",
    ".",
    "،",
    ":",
    "؟",
    "|",
    "-",
]
# Consonants only, so random Latin words cannot spell residue labels ("share", "print") or
# breaking labels ("urgent").
_LATIN_WORDS = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=1, max_size=8)
_SEPARATORS = [
    " ",
    "   ",
    "\u00a0",
    "\u2009",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    " \u00a0\n",
    "\u2028",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u2066",
    "\u2067",
    "\u2069",
    "\u200f",
    "\u200e",
    "\u200b",
    "\u200d",
    "\ufeff",
]
_PIECES = st.one_of(st.sampled_from(_ARABIC_WORDS), _LATIN_WORDS, st.sampled_from(_SEPARATORS))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=80).map("".join))
def test_parse_text_never_changes_or_drops_a_word(text: str) -> None:
    try:
        article = parse_text(text)
    except ParseError as exc:
        assert exc.code in ("empty", "no_body")
        return
    assert article_words(article) == text_words(text)
    assert all(_bidi_balanced(t) for t in article_texts(article))


def test_an_unknown_entity_name_is_kept_exactly_as_written() -> None:
    """«&notanentity;» must not become «¬anentity;»: only whole known names are decoded."""
    assert decode_entities("&notanentity; &lol9; &amp; &not;") == "&notanentity; &lol9; & ¬"


# --- issue 12: stranded vowel marks and empty bidi pairs -----------------------------------------


def test_a_vowel_mark_stranded_at_a_word_start_goes_back_to_the_word_before() -> None:
    line = "رئيسة الوزراء البريطانية ُتيريزا ماي وخطة َماي"
    assert normalize_inline(line) == "رئيسة الوزراء البريطانيةُ تيريزا ماي وخطةَ ماي"
    # Nothing before it on the line, or a lone mark between spaces: left as it came.
    assert normalize_inline("ُتيريزا ماي") == "ُتيريزا ماي"
    assert normalize_inline("نمو ٍ أضعف") == "نمو ٍ أضعف"


def test_a_balanced_bidi_pair_around_only_a_full_stop_is_dropped() -> None:
    assert normalize_inline("والإيرانية\u202a.\u202c\u202c") == "والإيرانية."
    kept = "قال \u2066Apple\u2069 و\u202aiPhone 15\u202c."
    assert normalize_inline(kept) == kept
