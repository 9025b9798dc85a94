"""Character-level clean-up of incoming article text: entities, whitespace, bidi and invisibles.

Only characters that are not part of words are touched: letters, digits, diacritics (tashkeel),
tatweel, emoji and ZWJ/ZWNJ inside words are always kept exactly as they came, except a vowel
mark stranded at a word's start by a typo, which goes back to the end of the word before it.
"""

from __future__ import annotations

import html
import html.entities
import re
import unicodedata

#: Everything Python (and Unicode) treats as a line break; a line is a paragraph in our input.
_LINE_BREAK_RE = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")

#: Horizontal whitespace that is shown as (or should be) a plain space, NBSP included.
_SPACE_RE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")

#: Only *terminated* entities (``&quot;``, ``&#171;``, ``&#xAB;``) are decoded: html.unescape alone
#: would also turn legacy unterminated names such as ``&not`` in "&notice" into "¬ice".
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

#: Invisible characters with no meaning in a news paragraph (zero-width space, word joiner,
#: BOM / zero-width no-break space, Mongolian vowel separator). ZWJ and ZWNJ are kept: they are
#: part of emoji sequences and of Persian/Urdu spelling.
_INVISIBLE = frozenset("\u200b\u2060\ufeff\u180e")

_EMBEDDING_OPENERS = frozenset("\u202a\u202b\u202d\u202e")  # LRE RLE LRO RLO, closed by PDF
_PDF = "\u202c"
_ISOLATE_OPENERS = frozenset("\u2066\u2067\u2068")  # LRI RLI FSI, closed by PDI
_PDI = "\u2069"
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: Whitespace controls that never count towards "this looks like binary data".
_TEXT_CONTROLS = frozenset("\t\n\r\v\f")


def decode_entities(text: str) -> str:
    """Decode terminated HTML entities (``&quot;`` ``&amp;`` ``&#171;`` ``&nbsp;``) once."""
    if "&" not in text:
        return text
    return _ENTITY_RE.sub(_decode_entity, text)


#: An ``&`` and the entity reference it may start (``None`` group: a bare ampersand).
_AMPERSAND_RE = re.compile(r"&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)?")


def escape_undecodable(markup: str) -> str:
    """Escape every ``&`` that does not start a complete, known entity (``&amp;`` for it).

    For decoders that follow HTML's legacy rules (``html.unescape``, ``HTMLParser``), so they
    decode exactly what :func:`decode_entities` does and keep the rest as written.
    """
    if "&" not in markup:
        return markup
    return _AMPERSAND_RE.sub(_escape_ampersand, markup)


def _escape_ampersand(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref is None or (ref[0] != "#" and ref not in html.entities.html5):
        return "&amp;" + (ref or "")
    return match.group(0)


def _decode_entity(match: re.Match[str]) -> str:
    # html.unescape also decodes a known prefix of an unknown name ("&notanentity;" → "¬anentity;"):
    # a named entity is decoded only when the whole name is one, otherwise kept as written.
    entity = match.group(0)
    if entity[1] != "#" and entity[1:] not in html.entities.html5:
        return entity
    return html.unescape(entity)


def balance_bidi(line: str) -> str:
    """Drop bidi embedding/override/isolate controls that are not properly paired within the line.

    Balanced pairs are author intent (e.g. an isolated Latin name) and are kept, unless they
    hold no letter or digit; an unclosed opener or a stray closer would change the direction of
    everything after it in a message.
    """
    if not any(ch in BIDI_CONTROLS for ch in line):
        return line
    keep = [True] * len(line)
    stack: list[int] = []  # indices of open embeddings/isolates, innermost last
    pairs: list[tuple[int, int]] = []
    for index, ch in enumerate(line):
        if ch in _EMBEDDING_OPENERS or ch in _ISOLATE_OPENERS:
            stack.append(index)
        elif ch == _PDF:
            if stack and line[stack[-1]] in _EMBEDDING_OPENERS:
                pairs.append((stack.pop(), index))
            else:
                keep[index] = False
        elif ch == _PDI:
            isolate = next((i for i in reversed(stack) if line[i] in _ISOLATE_OPENERS), None)
            if isolate is None:
                keep[index] = False
                continue
            # A PDI also terminates any embedding opened inside the isolate; those are unclosed.
            while stack[-1] != isolate:
                keep[stack.pop()] = False
            pairs.append((stack.pop(), index))
    for index in stack:
        keep[index] = False
    for start, end in pairs:
        # A pair around nothing but punctuation («الإيرانية‪.‬») says no direction: a full stop
        # embedded left-to-right only risks showing at the wrong end of the line.
        if not any(ch.isalnum() for ch in line[start + 1 : end]):
            keep[start] = keep[end] = False
    return "".join(ch for ch, kept in zip(line, keep, strict=True) if kept)


#: A vowel mark typed after the space instead of before it («خطة َماي», «البريطانية ُتيريزا»):
#: it belongs to the end of the word before (and shows on a dotted circle where it stands).
_STRANDED_MARK_RE = re.compile(
    "(?<=[\u0621-\u064a])( +)([\u064b-\u065f\u0670]+)(?=[\u0621-\u064a])"
)


def reattach_stranded_marks(line: str) -> str:
    """Move Arabic vowel marks stranded at a word's start back to the end of the word before."""
    return _STRANDED_MARK_RE.sub(r"\2\1", line)


def _is_blank(line: str) -> bool:
    """A line with nothing visible: only spaces and format characters (LRM, RLM, ZWJ ...)."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in line)


def normalize_line(line: str) -> str:
    """One line with spaces unified and collapsed, junk invisibles dropped and edges stripped.

    The line must not contain line breaks (see :func:`clean_lines`); entities are not decoded
    here. Returns ``""`` for a line with nothing visible on it.
    """
    line = "".join(
        ch
        for ch in line
        if ch not in _INVISIBLE and (ch == "\t" or unicodedata.category(ch) != "Cc")
    )
    line = balance_bidi(line)
    line = reattach_stranded_marks(_SPACE_RE.sub(" ", line).strip(" "))
    return "" if _is_blank(line) else line


def normalize_inline(text: str) -> str:
    """A single-line field (title, heading, source): entities decoded, all whitespace collapsed."""
    return normalize_line(_LINE_BREAK_RE.sub(" ", decode_entities(text)))


def clean_lines(text: str) -> list[str]:
    """The visible lines of ``text``, entities decoded and each line normalised; blanks dropped."""
    lines = (normalize_line(raw) for raw in _LINE_BREAK_RE.split(decode_entities(text)))
    return [line for line in lines if line]


def binary_reason(text: str) -> str | None:
    """Why ``text`` looks like binary data rather than an article, or ``None`` when it is text.

    Any NUL or lone surrogate is binary; otherwise more than one control (or U+FFFD replacement)
    character per ten visible characters is.
    """
    if "\x00" in text:
        return "contains NUL bytes"
    junk = 0
    visible = 0
    for ch in text:
        if ch.isspace():
            continue
        visible += 1
        category = unicodedata.category(ch)
        if category == "Cs":
            return "contains invalid Unicode (lone surrogates)"
        if (category == "Cc" and ch not in _TEXT_CONTROLS) or ch == "\ufffd":
            junk += 1
    if junk and junk * 10 > visible:
        return f"looks like binary data ({junk} control characters)"
    return None
