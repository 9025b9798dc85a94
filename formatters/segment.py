"""Where Arabic/Latin text may be broken: sentence ends, word cuts that keep graphemes whole."""

from __future__ import annotations

import re
import unicodedata

from formatters.html import utf16_len

#: Ends a sentence (Latin and Arabic full stop, marks, Arabic semicolon, ellipsis).
STRONG_ENDS = frozenset(".!?؟؛…")
#: A weaker pause: Arabic and Latin comma, semicolon, colon.
WEAK_ENDS = frozenset("،,;:")
#: Closing quotes and brackets that may follow the end punctuation: `قال "نعم."`
_CLOSERS = frozenset("\"'»”’)]}›")
ELLIPSIS = "…"

_ZWJ = "\u200d"
_ZWNJ = "\u200c"


def _strip_closers(word: str) -> str:
    end = len(word)
    while end and word[end - 1] in _CLOSERS:
        end -= 1
    return word[:end]


def ends_sentence(word: str) -> bool:
    """Whether a message may break after this word as after a full sentence."""
    core = _strip_closers(word)
    return bool(core) and core[-1] in STRONG_ENDS


def ends_clause(word: str) -> bool:
    """Whether the word ends with a comma-like pause (a weaker break than a sentence end)."""
    core = _strip_closers(word)
    return bool(core) and core[-1] in WEAK_ENDS


def _is_extend(char: str) -> bool:
    """Characters that attach to the previous one (Grapheme_Extend / SpacingMark, approximately)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char in (_ZWJ, _ZWNJ)
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (emoji vs text presentation)
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _is_prepend(char: str) -> bool:
    # Arabic number signs and the end-of-ayah mark are written before the digits they govern.
    return 0x0600 <= ord(char) <= 0x0605 or char in "\u06dd\u070f\u08e2"


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def is_grapheme_boundary(text: str, index: int) -> bool:
    """Whether cutting ``text`` before ``text[index]`` keeps user-perceived characters whole."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if _is_extend(after) or before == _ZWJ or _is_prepend(before):
        return False
    if before == "\r" and after == "\n":
        return False
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        # Flags are pairs of regional indicators: break only after an even-length run.
        run = 0
        while index - 1 - run >= 0 and _is_regional_indicator(text[index - 1 - run]):
            run += 1
        return run % 2 == 0
    return True


def char_units(char: str) -> int:
    """UTF-16 code units of one character: 2 outside the BMP (most emoji), else 1."""
    return 2 if ord(char) > 0xFFFF else 1


def split_word(word: str, max_units: int) -> list[str]:
    """Cut an over-long word into pieces of at most ``max_units`` UTF-16 units each.

    Cuts fall on grapheme boundaries where possible and always on code-point boundaries, so a
    surrogate pair (emoji) is never split; a single grapheme longer than the limit is cut anyway.
    """
    if max_units < 2:
        raise ValueError("max_units must leave room for a surrogate pair")
    sizes = [char_units(char) for char in word]
    pieces: list[str] = []
    start = 0
    remaining = sum(sizes)
    while remaining > max_units:
        units = 0
        end = start
        while units + sizes[end] <= max_units:
            units += sizes[end]
            end += 1
        cut = end
        while cut > start and not is_grapheme_boundary(word, cut):
            cut -= 1
        if cut == start:
            cut = end  # one grapheme longer than a whole message: a code-point cut is all we can do
        pieces.append(word[start:cut])
        remaining -= sum(sizes[start:cut])
        start = cut
    pieces.append(word[start:])
    return pieces


def _measure(text: str, units: bool) -> int:
    return utf16_len(text) if units else len(text)


def _fitting(text: str, budget: int, *, units: bool) -> int:
    """How many leading characters of ``text`` fit in ``budget`` (characters or UTF-16 units)."""
    if not units:
        return min(len(text), max(0, budget))
    used = 0
    for index, char in enumerate(text):
        used += char_units(char)
        if used > budget:
            return index
    return len(text)


