"""Shared fixtures: the real-news corpus (when present) and a real Redis per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ARTICLE = REPO_ROOT / "samples" / "seed_breaking_article.txt"


def _corpus_dir() -> Path:
    override = os.environ.get("NEWSBOT_CORPUS_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The third-party Arabic news corpus in ../shared/corpus; skips the test when absent."""
    path = _corpus_dir()
    if not (path / "articles").is_dir():
        pytest.skip(f"corpus not present at {path}")
    return path


def corpus_articles() -> list[Path]:
    """Every corpus article file (empty when the corpus is absent), for parametrisation."""
    path = _corpus_dir() / "articles"
    return sorted(path.glob("*.txt")) if path.is_dir() else []


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The project's own sample: the breaking article this project was created from."""
    return SAMPLE_ARTICLE.read_text(encoding="utf-8")
