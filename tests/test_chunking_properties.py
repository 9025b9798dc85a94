"""Property tests: for random articles and limits every message of format_article is sendable.

Invariants: visible UTF-16 length <= limit (indicator, marker and RLMs included), entities <=
max_entities, strictly valid HTML on its own, correct ``(k/n)`` indicators, the article's words in
order with nothing lost or added, and no word cut unless it could not fit in any message.
"""

from __future__ import annotations

import bisect
import itertools
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Article, Section
from formatters import format_article
from formatters.html import count_entities, visible_text
from formatters.segment import is_list_marker
from tests.html_oracle import (
    MARKER_PREFIX,
    article_words,
    check_html,
    strip_known_decorations,
    utf16_units,
)

_ARABIC = [*"ابتثجحخدذرسشصضطظعغفقكلمنهويءآأؤإئةى", "ـ", "ً", "ُ", "ّ"]
_LATIN = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = list("0123456789٠١٢٣٤٥٦٧٨٩")
_PUNCT = [*".!?؟؛…،,:«»()-/'", '"', "<", ">", "&", "&amp;", "&lt;", "<b>"]
_EMOJI = ["😀", "👍🏻", "🇧🇭", "👨\u200d👩\u200d👧", "❤️", "🥇"]

_atom = st.one_of(
    st.sampled_from(_ARABIC),
    st.sampled_from(_ARABIC),
    st.sampled_from(_LATIN),
    st.sampled_from(_DIGITS),
    st.sampled_from(_PUNCT),
    st.sampled_from(_EMOJI),
)
_short_word = st.lists(_atom, min_size=1, max_size=9).map("".join)
_long_word = st.lists(_atom, min_size=40, max_size=200).map("".join)
_word = st.one_of(_short_word, _short_word, _short_word, _short_word, _short_word, _long_word)
# At most 2 UTF-16 units per atom, so a 9-atom word stays under 19 units.
_plain_word = st.lists(
    st.sampled_from([*_ARABIC, *_LATIN, *_DIGITS, *'.،؟!:<>&"', "😀"]), min_size=1, max_size=9
).map("".join)


#: Drawing an article of long words costs about half a second (the generation, not the check),
#: so a CI run tries a few dozen of those; NEWSBOT_DEEP_PROPERTIES=1 tries ten times as many.
DEEP = 10 if os.environ.get("NEWSBOT_DEEP_PROPERTIES") == "1" else 1


def _text(word: st.SearchStrategy[str], max_words: int) -> st.SearchStrategy[str]:
    return st.lists(word, min_size=1, max_size=max_words).map(" ".join)


@st.composite
def articles(
    draw: st.DrawFn,
    word: st.SearchStrategy[str] = _word,
    title_words: int = 15,
    heading_words: int = 8,
) -> Article:
    """Random articles: headline, 0-5 sections with optional headings, 0-4 paragraphs each."""
    sections = draw(
        st.lists(
            st.builds(
                Section,
                heading=st.one_of(st.none(), _text(word, heading_words)),
                paragraphs=st.lists(_text(word, 30), max_size=4),
            ),
            max_size=5,
        )
    )
    return Article(
        title=draw(_text(word, title_words)),
        breaking=draw(st.booleans()),
        sections=sections,
        url=draw(st.one_of(st.none(), st.just('https://news.example/a?x=1&y="2"'))),
    )


def _check_invariants(article: Article, limit: int, max_entities: int) -> list[str]:
    """Assert every invariant; returns the visible texts for further checks."""
    messages = format_article(article, limit=limit, max_entities=max_entities)
    assert messages, "an article always yields at least one message"
    visible = []
    for message in messages:
        checked = check_html(message.text)
        assert checked.text == visible_text(message.text), "oracle and formatters.html disagree"
        assert utf16_units(checked.text) <= limit
        assert checked.entities <= max_entities
        assert checked.entities == count_entities(message.text)
        assert checked.text.strip("\n \u200f"), "Telegram refuses an empty message"
        assert message.disable_link_preview
        assert message.parse_mode == "HTML"
        visible.append(checked.text)
    bodies = strip_known_decorations(visible, breaking=article.breaking, url=bool(article.url))
    _check_words(article, bodies, limit, indicator=visible[-1], total=len(messages))
    return visible


