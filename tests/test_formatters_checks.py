"""The HTML oracle (tests/html_oracle.py) itself rejects what Telegram would reject."""

from __future__ import annotations

import pytest

from tests.html_oracle import check_html


@pytest.mark.parametrize(
    "bad",
    [
        "<b>open",
        "<b>x</a>",
        "x</b>",
        "<i>x</i>",  # not a tag the formatters emit
        "a < b",
        "a > b",
        "fish & chips",
        "&nbsp;",
        "<b></b>x",
        "<br/>",
    ],
)
def test_oracle_rejects_html_telegram_would_refuse_or_we_never_emit(bad: str) -> None:
    with pytest.raises(AssertionError):
        check_html(bad)


def test_oracle_decodes_like_telegram() -> None:
    checked = check_html(
        '<b>&lt;a&gt; &amp; &quot;q&quot; &#1593;</b> <a href="https://x.y/?a=1&amp;b=2">z</a>'
    )
    assert checked.text == '<a> & "q" ع z'
    assert checked.entities == 2
    assert checked.hrefs == ["https://x.y/?a=1&b=2"]
