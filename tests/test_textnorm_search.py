"""Search normalisation: spelling variants a reader types must find the stored article."""

from __future__ import annotations

import pytest

from bot.search_text import normalize_arabic, search_tokens


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ايران", "إيران"),  # hamza below
        ("احمد", "أحمد"),  # hamza above
        ("القران", "القرآن"),  # madda
        ("ٱلله", "الله"),  # wasla
        ("الحكومه", "الحكومة"),  # taa marbuta
        ("مستشفي", "مستشفى"),  # alef maqsura
        ("مسؤول", "مسوول"),  # waw hamza
        ("رئيس", "رييس"),  # yeh hamza
        ("الحكومة", "الحُكُومَةُ"),  # tashkeel
        ("الحكومة", "الحـــكومة"),  # tatweel
        ("2024", "٢٠٢٤"),  # Arabic-Indic digits
        ("2024", "۲۰۲۴"),  # Persian digits
        ("galaxy s8", "Galaxy S8"),  # Latin case
        ("هذا", "هٰذا"),  # dagger alef
    ],
)
def test_variants_normalise_to_the_same_form(typed: str, stored: str) -> None:
    assert normalize_arabic(typed) == normalize_arabic(stored)


def test_normalised_form_is_exactly_as_specified() -> None:
    assert normalize_arabic("أَحْمَدُ إلى آسيا ومدرسة مستشفى ١٢٣ ABC") == (
        "احمد الي اسيا ومدرسه مستشفي 123 abc"
    )


def test_other_letters_and_punctuation_are_untouched() -> None:
    assert normalize_arabic("غزة: «الحرب» انتهت!") == "غزه: «الحرب» انتهت!"


def test_tokens_drop_single_letters_and_punctuation_but_keep_digits() -> None:
    assert search_tokens("و ب x في «غزة»، 5 نيسان!") == ["في", "غزه", "5", "نيسان"]
    assert search_tokens("٣") == ["3"]


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("الحكومة", "حكومه"),
        ("والحكومة", "حكومه"),
        ("بالحكومة", "حكومه"),
        ("للحكومة", "حكومه"),
        ("وحكومة", "حكومه"),
    ],
)
def test_prefixed_words_also_yield_their_stem(word: str, stem: str) -> None:
    tokens = search_tokens(word)
    assert tokens == [normalize_arabic(word), stem]


def test_query_without_article_matches_stored_word_with_it() -> None:
    stored = set(search_tokens("أعلنت الحكومةُ الإيرانية اليوم"))
    assert set(search_tokens("حكومة ايرانية")) <= stored


def test_short_stems_are_not_produced() -> None:
    assert search_tokens("الى") == ["الي"]  # "ي" would be too short
    assert search_tokens("ولد") == ["ولد"]


def test_tokens_are_deduplicated_in_order() -> None:
    assert search_tokens("الحكومة حكومة الحكومه") == ["الحكومه", "حكومه"]


def test_invisible_marks_do_not_split_words() -> None:
    assert search_tokens("الحك\u200fومة \u2067Samsung\u2069") == ["الحكومه", "حكومه", "samsung"]
