"""Turn raw newsroom/scraper article text (or its JSON form) into an :class:`Article`.

Text input: the first visible line is the headline (a leading breaking label such as ``عاجل|``
sets ``breaking`` and is removed, see :mod:`bot.breaking`; a wire desk «عام /» and add
«إضافة أولى» are cut and recorded as residue); every further line is a paragraph,
short introducing lines become section headings (:mod:`bot.headings`), scraper residue is dropped
and recorded in ``Article.residue`` with its reason (:mod:`bot.residue`), and
entities/whitespace/bidi controls are normalised (:mod:`bot.textclean`).
Blank lines carry no meaning: one line is one paragraph.

JSON input uses the model's field names; ``body`` (a text body, parsed like the text form) may
replace ``sections``. Its text fields get the same character normalisation, but its
paragraphs and headings are taken as given (no residue removal, no heading detection).
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from bot import textclean
from bot.breaking import detect_breaking
from bot.headings import build_sections
from bot.models import Article, not_in_future
from bot.residue import drop_leading_residue, split_residue, split_wire_tags

__all__ = [
    "ParseError",
    "ParseErrorCode",
    "detect_breaking",
    "parse_bytes",
    "parse_json",
    "parse_text",
]

logger = logging.getLogger(__name__)

ParseErrorCode = Literal[
    "empty", "no_body", "binary", "too_large", "invalid_json", "invalid_article"
]

_JSON_FIELDS = frozenset(Article.model_fields) | {"body"}


class ParseError(ValueError):
    """Input that cannot become an article; ``message`` is English, ``arabic`` is for admins.

    ``field`` names the JSON field (dotted for nested ones, e.g. ``sections.0.text``) that
    failed validation, and is ``None`` when the refusal is not about one field.
    """

    def __init__(
        self, code: ParseErrorCode, message: str, arabic: str, *, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.code: ParseErrorCode = code
        self.message = message
        self.arabic = arabic
        self.field = field


def _empty() -> ParseError:
    return ParseError("empty", "article text is empty", "نص المقال فارغ")


def _no_body() -> ParseError:
    return ParseError(
        "no_body",
        "article has a headline but no body (only breaking news may be headline-only)",
        "للمقال عنوان بلا نص، والعنوان وحده مسموح للأخبار العاجلة فقط",
    )


def _invalid(field: str, problem: str, arabic_problem: str) -> ParseError:
    return ParseError(
        "invalid_article",
        f"invalid article: field '{field}' {problem}",
        f"مقال غير صالح: الحقل «{field}» {arabic_problem}",
        field=field,
    )


def _from_validation_error(exc: ValidationError) -> ParseError:
    """The first pydantic error as a one-line ParseError naming the field."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first.get("loc", ()))
    field = loc or "article"
    kind = first.get("type", "")
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    if kind == "missing":
        refusal = _invalid(field, "is required", "مطلوب")
    elif kind == "extra_forbidden":
        refusal = _invalid(field, "is not a known field", "غير معروف")
    else:
        refusal = _invalid(field, f"is invalid: {message}", f"غير صالح: {message}")
    if not loc:
        refusal.field = None  # a problem of the whole article: "article" is no JSON field
    return refusal


def _check_text(text: str) -> None:
    """Refuse empty and binary-looking text before any work is done on it."""
    if not text or text.isspace():
        raise _empty()
    reason = textclean.binary_reason(text)
    if reason is not None:
        raise ParseError(
            "binary",
            f"article is not text: it {reason}",
            "المقال ليس نصًا بل يبدو بيانات ثنائية",
        )


