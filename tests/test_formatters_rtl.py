"""Right-to-left safety: Arabic lines that start with Latin, digits or symbols get an RLM."""

from __future__ import annotations

import pytest

from bot.models import Article, Section
from formatters import format_article
from formatters.html import visible_text
from formatters.rtl import RLM, Direction, first_strong, rtl_line

ARABIC_AFTER = "قال مسؤولون إن المفاوضات ستستأنف غداً."


@pytest.mark.parametrize(
    "line",
    [
        f"CNN -- {ARABIC_AFTER}",
        f"(CNN)-- {ARABIC_AFTER}",
        f"2024 {ARABIC_AFTER}",
        f'"Galaxy S8" {ARABIC_AFTER}',
        f"#Samsung {ARABIC_AFTER}",
        "٢٠٢٤",  # digits only: aligned with the Arabic around it
        "🥇 …",
    ],
)
def test_arabic_line_starting_with_latin_digits_or_symbols_gets_an_rlm(line: str) -> None:
    assert rtl_line(line) == RLM + line


@pytest.mark.parametrize(
    "line",
    [
        ARABIC_AFTER,
        f"«{ARABIC_AFTER}»",  # the first strong letter is Arabic
        "A post shared by Nasser (@nbh_mo) on Oct 13, 2018",  # pure Latin stays LTR
        RLM + "CNN قال",  # already marked
    ],
)
def test_lines_that_already_render_correctly_are_left_alone(line: str) -> None:
    assert rtl_line(line) == line


def test_tags_do_not_count_as_latin_letters() -> None:
    assert rtl_line("<b>عنوان</b>") == "<b>عنوان</b>"
    assert rtl_line("<b>iPhone 15 من آبل</b>") == RLM + "<b>iPhone 15 من آبل</b>"


def test_first_strong_skips_isolated_runs() -> None:
    assert first_strong("\u2066CNN\u2069 قال") is Direction.RTL
    assert first_strong("123 !?") is None


def _lines(article: Article, **kwargs: int) -> list[str]:
    return [
        line
        for message in format_article(article, **kwargs)
        for line in visible_text(message.text).split("\n")
        if line
    ]


def test_article_paragraphs_headings_and_headline_get_rlm_only_where_needed() -> None:
    article = Article(
        title="iPhone 15 يصل إلى الأسواق العربية",
        sections=[
            Section(paragraphs=[f"CNN -- {ARABIC_AFTER}", ARABIC_AFTER]),
            Section(
                heading="2024 عام التحولات", paragraphs=["Hello world.", "2024 " + ARABIC_AFTER]
            ),
        ],
    )
    assert _lines(article) == [
        RLM + "iPhone 15 يصل إلى الأسواق العربية",
        RLM + f"CNN -- {ARABIC_AFTER}",
        ARABIC_AFTER,
        RLM + "2024 عام التحولات",
        "Hello world.",
        RLM + "2024 " + ARABIC_AFTER,
    ]


def test_breaking_marker_makes_the_headline_rtl_without_an_rlm() -> None:
    article = Article(title="CNN: انفجار في الميناء", breaking=True)
    assert _lines(article) == ["🔴 عاجل | CNN: انفجار في الميناء"]


def test_a_continuation_part_starting_with_latin_is_marked_too() -> None:
    sentence = "أعلنت الشركة عن هاتفها الجديد. "
    paragraph = sentence * 12 + "Galaxy S8 Lite " + sentence * 12
    article = Article(title="سامسونغ", sections=[Section(paragraphs=[paragraph])])
    for limit in range(120, 400, 7):
        for message in format_article(article, limit=limit):
            for line in visible_text(message.text).split("\n"):
                if line and not line.startswith(RLM):
                    assert first_strong(line) is Direction.RTL, (limit, line)
