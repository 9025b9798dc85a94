"""Split formatted blocks into Telegram messages: greedy packing with preferred break points.

The input is a list of :class:`Block` (headline, heading, paragraph, link line), each a run of
styled :class:`Span`. Blocks are cut into words ("units"); every gap between two units has a
:class:`Boundary` kind saying how good a message break there would be. Packing is greedy: a
message takes units until the next one no longer fits (visible UTF-16 length including RLM marks
and the part indicator, or the entity budget), then breaks at the best gap inside it:

* the best kind (section > paragraph > sentence > clause > space) whose latest occurrence still
  leaves the message at least ``fill`` full (half by default), so a long paragraph is split at a
  sentence end instead of leaving a half-empty message, but a short tail is not stranded;
* otherwise the latest plain word gap, then a "glue" gap (heading/paragraph, text/link line,
  inside a headline or heading), then a cut inside a word too long for any message on its own.

Every message is rendered independently, so its HTML is balanced on its own, and every line that
starts inside right-to-left text but not with an RTL letter gets an RLM (see :mod:`formatters.rtl`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum

from formatters.html import escape, utf16_len
from formatters.rtl import RLM, Direction, leading_direction
from formatters.segment import LIST_DASHES, ends_clause, ends_sentence, is_list_marker, split_word

#: A message is considered well filled at this fraction of its room (see module docstring).
DEFAULT_FILL = 0.5


class Boundary(IntEnum):
    """How good a message break is at a gap between two words (higher is better)."""

    NEVER = -1  # a decoration and the text it belongs to
    CUT = 0  # inside a word longer than a whole message
    MARKER = 1  # after a list marker («2.», «-»): worse than any other gap between words
    GLUE = 2  # between a heading (or the headline) and its first paragraph; before the link line
    SPACE = 3
    CLAUSE = 4  # after "،" "," ";" ":"
    SENTENCE = 5  # after ". ! ? ؟ ؛ …"
    PARAGRAPH = 6
    SECTION = 7


class Style(Enum):
    """How a span is rendered."""

    PLAIN = "plain"
    BOLD = "b"
    LINK = "a"


@dataclass(frozen=True)
class Span:
    """A run of text in one style; ``atomic`` spans are never split nor parted from the next."""

    text: str
    style: Style = Style.PLAIN
    href: str | None = None
    atomic: bool = False


@dataclass(frozen=True)
class Block:
    """One line-level unit of a message: headline, heading, paragraph or link line."""

    spans: tuple[Span, ...]
    before: Boundary = Boundary.PARAGRAPH
    separator: str = "\n\n"
    rtl: bool = True
    #: Headlines and headings: break inside only when the block alone overflows a message.
    keep_together: bool = False
    #: A decoration (the link line) dropped rather than sent as a message of its own.
    optional: bool = False


@dataclass(frozen=True)
class _Unit:
    text: str
    size: int
    sep: str
    before: Boundary
    span: int
    block: int
    style: Style
    href: str | None
    rtl: bool
    direction: Direction | None

    @property
    def starts_line(self) -> bool:
        return "\n" in self.sep


def part_indicator(index: int, total: int) -> str:
    """The visible part label of message ``index`` (1-based) out of ``total``: ``(2/3)``."""
    return f"({index}/{total})"


def _indicator_line(index: int, total: int, rtl: bool) -> str:
    return "\n\n" + (RLM if rtl else "") + part_indicator(index, total)


def _word_gap(previous_word: str, word: str, before_previous: str | None) -> Boundary:
    if is_list_marker(previous_word, before_previous):
        return Boundary.MARKER  # «… الترفيهية. 2.» then its item: the number goes with it
    if word in LIST_DASHES and is_list_marker(word, previous_word):
        # Before an inline bullet: ranked as a clause, below any sentence end, so a part opens
        # with «- …» only when no sentence ends in the second half of it (a dash at the top of
        # a message reads as a stray mark).
        return Boundary.CLAUSE
    if ends_sentence(previous_word):
        return Boundary.SENTENCE
    if ends_clause(previous_word):
        return Boundary.CLAUSE
    return Boundary.SPACE


def _units(blocks: Sequence[Block], room: int) -> list[_Unit]:
    """Cut blocks into word units, pre-cutting words too long for any message."""
    units: list[_Unit] = []
    span_id = 0
    for block_index, block in enumerate(blocks):
        glued = 0  # visible size of the atomic prefix a word must share a message with
        first_in_block = True
        previous_atomic = False
        block_words: list[str] = []  # the words of this block so far (list markers need two)
        for span in block.spans:
            span_id += 1
            for word in span.text.split():
                if first_in_block:
                    sep, before = (block.separator, block.before) if units else ("", Boundary.NEVER)
                    glued = 0
                else:
                    sep = " "
                    never = span.atomic or previous_atomic
                    if never:
                        before = Boundary.NEVER
                    else:
                        before_previous = block_words[-2] if len(block_words) > 1 else None
                        before = _word_gap(block_words[-1], word, before_previous)
                        if block.keep_together:
                            before = min(before, Boundary.GLUE)  # a numbered heading: MARKER
                    glued = glued + utf16_len(sep) if never else 0
                if span.atomic:
                    pieces = [word]
                else:
                    # One unit for the RLM a continuation line may need.
                    max_units = room - 1 - glued
                    if max_units < 2:
                        raise ValueError(
                            f"limit too small: no room for text after decorations ({room=})"
                        )
                    pieces = split_word(word, max_units) if utf16_len(word) > max_units else [word]
                for index, piece in enumerate(pieces):
                    units.append(
                        _Unit(
                            text=piece,
                            size=utf16_len(piece),
                            sep=sep if index == 0 else "",
                            before=before if index == 0 else Boundary.CUT,
                            span=span_id,
                            block=block_index,
                            style=span.style,
                            href=span.href,
                            rtl=block.rtl,
                            direction=leading_direction(piece),
                        )
                    )
                glued += utf16_len(word)
                if span.atomic and glued + 1 > room:
                    raise ValueError(f"limit too small for the decoration {span.text!r}")
                first_in_block = False
                previous_atomic = span.atomic
                block_words.append(word)
    return units


def _rlm(unit: _Unit) -> int:
    """1 if a line whose first strong character is in ``unit`` (or absent) needs an RLM."""
    return 1 if unit.rtl and unit.direction is not Direction.RTL else 0


def _plan(
    units: Sequence[_Unit], room: int, max_entities: int, fill: float
) -> list[tuple[int, int]]:
    """Choose message ranges ``[start, end)`` over ``units`` (see module docstring)."""
    ranges: list[tuple[int, int]] = []
    start = 0
    while start < len(units):
        sizes: list[int] = []  # sizes[j]: visible size of units[start : start + j + 1]
        total = entities = line_rlm = 0
        line_has_strong = False
        end = start
        while end < len(units):
            unit = units[end]
            grow = unit.size
            new_rlm, new_strong = line_rlm, line_has_strong
            if end == start or unit.starts_line:
                grow += utf16_len(unit.sep) if end > start else 0
                new_rlm, new_strong = _rlm(unit), unit.direction is not None
                grow += new_rlm
            else:
                grow += utf16_len(unit.sep)
                if not line_has_strong and unit.direction is not None:
                    # The line's direction is decided only now: maybe its RLM is not needed.
                    new_rlm, new_strong = _rlm(unit), True
                    grow += new_rlm - line_rlm
            new_entity = unit.style is not Style.PLAIN and (
                end == start or units[end - 1].span != unit.span
            )
            if total + grow > room or entities + new_entity > max_entities:
                break
            total += grow
            entities += new_entity
            line_rlm, line_has_strong = new_rlm, new_strong
            sizes.append(total)
            end += 1
        if end == len(units):
            ranges.append((start, end))
            break
        if end == start:
            raise ValueError("limit or max_entities too small for a single word")
        cut = _choose_break(units, start, end, sizes, room * fill)
        ranges.append((start, cut))
        start = cut
    return ranges


def _choose_break(
    units: Sequence[_Unit], start: int, end: int, sizes: Sequence[int], threshold: float
) -> int:
    """The index of the first unit of the next message, ``start < result <= end``."""
    candidates = [b for b in range(start + 1, end + 1) if units[b].before >= Boundary.CUT]

    def latest(kind: Boundary) -> int | None:
        return max((b for b in candidates if units[b].before >= kind), default=None)

    for kind in (
        Boundary.SECTION,
        Boundary.PARAGRAPH,
        Boundary.SENTENCE,
        Boundary.CLAUSE,
        Boundary.SPACE,
    ):
        best = latest(kind)
        if best is not None and sizes[best - 1 - start] >= threshold:
            return best
    for kind in (Boundary.SPACE, Boundary.GLUE, Boundary.MARKER, Boundary.CUT):
        best = latest(kind)
        if best is not None:
            return best
    return end  # only NEVER gaps: cannot happen when _units validated the decorations


def _render_line(units: Sequence[_Unit]) -> str:
    direction = next((u.direction for u in units if u.direction is not None), None)
    first = units[0]
    out = [RLM] if first.rtl and direction is not Direction.RTL else []
    index = 0
    while index < len(units):
        run_end = index + 1
        while run_end < len(units) and units[run_end].span == units[index].span:
            run_end += 1
        if index:
            out.append(units[index].sep)  # between runs: outside the tags
        text = escape(
            units[index].text + "".join(u.sep + u.text for u in units[index + 1 : run_end])
        )
        unit = units[index]
        if unit.style is Style.BOLD:
            text = f"<b>{text}</b>"
        elif unit.style is Style.LINK:
            text = f'<a href="{escape(unit.href or "")}">{text}</a>'
        out.append(text)
        index = run_end
    return "".join(out)


def _render(units: Sequence[_Unit]) -> str:
    out: list[str] = []
    line_start = 0
    for index in range(1, len(units) + 1):
        if index == len(units) or units[index].starts_line:
            if line_start:
                out.append(units[line_start].sep)
            out.append(_render_line(units[line_start:index]))
            line_start = index
    return "".join(out)


def pack_blocks(
    blocks: Sequence[Block],
    *,
    limit: int = 4096,
    max_entities: int = 100,
    fill: float = DEFAULT_FILL,
) -> list[str]:
    """Render ``blocks`` as Telegram HTML messages, each within ``limit`` and ``max_entities``.

    With two or more messages each ends with a part indicator line ``(k/n)``.
    """
    if max_entities < 1:
        raise ValueError("max_entities must be at least 1")
    rtl = any(block.rtl for block in blocks)
    units = _units(blocks, limit)
    ranges = _plan(units, limit, max_entities, fill)
    reserve = 0
    digits = 0
    while len(ranges) > 1 and len(str(len(ranges))) > digits:
        # Every part carries "(k/n)": plan again with room for the widest such line.
        digits = len(str(len(ranges)))
        reserve = utf16_len(_indicator_line(10**digits - 1, 10**digits - 1, rtl))
        units = _units(blocks, limit - reserve)
        ranges = _plan(units, limit - reserve, max_entities, fill)
    alone = {units[i].block for i in range(*ranges[-1])} if ranges else set()
    if len(ranges) > 1 and all(blocks[i].optional for i in alone):
        kept = [block for i, block in enumerate(blocks) if i not in alone]
        return pack_blocks(kept, limit=limit, max_entities=max_entities, fill=fill)
    if len(ranges) <= 1:
        return [_render(units[a:b]) for a, b in ranges]
    total = len(ranges)
    return [
        _render(units[a:b]) + _indicator_line(k, total, rtl)
        for k, (a, b) in enumerate(ranges, start=1)
    ]
