"""The project's own sample articles, shipped as package data."""

from __future__ import annotations

from importlib import resources

SEED_ARTICLE = "seed_breaking_article.txt"


def seed_article_bytes() -> bytes:
    """The seed breaking article (the one this project was created from), as UTF-8 bytes."""
    return resources.files(__name__).joinpath(SEED_ARTICLE).read_bytes()
