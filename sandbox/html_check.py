"""Telegram's HTML parse mode: validate markup like Telegram and compute visible text + entities.

The rules follow Telegram's parser (tdlib ``parse_html``): only the documented tags, every tag
closed in order, only ``&lt; &gt; &amp; &quot;`` and numeric references decoded. Errors are worded
like Telegram's ("Unsupported start tag "p" at byte offset 12"), prefixed "can't parse entities: ".
In strict mode (the sandbox default) a bare ``&`` and a link that is not http(s)/tg/mailto are
errors too: Telegram lets them through silently, but they are almost always bot bugs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.errors import ApiError, bad_request

# Tag name -> entity type ("a" becomes text_link, "code" inside "pre" gives pre's language).
TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-time": "date_time",
}
LINK_SCHEMES = ("http://", "https://", "tg://", "mailto:")
_TRIM = " \t\n\r\x0b\x0c"
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPECIAL = re.compile(r"[<&]")
_REFERENCE = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([A-Za-z]+))(;?)")
_SPACES = re.compile(r"\s*")
_TAG_NAME = re.compile(r"[^\s>]*")
_ATTR_NAME = re.compile(r"[^\s=>]*")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]*")
_END_TAG = re.compile(r"</([^\s>]*)\s*(>?)")


@dataclass(frozen=True, slots=True)
class ParsedText:
    """What the recipient sees: the text without markup and the entities (UTF-16 offsets)."""

    text: str
    entities: tuple[dict[str, Any], ...]


@dataclass(slots=True)
class _Open:
    tag: str
    byte_pos: int
    u16: int
    piece: int
    attrs: dict[str, str]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts text and entity offsets in."""
    return len(text.encode("utf-16-le")) // 2


def _fail(text: str, detail: str, pos: int | None = None, tail: str = "") -> ApiError:
    """A "can't parse entities" error; ``pos`` (a str index) is reported as a UTF-8 byte offset."""
    where = "" if pos is None else f" at byte offset {len(text[:pos].encode('utf-8'))}"
    return bad_request(f"can't parse entities: {detail}{where}{tail}")


def _decode_reference(text: str, pos: int, strict: bool) -> tuple[str | None, int]:
    """The character an ``&...`` reference at ``pos`` stands for (``None``: a literal "&")."""
    m = _REFERENCE.match(text, pos)
    char: str | None = None
    if m is not None:
        hex_digits, dec_digits, name = m.group(1), m.group(2), m.group(3)
        if name is not None:
            char = _NAMED.get(name)
        else:
            code = int(hex_digits, 16) if hex_digits is not None else int(dec_digits)
            if 0 < code < 0x10FFFF and m.end() - pos < 12:
                char = chr(code)
    if char is None or (strict and m is not None and not m.group(4)):
        if strict:
            raise _fail(text, 'Character "&" must be escaped as "&amp;"', pos)
        return None, pos + 1
    assert m is not None
    return char, m.end()


def _decode_value(text: str, raw: str, strict: bool) -> str:
    """An attribute value with its character references decoded."""
    if "&" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while (j := raw.find("&", i)) != -1:
        out.append(raw[i:j])
        char, i = _decode_reference(raw, j, strict)
        out.append("&" if char is None else char)
    out.append(raw[i:])
    return "".join(out)


def _start_tag(text: str, pos: int, strict: bool) -> tuple[str, dict[str, str], int]:
    """Parse ``<name attr="v" ...>`` at ``pos``: tag name, attributes, position after ``>``."""
    n = len(text)
    m = _TAG_NAME.match(text, pos + 1)
    assert m is not None
    tag = m.group().lower()
    if tag not in TAG_ENTITY:
        raise _fail(text, f'Unsupported start tag "{tag}"', pos)
    attrs: dict[str, str] = {}
    i = m.end()
    while True:
        i = _SPACES.match(text, i).end()  # type: ignore[union-attr]
        if i >= n:
            raise _fail(text, "Unclosed start tag", pos)
        if text[i] == ">":
            break
        attr = _ATTR_NAME.match(text, i).group().lower()  # type: ignore[union-attr]
        if not attr:
            raise _fail(text, f'Empty attribute name in the tag "{tag}"', pos)
        i = _SPACES.match(text, i + len(attr)).end()  # type: ignore[union-attr]
        if i >= n or text[i] != "=":
            if tag == "blockquote" and attr == "expandable":
                attrs[attr] = ""
                continue
            raise _fail(
                text, f'Expected equal sign in declaration of an attribute of the tag "{tag}"', pos
            )
        i = _SPACES.match(text, i + 1).end()  # type: ignore[union-attr]
        if i >= n:
            raise _fail(text, "Unclosed start tag", pos)
        if text[i] in "\"'":
            end = text.find(text[i], i + 1)
            if end == -1:
                raise _fail(text, "Unclosed start tag", pos)
            attrs[attr] = _decode_value(text, text[i + 1 : end], strict)
            i = end + 1
        else:
            token = _NAME_TOKEN.match(text, i).group()  # type: ignore[union-attr]
            after = i + len(token)
            if after < n and not text[after].isspace() and text[after] != ">":
                raise _fail(text, "Unexpected end of name token", i)
            attrs[attr] = token.lower()
            i = after
    return tag, attrs, i + 1