def _check_words(
    article: Article, bodies: list[str], limit: int, *, indicator: str, total: int
) -> None:
    """The words survive in order; only words too long for a message are cut, between messages."""
    expected = article_words(article)
    got = [body.split() for body in bodies]
    flat = list(itertools.chain.from_iterable(got))
    assert "".join(flat) == "".join(expected)
    expected_ends = set(itertools.accumulate(len(w) for w in expected))
    got_ends = list(itertools.accumulate(len(w) for w in flat))
    assert expected_ends <= set(got_ends), "two article words were merged"
    message_ends = set(itertools.accumulate(sum(len(w) for w in words) for words in got))
    reserve = utf16_units(indicator[indicator.rfind("\n\n") :]) if total > 1 else 0
    starts = [0, *itertools.accumulate(len(w) for w in expected)]
    for offset in set(got_ends) - expected_ends:
        assert offset in message_ends, "a word was cut inside a message"
        index = bisect.bisect_left(starts, offset) - 1
        word = expected[index]
        glued = utf16_units(MARKER_PREFIX) if article.breaking and index == 0 else 0
        assert utf16_units(word) > limit - 1 - reserve - glued, f"needless cut of {word!r}"


@settings(max_examples=40 * DEEP, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    article=articles(),
    limit=st.integers(min_value=50, max_value=4096),
    max_entities=st.sampled_from([1, 2, 3, 100]),
)
def test_every_message_is_sendable_and_nothing_is_lost(
    article: Article, limit: int, max_entities: int
) -> None:
    _check_invariants(article, limit, max_entities)


@settings(max_examples=30 * DEEP, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles(), limit=st.integers(min_value=50, max_value=300))
def test_small_limits_force_many_valid_parts(article: Article, limit: int) -> None:
    _check_invariants(article, limit, 100)


@settings(max_examples=150, deadline=None)
@given(
    article=articles(word=_plain_word, title_words=8, heading_words=5),
    limit=st.integers(min_value=300, max_value=1500),
)
def test_with_ordinary_words_no_heading_ends_a_message_and_parts_are_well_filled(
    article: Article, limit: int
) -> None:
    # Here a headline or heading plus the first word after it always fits in one message, so
    # leaving one (or part of one) at the end of a message would be the formatter's choice.
    visible = _check_invariants(article, limit, 100)
    messages = format_article(article, limit=limit)
    for number, (message, text) in enumerate(zip(messages, visible, strict=True), start=1):
        if number == len(messages):
            break
        last_html = message.text[: message.text.rfind("\n\n")].split("\n")[-1]
        assert not last_html.endswith("</b>"), f"message {number} ends with a bold title"
        # Greedy: every part but the last uses at least half of what it could hold.
        indicator = utf16_units(text[text.rfind("\n\n") :])
        assert utf16_units(text) - indicator >= (limit - indicator) / 2


_LIST_WORD = st.one_of(
    _plain_word, _plain_word, st.sampled_from(["2.", "٣.", "4)", "-", "•", "نهاية.", "بند؛"])
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles(word=_LIST_WORD), limit=st.integers(min_value=60, max_value=400))
def test_no_part_ends_on_a_bare_list_marker(article: Article, limit: int) -> None:
    # Issue 12: «… الترفيهية. 2.» then a new part; the marker belongs with its item.
    visible = _check_invariants(article, limit, 100)
    bodies = strip_known_decorations(visible, breaking=article.breaking, url=bool(article.url))
    texts = [article.title] + [
        text
        for s in article.sections
        for text in [*([s.heading] if s.heading else []), *s.paragraphs]
    ]
    block_of = [i for i, text in enumerate(texts) for _ in text.split()]  # each word's block
    words = [word for text in texts for word in text.split()]
    end = 0
    for body in bodies[:-1]:
        end += len(body.split())
        if block_of[end - 1] != block_of[end]:
            continue  # a break between paragraphs: the marker ends its own paragraph
        previous = words[end - 2] if end > 1 and block_of[end - 2] == block_of[end - 1] else None
        assert not is_list_marker(words[end - 1], previous), body[-40:]