def _title_and_body(lines: list[str]) -> tuple[bool, str, list[str]]:
    """Split cleaned lines into (label found, headline without label, body lines)."""
    lines = drop_leading_residue(lines)
    if not lines:
        raise _empty()
    found, title = detect_breaking(lines[0])
    rest = lines[1:]
    # A label on a line of its own ("🔴 عاجل" then the news): the next line is the headline.
    while found and not title and rest:
        more, title = detect_breaking(rest[0])
        rest = rest[1:]
        if not more:
            break
    if not title:
        raise ParseError(
            "empty",
            "article has a breaking label but no headline",
            "للمقال علامة «عاجل» بلا عنوان",
        )
    return found, title, rest


def _optional_text(value: str | None) -> str | None:
    """A normalised single-line optional field; blank becomes ``None``."""
    if value is None:
        return None
    return textclean.normalize_inline(value) or None


def _build(fields: dict[str, Any]) -> Article:
    """Validate the article, turning pydantic errors into ParseError, and enforce a body."""
    try:
        article = Article.model_validate(fields)
    except ValidationError as exc:
        raise _from_validation_error(exc) from None
    if not article.breaking and not article.has_body():
        raise _no_body()
    if article.published_at is not None:
        article.published_at = not_in_future(article.published_at)
    return article


def parse_text(
    text: str,
    *,
    breaking: bool | None = None,
    url: str | None = None,
    source: str | None = None,
    published_at: datetime | None = None,
) -> Article:
    """Parse raw article text (headline line, then one paragraph per line) into an Article.

    ``breaking`` forces the flag (``None``: detect the label); a label is always removed from
    the headline. Raises :class:`ParseError` for empty, binary or body-less non-breaking text.
    """
    _check_text(text)
    lines = textclean.clean_lines(text)
    if not lines:
        raise _empty()
    found, title, body = _title_and_body(lines)
    title, tags = split_wire_tags(title)
    kept, residue = split_residue(body)
    return _build(
        {
            "title": title,
            "breaking": found if breaking is None else breaking,
            "sections": build_sections(kept),
            "residue": tags + residue,
            "url": _optional_text(url),
            "source": _optional_text(source),
            "published_at": published_at,
        }
    )


def _normalize_paragraphs(value: object) -> object:
    """Paragraph strings normalised (a string with line breaks becomes several paragraphs)."""
    if not isinstance(value, list):
        return value
    out: list[object] = []
    for item in value:
        if isinstance(item, str):
            out.extend(textclean.clean_lines(item))
        else:
            out.append(item)  # left for validation to report with its position
    return out


def _normalize_sections(value: object) -> object:
    """JSON sections with their text normalised; sections left with nothing in them dropped."""
    if not isinstance(value, list):
        return value
    out: list[object] = []
    for item in value:
        if not isinstance(item, dict):
            out.append(item)
            continue
        section = dict(item)
        if isinstance(section.get("heading"), str):
            section["heading"] = textclean.normalize_inline(section["heading"]) or None
        if "paragraphs" in section:
            section["paragraphs"] = _normalize_paragraphs(section["paragraphs"])
        if section.get("heading") is None and section.get("paragraphs", []) == []:
            continue
        out.append(section)
    return out