def shorten(text: str, limit: int, *, units: bool = False) -> str:
    """``text`` with whitespace collapsed, cut to at most ``limit`` at a word boundary + "…".

    ``limit`` counts characters, or UTF-16 units with ``units`` (emoji count double, as in
    Telegram's limits). A text without a usable word boundary is cut between graphemes, so an
    emoji, a flag or a letter with its diacritics is never split.
    """
    joined = " ".join(text.split())
    if _measure(joined, units) <= limit:
        return joined
    if limit < 2:
        raise ValueError("limit too small")
    budget = limit - 1  # room for the ellipsis (one unit)
    fit = _fitting(joined, budget, units=units)
    # A space right after what fits means the last word fits whole: look one character further.
    space = joined[: fit + 1].rfind(" ")
    if space > 0:
        cut = joined[:space].rstrip("".join(WEAK_ENDS) + " -–—")
        if cut:
            return cut + ELLIPSIS
    cut_at = fit
    # A first grapheme longer than the limit (a giant emoji sequence) leaves only the ellipsis.
    while cut_at > 0 and not is_grapheme_boundary(joined, cut_at):
        cut_at -= 1
    return joined[:cut_at] + ELLIPSIS


def shorten_units(text: str, max_units: int) -> str:
    """:func:`shorten` by UTF-16 units: the result is at most ``max_units`` units long."""
    return shorten(text, max_units, units=True)


# --- list markers and alert leads ---------------------------------------------------------------

#: Bullet signs a scraped list keeps in running text ("… التحتية. - بالتفسير …").
LIST_DASHES = frozenset("-–—•*▪●·")
_NUMBER_MARKER_RE = re.compile(r"^(?:\d{1,3}|[٠-٩]{1,3})[.)]$")
_TASHKEEL_RE = re.compile("[\u064b-\u065f\u0670\u0640]")

#: Words that announce what follows: titles before a name, prepositions, conjunctions and
#: relatives. A lead cut at a word never ends on one («… صاحب السمو الملكي الأمير…»).
ANNOUNCING_WORDS = frozenset(
    {
        # titles and honorifics
        "الأمير", "الأميرة", "الملك", "الملكة", "الشيخ", "الشيخة", "الرئيس", "الرئيسة", "السيد",
        "السيدة", "الدكتور", "الدكتورة", "د", "المهندس", "الوزير", "الوزيرة", "الإمام", "الأستاذ",
        "النائب", "العقيد", "اللواء", "العميد", "الفريق", "المشير", "الجنرال", "صاحب", "صاحبة",
        "السمو", "الملكي", "الملكية", "جلالة", "سمو", "معالي", "فخامة", "سماحة", "خادم",
        "الحرمين", "أمير", "ملك", "رئيس", "وزير", "نائب", "ولي", "العهد", "بن", "بنت", "ابن",
        "أبو", "آل",
        # prepositions and place words that need their noun
        "في", "من", "إلى", "الى", "على", "عن", "مع", "بين", "حول", "ضد", "نحو", "لدى", "عند",
        "منذ", "بعد", "قبل", "خلال", "عبر", "حتى", "دون", "بدون", "تحت", "فوق", "أمام", "خلف",
        "وراء", "لصالح", "بشأن", "إزاء", "تجاه", "بحق", "شمالي", "جنوبي", "شرقي", "غربي",
        "شمال", "جنوب", "شرق", "غرب", "وسط", "بسبب", "بحسب", "حسب", "وفق", "وفقا", "ضمن",
        # conjunctions, relatives, particles
        "و", "أو", "ثم", "بل", "لكن", "لكنّ", "كما", "أن", "إن", "أنّ", "إنّ", "بأن", "لأن",
        "كي", "لكي", "لن", "لم", "قد", "التي", "الذي", "الذين", "اللذين", "اللتين", "اللواتي",
        "ما", "لا", "إذا", "إذ", "حيث", "بينما", "عندما", "أي", "كل", "بعض", "غير", "سوى",
        "أكثر", "أقل", "نفس", "مثل", "تهدف", "يهدف",
    }
)  # fmt: skip


def is_list_marker(word: str, previous: str | None) -> bool:
    """Whether ``word`` opens a list item: a bullet dash or «2.» at a paragraph start
    (``previous`` is ``None``) or right after a sentence end; a dash inside a sentence is not."""
    if previous is not None and not ends_sentence(previous):
        return False
    return word in LIST_DASHES or _NUMBER_MARKER_RE.match(word) is not None


