"""Issue 12, as an editor reads the corpus: alert leads, list boundaries, headlines, buttons.

Read from ../shared/corpus (skipped when absent); the hand-written cases that check the same
rules without the corpus are in the formatter and parser test modules.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.models import Article
from bot.parser import parse_text
from formatters import format_alert, format_article
from formatters.html import visible_text
from formatters.segment import (
    ELLIPSIS,
    LIST_DASHES,
    WEAK_ENDS,
    announces,
    ends_sentence,
    is_list_marker,
)
from tests.corpus_support import corpus_params


def _article(corpus_dir: Path, number: str) -> Article:
    path = next((corpus_dir / "articles").glob(f"{number}_*.txt"))
    return _parse(path)


def _parse(path: Path) -> Article:
    article = parse_text(path.read_text(encoding="utf-8"))
    return article.model_copy(update={"id": "c" + path.name[:2], "breaking": True})


def _lead(article: Article) -> str:
    shown = visible_text(format_alert(article).text).split("\n\n")
    return shown[1].removeprefix("\u200f") if len(shown) > 1 else ""


# --- item 2: alert leads -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "ending"),
    [
        # A first sentence a little longer than the 300-character target is kept whole.
        ("30", 'في شمالي البلاد إلى "ضبط النفس."'),
        ("21", "التي تهدف إلى عزلها إقليميا و دوليا ."),
        # A first sentence of 730 characters is cut at its last clause boundary that fits.
        ("27", "وأخيه جلالة الملك عبدالله الثاني" + ELLIPSIS),
    ],
)
def test_corpus_alert_lead_ends_at_a_sentence_or_a_clause(
    corpus_dir: Path, number: str, ending: str
) -> None:
    article = _article(corpus_dir, number)
    lead = _lead(article)
    assert lead.endswith(ending), lead[-80:]
    first = " ".join(article.lead().split())
    assert first.startswith(lead.removesuffix(ELLIPSIS))
    if lead.endswith(ELLIPSIS):
        rest = first[len(lead) - 1 :].split()
        assert rest[0] in WEAK_ENDS or rest[0][-1] in WEAK_ENDS, "cut is not at a clause end"


def test_corpus_24_lead_is_its_first_bullet_without_the_dash(corpus_dir: Path) -> None:
    lead = _lead(_article(corpus_dir, "24"))
    assert lead.startswith("الفاسدون لا يزالون")
    assert lead.endswith("والبنية التحتية.")
    assert " - " not in lead and "بالتفسير" not in lead


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_no_lead_ends_mid_clause_or_on_an_announcing_word(path: Path) -> None:
    article = _parse(path)
    lead = _lead(article)
    if not lead:
        return
    assert not lead.startswith(("-", "–", "—", "•"))
    body = lead.removesuffix(ELLIPSIS)
    last = body.split()[-1]
    assert not announces(last), lead[-60:]
    if lead == body:
        assert ends_sentence(last), lead[-60:]


# --- item 3: list boundaries -------------------------------------------------------------------

_INDICATOR_RE = re.compile(r"\n\n\u200f?\(\d+/\d+\)$")


def _part_bodies(article: Article, limit: int = 4096) -> list[str]:
    """Each message's visible text without its part indicator and leading RLMs."""
    texts = [visible_text(m.text) for m in format_article(article, limit=limit)]
    return [_INDICATOR_RE.sub("", text).lstrip("\u200f") for text in texts]


@pytest.mark.parametrize("number", ["22", "24"])
def test_corpus_parts_never_start_with_a_dash_nor_end_on_a_list_number(
    corpus_dir: Path, number: str
) -> None:
    parts = _part_bodies(_article(corpus_dir, number))
    assert len(parts) >= 4
    for index, part in enumerate(parts, start=1):
        assert not part.startswith(tuple(LIST_DASHES)), f"part {index}: {part[:60]}"
        assert not re.search(r"\s\d{1,3}[.)]$", part), f"part {index}: {part[-60:]}"


def test_corpus_24_list_number_opens_the_part_of_its_item(corpus_dir: Path) -> None:
    parts = _part_bodies(_article(corpus_dir, "24"))
    assert parts[0].endswith("نفقاتهم الترفيهية.")
    assert parts[1].startswith("2. إن الشباب السعودي")


@pytest.mark.parametrize("limit", [4096, 500])
@pytest.mark.parametrize("path", corpus_params())
def test_corpus_no_part_ends_on_a_bare_list_marker(path: Path, limit: int) -> None:
    for part in _part_bodies(_parse(path), limit)[:-1]:
        words = part.split()
        previous = words[-2] if len(words) > 1 else None
        assert not is_list_marker(words[-1], previous), part[-60:]


# --- item 4: wire-service tags in headlines ----------------------------------------------------


def test_corpus_27_headline_has_no_wire_desk_nor_add(corpus_dir: Path) -> None:
    article = _article(corpus_dir, "27")
    assert article.title == "نائب خادم الحرمين الشريفين يرأس جلسة مجلس الوزراء"
    tags = [(r.text, r.reason) for r in article.residue if r.reason == "wire_tag"]
    assert tags == [("عام /", "wire_tag"), ("إضافة أولى", "wire_tag")]
    headline = visible_text(format_alert(article).text).split("\n\n")[0]
    assert "عام /" not in headline and "إضافة" not in headline


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_other_headlines_keep_every_word(path: Path) -> None:
    # Conservative: no other corpus headline loses anything to the wire-tag rule.
    if path.name.startswith("27"):
        return
    assert not [r for r in _parse(path).residue if r.reason == "wire_tag"]


# --- item 5: a body-less flash has no read button ------------------------------------------------


def test_corpus_32_flash_has_no_read_button(corpus_dir: Path) -> None:
    flash = _article(corpus_dir, "32")
    assert _lead(flash) == "التفاصيل بعد قليل.."
    labels = [b.text for row in format_alert(flash).keyboard for b in row]
    assert "اقرأ الخبر كاملاً" not in labels


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_every_other_alert_keeps_its_read_button(path: Path) -> None:
    if path.name.startswith("32"):
        return
    labels = [b.text for row in format_alert(_parse(path)).keyboard for b in row]
    assert labels[:1] == ["اقرأ الخبر كاملاً"]


# --- item 6: question crossheads, stranded vowels, empty bidi pairs -----------------------------


def test_corpus_01_question_crosshead_is_a_heading(corpus_dir: Path) -> None:
    headings = [s.heading for s in _article(corpus_dir, "01").sections if s.heading]
    assert headings[0] == "ماذا نعرف عن جزيرة سقطرى؟"
    assert "لكن ما الفائدة إذن من إرسال وفد للوساطة؟" not in headings


def test_corpus_11_has_no_vowel_mark_on_a_dotted_circle(corpus_dir: Path) -> None:
    article = _article(corpus_dir, "11")
    text = " ".join([article.title, *article.paragraphs()])
    assert "البريطانيةُ تيريزا ماي" in text and "خطةَ ماي" in text
    stranded = re.findall(r"(?<=[\u0621-\u064a]) [\u064b-\u065f\u0670]+[\u0621-\u064a]", text)
    assert stranded == []


def test_corpus_03_full_stop_is_not_wrapped_in_bidi_controls(corpus_dir: Path) -> None:
    article = _article(corpus_dir, "03")
    text = "".join(article.paragraphs())
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", text)
    assert "والإيرانية." in text