#: A number spelled as text ("0", "1714557600", "17e8"): what pydantic reads as a Unix time.
_NUMBER_RE = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def _fields_from_mapping(data: Mapping[str, object]) -> dict[str, Any]:
    """Model fields from a JSON object: unknown names refused, text normalised, body parsed."""
    unknown = [str(key) for key in data if key not in _JSON_FIELDS]
    if unknown:
        raise _invalid(unknown[0], "is not a known field", "غير معروف")
    fields: dict[str, Any] = dict(data)
    breaking = fields.get("breaking")
    if breaking is not None and not isinstance(breaking, bool):
        # pydantic would read "yes", "no", 1 or 0 as a boolean: an alert must be meant.
        raise _invalid(
            "breaking", "must be true or false (a JSON boolean)", "يجب أن يكون true أو false"
        )
    when = fields.get("published_at")
    if when is not None and (not isinstance(when, str) or _NUMBER_RE.match(when)):
        # pydantic would read a number (or "1714557600") as a Unix time, guessing seconds or
        # milliseconds: 0 became 1970-01-01. The contract is an ISO 8601 string.
        raise _invalid(
            "published_at",
            "must be an ISO 8601 date-time string (e.g. 2024-05-01T10:00:00Z), not a number",
            "يجب أن يكون تاريخًا بصيغة ISO 8601 (مثل 2024-05-01T10:00:00Z) لا رقمًا",
        )
    if "body" in fields:
        if fields.get("sections") is not None:
            raise _invalid(
                "body", "cannot be given together with 'sections'", "لا يجتمع مع «sections»"
            )
        body = fields.pop("body")
        if body is not None and not isinstance(body, str):
            raise _invalid("body", "must be a string", "يجب أن يكون نصًا")
        kept, residue = split_residue(textclean.clean_lines(body or ""))
        fields["sections"] = build_sections(kept)
        if residue:
            given = fields.get("residue")
            fields["residue"] = [*(given if isinstance(given, list) else []), *residue]
    elif "sections" in fields:
        fields["sections"] = _normalize_sections(fields["sections"])
    title = fields.get("title")
    if isinstance(title, str):
        found, stripped = detect_breaking(textclean.normalize_inline(title))
        fields["title"] = stripped
        if fields.get("breaking") is None:
            fields["breaking"] = found
    for name in ("url", "source"):
        if isinstance(fields.get(name), str):
            fields[name] = textclean.normalize_inline(fields[name]) or None
    if fields.get("id") == "":
        fields["id"] = None
    tags = fields.get("tags")
    if isinstance(tags, list):
        normalized = [textclean.normalize_inline(t) if isinstance(t, str) else t for t in tags]
        fields["tags"] = [t for t in normalized if t != ""]
    if fields.get("breaking") is None:
        fields.pop("breaking", None)
    return fields


#: A lone surrogate: JSON's ``\\ud800`` escapes allow it, but it is no Unicode character and
#: cannot be stored (UTF-8 has no encoding for it).
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _shown(name: str) -> str:
    """A field name as it can be printed and sent back (surrogates as ``\\udXXX`` escapes)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _refuse_surrogates(data: Mapping[str, object]) -> None:
    """Refuse a JSON article with a lone surrogate in any string, naming the field (dotted)."""
    # Iterative: a document nested as deeply as json.loads allows must not overflow the stack.
    pending: list[tuple[str, object]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if _SURROGATE_RE.search(value):
                raise _invalid(
                    path,
                    "contains a lone surrogate (e.g. \\ud800), which is not Unicode text",
                    "يحتوي على محارف يونيكود غير صالحة",
                )
        elif isinstance(value, Mapping):
            children: list[tuple[str, object]] = []
            for key, item in value.items():
                name = f"{path}.{key}" if path else str(key)
                if _SURROGATE_RE.search(name):
                    raise _invalid(
                        _shown(name),
                        "has a name with a lone surrogate, which is not Unicode text",
                        "اسمه يحتوي على محارف يونيكود غير صالحة",
                    )
                children.append((name, item))
            pending.extend(reversed(children))  # report the first bad field in document order
        elif isinstance(value, list):
            pending.extend(reversed([(f"{path}.{i}", item) for i, item in enumerate(value)]))


def _loads(text: str) -> Mapping[str, object]:
    """The JSON object in ``text``, or an ``invalid_json`` ParseError saying where it broke."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            "invalid_json",
            f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            f"صيغة JSON غير صالحة (السطر {exc.lineno}، العمود {exc.colno})",
        ) from None
    except RecursionError:
        raise ParseError(
            "invalid_json", "malformed JSON: nested too deeply", "صيغة JSON متداخلة أكثر من اللازم"
        ) from None
    if not isinstance(data, dict):
        raise ParseError(
            "invalid_json",
            f"JSON article must be an object, not {type(data).__name__}",
            "يجب أن يكون مقال JSON كائنًا { … }",
        )
    return data