def _check_open(text: str, tag: str, attrs: dict[str, str], pos: int) -> None:
    """Tag-specific attribute rules Telegram enforces when the tag opens."""
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise _fail(text, 'Tag "span" must have class "tg-spoiler"', pos)
    if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise _fail(text, 'Tag "tg-emoji" must have a numeric attribute "emoji-id"', pos)
    if tag == "tg-time" and not attrs.get("unix", "").lstrip("-").isdigit():
        raise _fail(text, 'Tag "tg-time" must have a numeric attribute "unix"', pos)


def _entity(text: str, top: _Open, inner: str, u16: int, strict: bool) -> dict[str, Any] | None:
    """The entity a closed tag produces, or ``None`` (empty, or a dropped bad link)."""
    length = u16 - top.u16
    if length <= 0:
        return None
    entity: dict[str, Any] = {"type": TAG_ENTITY[top.tag], "offset": top.u16, "length": length}
    attrs = top.attrs
    if top.tag == "a":
        url = attrs.get("href") or inner
        if not url.lower().startswith(LINK_SCHEMES):
            if strict:
                detail = f'Wrong URL "{url}" in the tag "a": only http(s), tg and mailto links'
                raise _fail(text, detail, top.byte_pos)
            return None  # Telegram silently drops links it cannot use
        entity["url"] = url
    elif top.tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif top.tag == "code" and attrs.get("class", "").startswith("language-"):
        entity["language"] = attrs["class"][len("language-") :]
    elif top.tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif top.tag == "tg-time":
        entity["unix_time"] = int(attrs["unix"])
        if attrs.get("format"):
            entity["date_time_format"] = attrs["format"]
    return entity


def parse_html(text: str, *, strict: bool = True) -> ParsedText:
    """Parse Telegram HTML; raise ``ApiError`` (400 can't parse entities) on invalid markup."""
    pieces: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    u16 = 0
    i = 0
    n = len(text)
    for m in _SPECIAL.finditer(text):
        pos = m.start()
        if pos < i:
            continue  # inside a tag or reference already consumed
        if pos > i:
            chunk = text[i:pos]
            pieces.append(chunk)
            u16 += utf16_len(chunk)
        if text[pos] == "&":
            char, i = _decode_reference(text, pos, strict)
            char = "&" if char is None else char
            pieces.append(char)
            u16 += utf16_len(char)
            continue
        if pos + 1 < n and text[pos + 1] == "/":
            if not stack:
                raise _fail(text, "Unexpected end tag", pos)
            end = _END_TAG.match(text, pos)
            assert end is not None
            if not end.group(2):
                raise _fail(text, "Unclosed end tag", pos)
            name = end.group(1).lower()
            top = stack[-1]
            if name and name != top.tag:
                tail = f', expected "</{top.tag}>", found "</{name}>"'
                raise _fail(text, "Unmatched end tag", pos, tail)
            stack.pop()
            entity = _entity(text, top, "".join(pieces[top.piece :]), u16, strict)
            if entity is not None:
                _add_entity(entities, entity)
            i = end.end()
            continue
        tag, attrs, i = _start_tag(text, pos, strict)
        _check_open(text, tag, attrs, pos)
        stack.append(_Open(tag, pos, u16, len(pieces), attrs))
    if stack:
        raise _fail(text, f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    if i < n:
        pieces.append(text[i:])
    return _trimmed("".join(pieces), entities)


def _add_entity(entities: list[dict[str, Any]], entity: dict[str, Any]) -> None:
    """Append, folding ``<pre><code class="language-x">`` into one pre entity with a language."""
    if entity["type"] == "pre" and entities:
        last = entities[-1]
        same_span = last["offset"] == entity["offset"] and last["length"] == entity["length"]
        if last["type"] == "code" and same_span:
            entities.pop()
            if "language" in last:
                entity["language"] = last["language"]
    entities.append(entity)


def _trimmed(visible: str, entities: list[dict[str, Any]]) -> ParsedText:
    """Strip outer whitespace as Telegram does, shifting and clipping entities to match."""
    stripped = visible.strip(_TRIM)
    if stripped == visible:
        entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText(visible, tuple(entities))
    lead = len(visible) - len(visible.lstrip(_TRIM))
    total = utf16_len(stripped)
    fixed = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    fixed.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(stripped, tuple(fixed))