def announces(word: str) -> bool:
    """Whether a text may not end on ``word``: it announces what follows (see ANNOUNCING_WORDS)."""
    core = _TASHKEEL_RE.sub("", _strip_closers(word)).rstrip("".join(WEAK_ENDS))
    core = core.lstrip("\"'«“(")
    if core in ANNOUNCING_WORDS:
        return True
    # «وفي»، «ومن»، «فإن»: a conjunction glued to an announcing word.
    return len(core) > 1 and core[0] in "وفب" and core[1:] in ANNOUNCING_WORDS


def _first_item(words: list[str]) -> list[str]:
    """The words before a second list item: a lead never fuses two bullets."""
    while words and words[0] in LIST_DASHES:
        words = words[1:]  # a bullet opening the paragraph is list furniture, not the lead
    for index in range(1, len(words)):
        if is_list_marker(words[index], words[index - 1]):
            return words[:index]
    return words


def _word_cut(words: list[str], limit: int, *, units: bool) -> str:
    """The words that fit before "…", without a trailing word that announces what follows."""
    kept: list[str] = []
    length = 0
    for word in words:
        grow = _measure(word, units) + (1 if kept else 0)
        if length + grow > limit - 1:
            break
        kept.append(word)
        length += grow
    while kept and (announces(kept[-1]) or not kept[-1].strip("".join(WEAK_ENDS) + "-–—")):
        kept.pop()
    if not kept:
        return shorten(" ".join(words), limit, units=units)
    return " ".join(kept).rstrip("".join(WEAK_ENDS) + " -–—") + ELLIPSIS


def lead_excerpt(
    text: str,
    limit: int,
    *,
    slack: float = 1 / 3,
    max_limit: int | None = None,
    min_fraction: float = 1 / 3,
    units: bool = False,
) -> str:
    """The alert lead of a paragraph: whole sentences within ``limit`` (see the rules below).

    * the leading sentences that fit, if they fill at least ``min_fraction`` of ``limit``;
    * else the first (or next) sentence whole when it is at most ``slack`` longer than
      ``limit`` (but never over ``max_limit``);
    * else cut at the last clause boundary («،» «؛» «:») that fits, marked with «…»;
    * else cut at a word with «…», never after a word that announces what follows.

    A bullet opening the paragraph is dropped and the lead stops before a second list item.
    ``limit`` counts characters, or UTF-16 units with ``units``.
    """
    if limit < 2:
        raise ValueError("limit too small")
    words = _first_item(text.split())
    joined = " ".join(words)
    if _measure(joined, units) <= limit:
        return joined
    prefix_len: list[int] = []  # prefix_len[i]: measured length of words[: i + 1]
    length = 0
    for index, word in enumerate(words):
        length += _measure(word, units) + (1 if index else 0)
        prefix_len.append(length)
    sentence_ends = [i for i, word in enumerate(words) if ends_sentence(word)]
    fitting = [i for i in sentence_ends if prefix_len[i] <= limit]
    best = fitting[-1] if fitting else -1
    if best >= 0 and prefix_len[best] >= limit * min_fraction:
        return " ".join(words[: best + 1])
    following = next((i for i in sentence_ends if i > best), None)
    stretched = int(limit * (1 + slack))
    if max_limit is not None:
        stretched = min(stretched, max(limit, max_limit))
    if following is not None and prefix_len[following] <= stretched:
        return " ".join(words[: following + 1])
    clauses = [
        i for i, w in enumerate(words) if i > best and ends_clause(w) and prefix_len[i] < limit
    ]
    for index in reversed(clauses):
        kept = words[: index + 1]
        cut = " ".join(kept).rstrip("".join(WEAK_ENDS) + " ")
        if not cut.split() or announces(cut.split()[-1]):
            continue
        if _measure(cut, units) >= limit * min_fraction:
            return cut + ELLIPSIS
        break
    if best >= 0:
        return " ".join(words[: best + 1])
    return _word_cut(words, limit, units=units)