def _is_utf16(data: bytes) -> bool:
    """Whether bytes are UTF-16 text: a UTF-16 byte order mark, or NULs that decode as text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" not in data or len(data) % 2:
        return False
    # ASCII characters (spaces, digits, newlines) put a NUL into every other byte.
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if textclean.binary_reason(text) is None:
            return True
    return False


def _decode(data: bytes) -> str:
    """Strict UTF-8 (a leading BOM allowed), or a ``binary`` ParseError naming the bad byte."""
    if _is_utf16(data):
        # Said before the NUL check: "contains NUL bytes" misleads whoever saved it as UTF-16.
        raise ParseError(
            "binary",
            "article is not UTF-8 text: it is UTF-16; save or send it as UTF-8",
            "المقال ليس بترميز UTF-8 بل UTF-16؛ احفظه أو أرسله بترميز UTF-8",
        )
    if b"\x00" in data:
        raise ParseError(
            "binary",
            "article is binary data, not text: it contains NUL bytes",
            "المقال ملف ثنائي وليس نصًا (يحتوي على بايتات NUL)",
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            "binary",
            f"article is not UTF-8 text (binary data?): bad byte 0x{data[exc.start]:02x}"
            f" at offset {exc.start}",
            "المقال ليس نصًا بترميز UTF-8 (ربما ملف ثنائي)",
        ) from None


def _parse_json(data: str | bytes | Mapping[str, object], breaking: bool | None) -> Article:
    if isinstance(data, bytes):
        data = _decode(data)
    if isinstance(data, str):
        _check_text(data)
        data = _loads(data.removeprefix("\ufeff"))
    _refuse_surrogates(data)
    fields = _fields_from_mapping(data)
    if breaking is not None:
        fields["breaking"] = breaking
    return _build(fields)


def parse_json(data: str | bytes | Mapping[str, object]) -> Article:
    """Parse the JSON form of an article (model field names; ``body`` may replace ``sections``).

    Unknown fields, wrong types and a missing title raise ``invalid_article`` naming the field;
    unparseable JSON raises ``invalid_json``. ``breaking`` absent means: detect the label.
    """
    return _parse_json(data, None)


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def parse_bytes(
    data: bytes,
    *,
    max_bytes: int,
    content_type: str | None = None,
    breaking: bool | None = None,
) -> Article:
    """Parse an uploaded/posted article: size-checked, strictly UTF-8, JSON or text.

    JSON is chosen by ``content_type`` (``application/json`` or ``+json``) or, without one, by a
    payload that opens like a JSON object (:func:`looks_like_json`). ``breaking`` forces the
    flag for either form.
    """
    if len(data) > max_bytes:
        raise ParseError(
            "too_large",
            f"article is {len(data)} bytes, over the limit of {max_bytes} bytes",
            f"حجم المقال {len(data)} بايت، وهو أكبر من الحد المسموح ({max_bytes} بايت)",
        )
    text = _decode(data)
    is_json = _is_json_type(content_type) if content_type is not None else looks_like_json(text)
    logger.debug("parsing %d bytes as %s", len(data), "json" if is_json else "text")
    if is_json:
        return _parse_json(text, breaking)
    return parse_text(text, breaking=breaking)


#: The opening of a JSON object: a brace, then a quoted member name or the closing brace.
_JSON_OPENING_RE = re.compile(r"^\{\s*[\"}]")


def looks_like_json(text: str) -> bool:
    """Whether untyped input is meant as the JSON form: it opens like a JSON object.

    Headlines may begin with a brace (``{الشرق الأوسط} تنشر …``, a real newspaper style), so a
    leading ``{`` alone does not make JSON; ``{"`` or ``{}`` does, and such input that then
    fails to parse is refused as malformed JSON rather than published as a garbled headline.
    """
    return _JSON_OPENING_RE.match(text.lstrip("\ufeff \t\r\n")) is not None
