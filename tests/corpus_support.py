"""Parametrising tests over the corpus articles, with a visible skip when the corpus is absent.

``@pytest.mark.parametrize("path", corpus_articles())`` with an empty list makes pytest report
"got empty parameter set", which reads like a bug; ``corpus_params()`` gives one skipped
placeholder instead, saying where the corpus was looked for.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import _corpus_dir, corpus_articles

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet


def _two_digits(path: Path) -> str:
    return path.name[:2]


def corpus_params(id_of: Callable[[Path], str] = _two_digits) -> list[ParameterSet]:
    """One ``pytest.param(path)`` per corpus article, or one skipped placeholder without corpus."""
    paths = corpus_articles()
    if not paths:
        reason = f"corpus not present at {_corpus_dir()}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    return [pytest.param(path, id=id_of(path)) for path in paths]
