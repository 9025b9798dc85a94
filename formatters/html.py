"""Telegram-flavoured HTML: escaping, parsing as Telegram does, visible length and entity count.

The parser follows Telegram's own (tdlib ``parse_html``): only the Bot API tags are allowed, only
``&lt; &gt; &amp; &quot;`` and numeric references are decoded (the ``;`` is optional), any other
``&`` stays literal, and an element with no text produces no entity. Lengths are counted in UTF-16
code units because that is how Telegram measures the 4096-character limit and entity offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Tags the Bot API accepts in ``parse_mode=HTML``.
SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_SPACE = " \t\n\r\f\v"
_NAME_TOKEN_RE = re.compile(r"[A-Za-z0-9.-]*")


class HtmlError(ValueError):
    """The text would be rejected by Telegram's HTML parser (or, in strict mode, is sloppy)."""


@dataclass(frozen=True)
class Entity:
    """One formatting entity Telegram would create: tag, UTF-16 offset and length, link target."""

    tag: str
    offset: int
    length: int
    href: str | None = None


@dataclass(frozen=True)
class ParsedHtml:
    """The result of parsing: the visible text and its formatting entities."""

    text: str
    entities: tuple[Entity, ...]


def escape(text: str) -> str:
    """Escape article text for Telegram HTML (``& < > "``; safe in text and in attribute values)."""
    return text.translate(_ESCAPES)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's message limit (emoji outside BMP = 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _decode_entity(html: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``html[pos] == '&'`` the way tdlib does, or ``None``."""
    end = pos + 1
    if html.startswith("#", end):
        end += 1
        value = 0
        if html.startswith("x", end):
            end += 1
            while end < len(html) and html[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(html[end], 16)
                end += 1
        else:
            while end < len(html) and "0" <= html[end] <= "9":
                value = value * 10 + int(html[end])
                end += 1
        # tdlib rejects zero, out-of-range values and overlong references (kept as literal text).
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < len(html) and html[end].isascii() and html[end].isalpha():
            end += 1
        name = html[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[name]
    if html.startswith(";", end):
        end += 1
    return char, end


def _skip_space(html: str, pos: int) -> int:
    while pos < len(html) and html[pos] in _SPACE:
        pos += 1
    return pos


def _parse_start_tag(html: str, begin: int) -> tuple[str, dict[str, str], int]:
    """Parse ``<name attr="v" ...>`` starting at ``begin``; returns name, attributes, next index."""
    pos = begin + 1
    while pos < len(html) and html[pos] not in _SPACE and html[pos] != ">":
        pos += 1
    if pos >= len(html):
        raise HtmlError(f"unclosed start tag at offset {begin}")
    name = html[begin + 1 : pos].lower()
    if name not in SUPPORTED_TAGS:
        raise HtmlError(f'unsupported start tag "{name}" at offset {begin}')
    attrs: dict[str, str] = {}
    while True:
        pos = _skip_space(html, pos)
        if pos >= len(html):
            raise HtmlError(f'unclosed start tag "{name}" at offset {begin}')
        if html[pos] == ">":
            return name, attrs, pos + 1
        attr_begin = pos
        while pos < len(html) and html[pos] not in _SPACE and html[pos] not in "=>":
            pos += 1
        attr_name = html[attr_begin:pos].lower()
        if not attr_name:
            raise HtmlError(f'empty attribute name in tag "{name}" at offset {begin}')
        pos = _skip_space(html, pos)
        if pos >= len(html) or html[pos] != "=":
            # Bare attributes such as <blockquote expandable> are allowed by the Bot API.
            attrs[attr_name] = ""
            continue
        pos = _skip_space(html, pos + 1)
        if pos >= len(html):
            raise HtmlError(f'unclosed start tag "{name}" at offset {begin}')
        quote = html[pos]
        if quote in "'\"":
            pos += 1
            value: list[str] = []
            while pos < len(html) and html[pos] != quote:
                if html[pos] == "&" and (decoded := _decode_entity(html, pos)) is not None:
                    value.append(decoded[0])
                    pos = decoded[1]
                    continue
                if html[pos] == "<":
                    raise HtmlError(f"'<' inside an attribute value at offset {pos}")
                value.append(html[pos])
                pos += 1
            if pos >= len(html):
                raise HtmlError(f'unclosed attribute value in tag "{name}" at offset {begin}')
            attrs[attr_name] = "".join(value)
            pos += 1
        else:
            match = _NAME_TOKEN_RE.match(html, pos)
            assert match is not None  # the pattern also matches the empty string
            pos = match.end()
            if pos < len(html) and html[pos] not in _SPACE and html[pos] != ">":
                raise HtmlError(f"unexpected end of name token at offset {pos}")
            attrs[attr_name] = match.group().lower()


@dataclass
class _Open:
    name: str
    attrs: dict[str, str]
    offset: int
    begin: int


def parse_html(html: str, *, strict: bool = False) -> ParsedHtml:
    """Parse Telegram HTML into visible text and entities; raise HtmlError where Telegram would.

    With ``strict=True`` also reject what Telegram merely tolerates but a careful producer never
    emits: a raw ``>`` or a ``&`` that does not start a supported reference, and empty elements.
    """
    out: list[str] = []
    offset = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    pos = 0
    while pos < len(html):
        char = html[pos]
        if char == "&":
            decoded = _decode_entity(html, pos)
            if decoded is not None:
                out.append(decoded[0])
                offset += utf16_len(decoded[0])
                pos = decoded[1]
                continue
            if strict:
                raise HtmlError(f"unescaped '&' at offset {pos}")
        if char == ">" and strict:
            raise HtmlError(f"unescaped '>' at offset {pos}")
        if char != "<":
            out.append(char)
            offset += utf16_len(char)
            pos += 1
            continue
        if html.startswith("/", pos + 1):
            pos = _close_tag(html, pos, stack, entities, offset, strict)
            continue
        name, attrs, pos = _parse_start_tag(html, pos)
        _check_attributes(name, attrs, pos)
        stack.append(_Open(name, attrs, offset, pos))
    if stack:
        raise HtmlError(f'no end tag for start tag "{stack[-1].name}"')
    text = "".join(out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise HtmlError("text contains unpaired surrogate code points")
    entities.sort(key=lambda e: (e.offset, -e.length))
    return ParsedHtml(text, tuple(entities))


def _check_attributes(name: str, attrs: dict[str, str], pos: int) -> None:
    """Tags whose meaning depends on an attribute must carry it (Bot API rules)."""
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlError(f'<span> without class="tg-spoiler" before offset {pos}')
    if name == "tg-emoji" and not attrs.get("emoji-id"):
        raise HtmlError(f"<tg-emoji> without emoji-id before offset {pos}")


def _close_tag(
    html: str, begin: int, stack: list[_Open], entities: list[Entity], offset: int, strict: bool
) -> int:
    """Handle ``</name>`` at ``begin``: match it against the open tag and record the entity."""
    if not stack:
        raise HtmlError(f"unexpected end tag at offset {begin}")
    pos = begin + 2
    while pos < len(html) and html[pos] not in _SPACE and html[pos] != ">":
        pos += 1
    end_name = html[begin + 2 : pos]
    pos = _skip_space(html, pos)
    if pos >= len(html) or html[pos] != ">":
        raise HtmlError(f"unclosed end tag at offset {begin}")
    opened = stack.pop()
    if end_name and end_name != opened.name:
        raise HtmlError(f'unmatched end tag at offset {begin}: expected "</{opened.name}>"')
    length = offset - opened.offset
    if length > 0:
        _add_entity(opened, length, entities)
    elif strict:
        raise HtmlError(f"empty <{opened.name}> element at offset {opened.begin}")
    return pos + 1


def _add_entity(opened: _Open, length: int, entities: list[Entity]) -> None:
    # <pre><code class="language-x"> over the same text is ONE pre-with-language entity.
    if opened.name in ("pre", "code") and entities:
        last = entities[-1]
        pair = {last.tag, opened.name}
        if pair == {"pre", "code"} and (last.offset, last.length) == (opened.offset, length):
            return
    href = opened.attrs.get("href") if opened.name == "a" else None
    entities.append(Entity(opened.name, opened.offset, length, href))


def visible_text(html: str) -> str:
    """The text Telegram shows for ``html``: tags removed, supported references decoded."""
    return parse_html(html).text


def visible_len(html: str) -> int:
    """Telegram's length of ``html`` in UTF-16 code units (what the 4096 limit applies to)."""
    return utf16_len(visible_text(html))


def count_entities(html: str) -> int:
    """How many formatting entities Telegram creates for ``html`` (each non-empty tag is one)."""
    return len(parse_html(html).entities)


def validate_html(html: str, *, strict: bool = True) -> None:
    """Raise HtmlError unless ``html`` is well-formed Telegram HTML (strict escaping by default)."""
    parse_html(html, strict=strict)
