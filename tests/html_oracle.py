"""An independent oracle for Telegram HTML (stdlib html.parser) and article-word bookkeeping.

The formatter tests use these helpers so that the formatters are checked against code that
shares nothing with ``formatters.html``; tests/test_formatters_checks.py proves the oracle itself
rejects what Telegram would reject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from bot.models import Article, Section

_ALLOWED = {"b", "a"}  # the only tags the news formatters emit
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
RLM = "\u200f"
MARKER_PREFIX = "🔴 عاجل | "
LINK_LINE = "🔗 المصدر"
INDICATOR_RE = re.compile(r"\n\n\u200f?\((\d+)/(\d+)\)\Z")


@dataclass
class Checked:
    """What the oracle found in one message: visible text, entity count, bold lines."""

    text: str
    entities: int
    hrefs: list[str] = field(default_factory=list)


class _StrictTelegramHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.stack: list[tuple[str, int]] = []
        self.entities = 0
        self.hrefs: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED:
            self.errors.append(f"tag <{tag}> not expected")
        if tag == "a":
            href = dict(attrs).get("href")
            if not href:
                self.errors.append("<a> without href")
            else:
                self.hrefs.append(href)
        self.stack.append((tag, len("".join(self.out))))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"unbalanced </{tag}>")
            return
        _, start = self.stack.pop()
        if len("".join(self.out)) > start:
            self.entities += 1
        else:
            self.errors.append(f"empty <{tag}>")

    def handle_data(self, data: str) -> None:
        for char in "<>&":
            if char in data:
                self.errors.append(f"raw {char!r} in text")
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _NAMED:
            self.errors.append(f"entity &{name}; not supported by Telegram")
        self.out.append(_NAMED.get(name, ""))

    def handle_charref(self, name: str) -> None:
        self.out.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))

    def unknown_decl(self, data: str) -> None:
        self.errors.append(f"declaration {data!r}")

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_pi(self, data: str) -> None:
        self.errors.append("processing instruction")


def check_html(html: str) -> Checked:
    """Parse ``html`` strictly; fail the test on anything Telegram (or good hygiene) rejects."""
    parser = _StrictTelegramHtml()
    parser.feed(html)
    parser.close()
    if parser.rawdata:
        parser.errors.append(f"unparsed tail {parser.rawdata[:20]!r}")
    if parser.stack:
        parser.errors.append(f"unclosed <{parser.stack[-1][0]}>")
    assert not parser.errors, (parser.errors, html[:300])
    return Checked("".join(parser.out), parser.entities, parser.hrefs)


def utf16_units(text: str) -> int:
    """UTF-16 length computed the slow, obvious way."""
    return len(text.encode("utf-16-le")) // 2


def article_words(article: Article) -> list[str]:
    """The article's words in reading order: headline, then per section heading and paragraphs."""
    texts = [article.title]
    for section in article.sections:
        texts.extend([section.heading] if section.heading else [])
        texts.extend(section.paragraphs)
    return " ".join(texts).split()


def strip_known_decorations(visible: list[str], *, breaking: bool, url: bool) -> list[str]:
    """Per message, the text left once marker, indicator, link line and leading RLMs are removed."""
    total = len(visible)
    out = []
    for index, text in enumerate(visible, start=1):
        if total > 1:
            match = INDICATOR_RE.search(text)
            assert match, f"message {index} has no part indicator: {text[-40:]!r}"
            assert (int(match.group(1)), int(match.group(2))) == (index, total)
            text = text[: match.start()]
        else:
            assert not INDICATOR_RE.search(text), "a single message must not carry (1/1)"
        # The source link closes the last message, unless it would have been a message alone.
        if url and index == total and text.endswith("\n\n" + LINK_LINE):
            text = text[: -len(LINK_LINE) - 2]
        assert LINK_LINE not in text
        if breaking and index == 1:
            assert text.startswith(MARKER_PREFIX), text[:30]
            text = text[len(MARKER_PREFIX) :]
        out.append("\n".join(line.removeprefix(RLM) for line in text.split("\n")))
    return out


def load_corpus_article(path: Path) -> Article:
    """Parse a corpus file with the project parser, or a minimal loader while it is missing."""
    text = path.read_text(encoding="utf-8")
    try:
        from bot.parser import parse_text
    except ImportError:  # pragma: no cover - only before bot/parser.py exists
        lines = text.splitlines()
        paragraphs = [" ".join(line.split()) for line in lines[1:] if line.strip()]
        return Article(title=" ".join(lines[0].split()), sections=[Section(paragraphs=paragraphs)])
    return parse_text(text)
