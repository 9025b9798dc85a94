"""Every real corpus article, formatted at Telegram's limit and at a small one, stays sendable."""

from __future__ import annotations

from pathlib import Path

import pytest

from formatters import format_article
from formatters.html import count_entities, visible_text
from sandbox.html_check import parse_html
from tests.conftest import corpus_articles
from tests.corpus_support import corpus_params
from tests.html_oracle import (
    article_words,
    check_html,
    load_corpus_article,
    strip_known_decorations,
    utf16_units,
)

URL = "https://corpus.example/story?id=1&src=test"


@pytest.mark.parametrize("limit", [4096, 500])
@pytest.mark.parametrize("path", corpus_params())
def test_corpus_article_fits_telegram_and_keeps_every_word(
    path: Path, limit: int, corpus_dir: Path
) -> None:
    article = load_corpus_article(path).model_copy(update={"url": URL})
    messages = format_article(article, limit=limit)
    visible = []
    for message in messages:
        checked = check_html(message.text)
        assert checked.text == visible_text(message.text)
        assert utf16_units(checked.text) <= limit
        assert checked.entities <= 100
        assert checked.entities == count_entities(message.text)
        visible.append(checked.text)
    bodies = strip_known_decorations(visible, breaking=article.breaking, url=True)
    assert " ".join(bodies).split() == article_words(article)
    for number, text in enumerate(visible[:-1], start=1):
        # Greedy: no part but the last is less than half full.
        assert utf16_units(text) >= limit / 2, f"part {number} is only {utf16_units(text)} long"
    if limit == 4096:
        total = sum(utf16_units(v) for v in visible)
        assert len(messages) <= total // 2048 + 1


def test_the_long_articles_need_several_messages(corpus_dir: Path) -> None:
    lengths = {}
    for path in corpus_articles():
        if path.name[:2] in {"08", "22", "24"}:
            lengths[path.name[:2]] = len(format_article(load_corpus_article(path)))
    assert lengths and all(n >= 4 for n in lengths.values()), lengths


@pytest.mark.parametrize("path", corpus_params())
def test_the_telegram_sandbox_reads_our_messages_the_same_way(path: Path, corpus_dir: Path) -> None:
    article = load_corpus_article(path).model_copy(update={"url": URL, "breaking": True})
    for message in format_article(article, limit=500):
        parsed = parse_html(message.text, strict=True)
        assert parsed.text == visible_text(message.text)
        assert len(parsed.entities) == count_entities(message.text)
