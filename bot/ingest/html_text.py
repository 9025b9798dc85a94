"""HTML from feeds → clean text paragraphs: no tags, entities decoded, blocks become paragraphs."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.textclean import escape_undecodable

#: Elements that start or end a paragraph (``<br>`` too: feeds use it as a paragraph break).
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr",
        "ul",
    }
)  # fmt: skip

#: Elements whose content is never text for a reader.
DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head", "select"}
)

#: Void elements never have an end tag, so they must not open a dropped/ignored region.
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"})

BULLET = "• "

_HAS_BLOCK_RE = re.compile(r"<\s*/?\s*(?:p|br|div|li|h[1-6]|blockquote|tr|section|article)\b", re.I)
_BLANK_LINES_RE = re.compile(r"\n\s*\n")


class _TextCollector(HTMLParser):
    """Collects text runs, breaking paragraphs at block elements and skipping dropped ones."""

    def __init__(self, *, lines_are_paragraphs: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._dropped_depth = 0
        self._lines_are_paragraphs = lines_are_paragraphs

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_TAGS and tag not in _VOID_TAGS:
            self._dropped_depth += 1
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "li" and not self._dropped_depth:
                # List items stay recognisable as a list once the markup is gone.
                self._current.append(BULLET)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # "<br/>" and friends: a break, never the opening of a dropped region.
        if tag in BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_TAGS:
            self._dropped_depth = max(0, self._dropped_depth - 1)
        elif tag in BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._dropped_depth:
            return
        if self._lines_are_paragraphs and "\n" in data:
            # Markup-free text (a plain summary): its line breaks are the paragraph breaks.
            first, *rest = data.split("\n")
            self._current.append(first)
            for line in rest:
                self._flush()
                self._current.append(line)
        else:
            self._current.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text and text != BULLET.strip():
            self.paragraphs.append(text)
        self._current = []

    def close(self) -> None:
        """Finish parsing and emit the last paragraph."""
        super().close()
        self._flush()


def html_to_paragraphs(markup: str) -> list[str]:
    """Clean text paragraphs of an HTML fragment (or of plain text, one paragraph per line)."""
    if not markup or not markup.strip():
        return []
    # Without any block element the fragment is text with maybe inline tags; there its line
    # breaks are the only paragraph structure (HTML would collapse them into spaces).
    collector = _TextCollector(lines_are_paragraphs=_HAS_BLOCK_RE.search(markup) is None)
    # HTMLParser decodes like html.unescape: "&notanentity;" would become "¬anentity;". Only
    # complete, known entities are decoded, as the text parser does; the rest stays as written.
    collector.feed(escape_undecodable(markup))
    collector.close()
    return collector.paragraphs


def text_to_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: one per non-blank line, inner whitespace collapsed."""
    lines = _BLANK_LINES_RE.sub("\n", text).split("\n")
    return [" ".join(line.split()) for line in lines if line.strip()]


def html_to_inline(markup: str) -> str:
    """One line of text from an HTML fragment (a title): tags removed, entities decoded."""
    return " ".join(html_to_paragraphs(markup.replace("\n", " ")))
