"""Recognise and drop scraper residue: lines that are wholly page furniture, not article text.

Only whole lines are ever dropped, and only when the entire line is residue:

* anywhere: share/print buttons ("شارك", "شارك الخبر", "share", "طباعة"), "read also" lines
  ("اقرأ أيضاً", "اقرأ أيضاً: <link title>", "إقرأ المزيد", "Read more"), related-content
  labels ("مواضيع ذات صلة") and wire-service continuation marks ("// يتبع //", "(انتهى)");
* after a *bare* "read also"/"related" label, the run of link titles right below it (at most
  six short lines without sentence punctuation): those are other stories' headlines;
* at the end of the body only: a comments label ("التعليقات", "تعليقات (3)", "أضف تعليقاً"),
  a bare "يتبع" and a wire time stamp ("19:23 ت م", i.e. Makkah time, as SPA appends).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from bot.headings import is_heading_candidate
from bot.models import Residue, ResidueReason

_TASHKEEL_RE = re.compile("[\u064b-\u065f\u0670\u0640]")

_ALSO = r"(?:[اأإ]يضا|كذلك|المزيد)"
_READ_ALSO_RE = re.compile(
    rf"^(?:[اأإ]قر[اأء]?|طالع|شاهد)\s+{_ALSO}(?![\w])"
    r"|^(?:read|see)\s+(?:also|more)\b|^also\s+read\b",
    re.IGNORECASE,
)
_RELATED_LABELS = frozenset(
    {
        "ذات صلة",
        "مواضيع ذات صلة",
        "موضوعات ذات صلة",
        "اخبار ذات صلة",
        "أخبار ذات صلة",
        "مقالات ذات صلة",
        "قصص ذات صلة",
        "related",
        "related articles",
        "related stories",
        "related news",
    }
)

#: A share/print bar is a short line made only of these words, with at least one trigger.
_SHARE_TRIGGERS = frozenset({"شارك", "شاركوا", "شاركها", "share", "print", "طباعة", "اطبع", "غرد"})
_SHARE_WORDS = _SHARE_TRIGGERS | frozenset(
    {
        "مشاركة",
        "الخبر",
        "المقال",
        "الموضوع",
        "هذا",
        "على",
        "عبر",
        "this",
        "article",
        "story",
        "on",
        "via",
        "فيسبوك",
        "فيس",
        "بوك",
        "تويتر",
        "واتساب",
        "واتس",
        "اب",
        "تلغرام",
        "تليجرام",
        "لينكدإن",
        "ماسنجر",
        "البريد",
        "الإلكتروني",
        "الالكتروني",
        "نسخ",
        "الرابط",
        "facebook",
        "twitter",
        "whatsapp",
        "telegram",
        "linkedin",
        "messenger",
        "email",
        "x",
        "copy",
        "link",
        "tweet",
    }
)
_MAX_SHARE_WORDS = 8

_WIRE_MARK_RE = re.compile(
    r"^(?:/+|-+|—|\()\s*(?:يتبع|انتهى|تتبع|نهاية)\s*(?:/+|-+|—|\))$",
)
_COMMENTS_RE = re.compile(
    r"^(?:(?:ال)?تعليق(?:ات)?(?:\s*\(?\s*\d+\s*\)?)?|\d+\s+تعليق(?:ات)?"
    r"|[اأ]ضف\s+تعليق(?:ا|ك)?|اترك\s+تعليق(?:ا|ك)?|comments?|\d+\s+comments?)$",
    re.IGNORECASE,
)
_TIME_STAMP_RE = re.compile(r"^\d{1,2}:\d{2}\s*(?:ت\s*\.?\s*م|ت\s*غ|تغ|gmt|utc)\.?$", re.IGNORECASE)

#: Link titles below a bare "read also" label are short and never end a sentence.
_MAX_LINK_LINES = 6
_MAX_LINK_WORDS = 15
_MAX_LINK_CHARS = 120
_SENTENCE_END = tuple(".!?؟…؛،:;,")


def _key(line: str) -> str:
    """The line as compared with residue labels: no diacritics/tatweel, no edge punctuation."""
    text = _TASHKEEL_RE.sub("", line).casefold()
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return " ".join(text[start:end].split())


def _words(key: str) -> list[str]:
    """Word tokens of a residue key (letters and digits only)."""
    return re.findall(r"[^\W_]+", key)


def _is_share_bar(key: str) -> bool:
    """A line of share/print buttons: every word a share word, at least one a trigger."""
    words = _words(key)
    if not words or len(words) > _MAX_SHARE_WORDS or not all(w in _SHARE_WORDS for w in words):
        return False
    return any(w in _SHARE_TRIGGERS for w in words) or (len(words) > 1 and "مشاركة" in words)


def is_related_label(line: str) -> bool:
    """A bare "read also" / "related" label announcing a list of links below it."""
    key = _key(line)
    return key in _RELATED_LABELS or (
        _READ_ALSO_RE.match(key) is not None and len(_words(key)) <= 2
    )


def is_residue(line: str) -> bool:
    """Whether ``line`` is residue wherever it appears (share bar, read-also, wire mark)."""
    key = _key(line)
    if not key:
        return False  # emoji or punctuation only ("🇧🇭", "***"): not ours to judge
    if _WIRE_MARK_RE.match(line.strip()):
        return True
    return key in _RELATED_LABELS or bool(_READ_ALSO_RE.match(key)) or _is_share_bar(key)


def is_trailing_residue(line: str) -> bool:
    """Whether ``line`` is residue when it ends the body (comments label, wire tail)."""
    if is_residue(line):
        return True
    key = _key(line)
    return bool(_COMMENTS_RE.match(key) or _TIME_STAMP_RE.match(line.strip())) or key == "يتبع"


def _is_link_title(line: str) -> bool:
    """A short headline-like line: what a related-link list below "اقرأ أيضاً:" consists of."""
    stripped = line.rstrip("\"'»”’)] ")
    return (
        len(line) <= _MAX_LINK_CHARS
        and len(line.split()) <= _MAX_LINK_WORDS
        and not stripped.endswith(_SENTENCE_END)
        and any(unicodedata.category(ch)[0] == "L" for ch in line)
    )


def _split_page_furniture(lines: list[str]) -> tuple[list[str], list[Residue]]:
    """Lines without share bars, read-also lines and link lists below a bare label."""
    kept: list[str] = []
    dropped: list[Residue] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if is_related_label(line):
            dropped.append(Residue(text=line, reason="furniture"))
            links = 0
            while index < len(lines) and links < _MAX_LINK_LINES and _is_link_title(lines[index]):
                dropped.append(Residue(text=lines[index], reason="related_links"))
                index += 1
                links += 1
            continue
        if is_residue(line):
            dropped.append(Residue(text=line, reason="furniture"))
        else:
            kept.append(line)
    return kept, dropped


# --- embedded social posts ---------------------------------------------------------------------

#: The signature line an embedded Instagram post leaves in scraped text.
_POST_SIGNATURE_RE = re.compile(
    r"^A post shared by .{1,120}? on [A-Z][a-z]{2,8} \d{1,2}, \d{4}(?: at \d{1,2}:\d{2}\s*[ap]m)?"
    r"(?: [A-Z]{2,5})?$"
)
#: An embedded tweet's signature: "pic.twitter.com/…" or "— Name (@handle) Month D, YYYY".
_TWEET_SIGNATURE_RE = re.compile(
    r"pic\.twitter\.com/\w+|^[—–-]\s*.{1,80}\(@\w{1,15}\)\s+[A-Z][a-z]+ \d{1,2}, \d{4}$"
)
_HANDLE_OR_TAG_RE = re.compile(r"(?<![\w@])[@#][^\W\d]\w*")
#: An embed's caption is the line just above its signature, if it is short and tagged.
_MAX_CAPTION_CHARS = 300


def _is_caption(line: str) -> bool:
    """A post caption: short and carrying a @handle or #hashtag, as the embeds in the corpus."""
    return len(line) <= _MAX_CAPTION_CHARS and _HANDLE_OR_TAG_RE.search(line) is not None


def _split_embedded_posts(lines: list[str]) -> tuple[list[str], list[Residue]]:
    """Lines without embedded-post signatures and the tagged caption right above each."""
    kept: list[str] = []
    dropped: list[Residue] = []
    for line in lines:
        if _POST_SIGNATURE_RE.match(line) or _TWEET_SIGNATURE_RE.search(line):
            if kept and _is_caption(kept[-1]):
                dropped.append(Residue(text=kept.pop(), reason="embedded_post"))
            dropped.append(Residue(text=line, reason="embedded_post"))
        else:
            kept.append(line)
    return kept, dropped


# --- "other articles by the author", glued to the last sentence --------------------------------

#: Page furniture a scraper glues to the last sentence: a list of the columnist's other titles.
_AUTHOR_LINKS_RE = re.compile(
    r"\s*(?:مقالات|مقالات\s+أخرى|المزيد\s+من\s+مقالات)\s+(?:أخرى\s+)?للكاتب"
)


def _split_author_links(lines: list[str]) -> tuple[list[str], list[Residue]]:
    """The last line cut before «مقالات أخرى للكاتب…» when that tail follows a sentence end."""
    if not lines:
        return lines, []
    last = lines[-1]
    match = None
    for found in _AUTHOR_LINKS_RE.finditer(last):
        match = found
    if match is None:
        return lines, []
    head, tail = last[: match.start()].rstrip(), last[match.start() :].strip()
    # Only after a finished sentence, and only as the tail: a sentence quoting the phrase stays.
    if not head.rstrip(_CLOSERS_CHARS).endswith(tuple(".!?؟…")) or len(tail) > _MAX_TAIL_CHARS:
        return lines, []
    return [*lines[:-1], head], [Residue(text=tail, reason="author_links")]


_CLOSERS_CHARS = "\"'»”’)]"
_MAX_TAIL_CHARS = 600


# --- trailing runs: series links, teasers of other stories --------------------------------------

#: A series instalment link: «مذكرات فاتن حمامة (4): …», «… (الحلقة الأخيرة): …».
_SERIES_LINK_RE = re.compile(r"^[^.:؟!]{3,60}\((?:\d{1,3}|[٠-٩]{1,3}|الحلقة [^()]{2,20})\)\s*[:：]")
_MIN_RUN = 3
_MAX_SERIES_CHARS = 140

#: A teaser is the lead of another story: one self-contained paragraph of lead length ...
_MIN_TEASER_CHARS = 80
_MAX_TEASER_CHARS = 280
#: ... that does not continue the text above it (connectives, anaphora) ...
_CONNECTIVES = frozenset(
    {
        "ثم",
        "كما",
        "لكن",
        "لكنّ",
        "ولكن",
        "أما",
        "إلا",
        "غير",
        "بينما",
        "لذلك",
        "لذا",
        "كذلك",
        "حيث",
        "إذ",
        "بل",
        "أيضا",
        "أيضاً",
        "بدوره",
        "بدورها",
        "عالميا",
        "عالميًا",
        "محليا",
        "إضافة",
        "بالإضافة",
        "علاوة",
        "يبقى",
        "تجدر",
    }
)
_ANAPHORA = frozenset({"هذه", "هذا", "ذلك", "تلك", "هؤلاء", "هذان", "هاتان", "الأخير", "الأخيرة"})
#: ... and has the punctuation of running text (a label line "السعة: …" or a bullet has not).
_LEAD_PUNCTUATION = frozenset("،.؟!")
_BULLET_START_RE = re.compile(r"^(?:[-–—•*▪●·]|\d|[٠-٩])")
#: The article itself keeps at least this many paragraphs: a short story is never eaten.
_MIN_KEPT = 2


def _is_series_link(line: str) -> bool:
    """One link of a series list: a short instalment title with its number and a colon."""
    return len(line) <= _MAX_SERIES_CHARS and _SERIES_LINK_RE.match(line) is not None


def _continues(words: list[str]) -> bool:
    """Whether a paragraph opens by continuing the text before it (connective or anaphora)."""
    first = _TASHKEEL_RE.sub("", words[0])
    # "و"/"ف" glued to a word of 3+ letters ("وقالت", "فإن"); "وصف" (to describe) is a verb.
    if first[:1] in ("و", "ف") and len(first) >= 4:
        return True
    second = _TASHKEEL_RE.sub("", words[1]) if len(words) > 1 else ""
    if (first, second) in _CONNECTIVE_PAIRS or (first == "في" and second in _IN_PHRASES):
        return True
    return first in _CONNECTIVES or any(w in _ANAPHORA for w in words[:3])


#: Two-word openers that tie a paragraph to the one above: «من جهته»، «في المقابل» …
_CONNECTIVE_PAIRS = frozenset(
    ("من", second)
    for second in (
        "جهته",
        "جهتها",
        "جانبه",
        "جانبها",
        "ناحيته",
        "ناحيتها",
        "جهة",
        "جانب",
        "ناحية",
        "ثم",
    )
)
_IN_PHRASES = frozenset(
    {"سياق", "المقابل", "الوقت", "حين", "غضون", "هذا", "هذه", "ذلك", "الأثناء", "الإطار", "السياق"}
)


def is_teaser(line: str) -> bool:
    """Whether a paragraph has the shape of another story's lead (see :func:`split_residue`)."""
    words = line.split()
    if not words or not _MIN_TEASER_CHARS <= len(line) <= _MAX_TEASER_CHARS:
        return False
    if _BULLET_START_RE.match(line) or _LABEL_AT_START_RE.match(line):
        return False
    if not any(ch in _LEAD_PUNCTUATION for ch in line):
        return False  # a title line (a timeline entry), not a teaser paragraph
    return not _continues(words)


_LABEL_AT_START_RE = re.compile(r"^(?:\S+\s+){0,3}?\S+[:：](?!\d)")


_QUOTE_OPEN = tuple('"«“')
_QUOTE_CLOSE = tuple('"»”')


def _is_pull_quote(line: str) -> bool:
    """A paragraph that is only a quotation (with an optional final mark), of teaser length."""
    core = line.rstrip("؟?!.")
    return (
        len(line) <= _MAX_TEASER_CHARS
        and line.startswith(_QUOTE_OPEN)
        and core.endswith(_QUOTE_CLOSE)
        and not any(q in core[1:-1] for q in _QUOTE_CLOSE + _QUOTE_OPEN)
    )


def _trailing_run(lines: list[str], test: Callable[[str], bool]) -> int:
    """How many lines at the end of ``lines`` pass ``test``."""
    run = 0
    while run < len(lines) and test(lines[len(lines) - 1 - run]):
        run += 1
    return run


def _split_trailing(lines: list[str]) -> tuple[list[str], list[Residue]]:
    """Lines without the trailing furniture, series links and teaser runs (repeatedly)."""
    kept = list(lines)
    tail: list[Residue] = []
    while True:
        if kept and is_trailing_residue(kept[-1]):
            wire = _TIME_STAMP_RE.match(kept[-1].strip()) or _key(kept[-1]) == "يتبع"
            reason: ResidueReason = "wire_tail" if wire else "furniture"
            tail.insert(0, Residue(text=kept.pop(), reason=reason))
            continue
        run = _trailing_run(kept, _is_series_link)
        if run >= _MIN_RUN and len(kept) - run >= _MIN_KEPT:
            tail[:0] = [Residue(text=t, reason="series_links") for t in kept[-run:]]
            del kept[-run:]
            continue
        run = _trailing_run(kept, is_teaser)
        if run >= _MIN_RUN:
            # A pull quote heading the teasers («"لماذا …"؟») belongs to them.
            while run < len(kept) and _is_pull_quote(kept[len(kept) - 1 - run]):
                run += 1
        if run >= _MIN_RUN and len(kept) - run >= _MIN_KEPT:
            tail[:0] = [Residue(text=t, reason="teasers") for t in kept[-run:]]
            del kept[-run:]
            continue
        return kept, tail


# --- inline related links and embedded posts that repeat a quotation ---------------------------

#: A related-story link a page sets between two paragraphs («9 دول تمتلك أسلحة نووية في
#: العالم.. تعرف عليها»): a short line with no closing punctuation between two long paragraphs.
_MAX_INLINE_LINK_CHARS = 120
_MIN_NEIGHBOUR_CHARS = 150
_OPEN_ENDS = tuple(".!?؟…؛،:;,\"'»”’)]")


def _is_inline_link(line: str, before: str, after: str) -> bool:
    """A headline-shaped line between two long paragraphs that is no crosshead."""
    return (
        len(line) <= _MAX_INLINE_LINK_CHARS
        and len(line.split()) <= _MAX_LINK_WORDS
        and not line.rstrip().endswith(_OPEN_ENDS)
        and len(before) >= _MIN_NEIGHBOUR_CHARS
        and len(after) >= _MIN_NEIGHBOUR_CHARS
        and not is_heading_candidate(line)
        and any(unicodedata.category(ch)[0] == "L" for ch in line)
    )


_QUOTATION_RE = re.compile(r"[\"«“]([^\"«“»”]{12,})[\"»”]")
_QUOTE_KEY_WORDS = 4
_MAX_EMBED_CHARS = 300


def _word_key(text: str) -> tuple[str, ...]:
    """The first words of ``text`` spelled loosely (hamza forms, tashkeel), to match a repeat."""
    plain = _TASHKEEL_RE.sub("", text).translate(_LOOSE_LETTERS)
    return tuple(re.findall(r"[^\W_]+", plain)[:_QUOTE_KEY_WORDS])


_LOOSE_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه"})


def _split_inline_residue(lines: list[str]) -> tuple[list[str], list[Residue]]:
    """Lines without inline related links and without embedded posts that repeat a quotation.

    The text of an embedded post follows the paragraph that quotes it («وكتب …: "بصفتي رئيس
    الاتحاد …"»): a short unquoted line that opens with the same four words as a quotation
    earlier in the article is that embed.
    """
    kept: list[str] = []
    dropped: list[Residue] = []
    quoted: set[tuple[str, ...]] = set()
    for index, line in enumerate(lines):
        after = lines[index + 1] if index + 1 < len(lines) else ""
        before = kept[-1] if kept else ""
        key = _word_key(line)
        if (
            len(key) == _QUOTE_KEY_WORDS
            and key in quoted
            and len(line) <= _MAX_EMBED_CHARS
            and not _QUOTATION_RE.search(line)
        ):
            dropped.append(Residue(text=line, reason="embedded_post"))
            continue
        if kept and _is_inline_link(line, before, after):
            dropped.append(Residue(text=line, reason="related_links"))
            continue
        quoted.update(_word_key(match.group(1)) for match in _QUOTATION_RE.finditer(line))
        kept.append(line)
    return kept, dropped


def split_residue(lines: list[str]) -> tuple[list[str], list[Residue]]:
    """The body lines without residue, and what was dropped with its reason, in source order.

    Besides the page furniture of the module docstring: embedded-post signatures with their
    tagged caption (anywhere), a post's text repeating a quotation above it, a related-story
    link set between two long paragraphs, a «مقالات أخرى للكاتب» list glued to the last
    sentence, and, at the end only, a run of at least three series links («… (4): …») or of
    at least three teasers: paragraphs of lead length and lead shape (running-text
    punctuation, no bullet or label, not opening with a connective or a demonstrative that
    would tie them to the text above), as news sites append the leads of other stories. The
    article keeps two paragraphs.
    """
    kept, dropped = _split_page_furniture(lines)
    kept, posts = _split_embedded_posts(kept)
    kept, inline = _split_inline_residue(kept)
    kept, glued = _split_author_links(kept)
    kept, tail = _split_trailing(kept)
    residue = dropped + posts + inline + glued + tail
    position = _source_positions(lines, residue)
    return kept, [residue[i] for i in sorted(range(len(residue)), key=position.__getitem__)]


def _source_positions(lines: list[str], residue: list[Residue]) -> list[int]:
    """Each residue's source line index, for listing it in source order (linear time)."""
    free: dict[str, list[int]] = {}
    for index in range(len(lines) - 1, -1, -1):
        free.setdefault(lines[index], []).append(index)
    # A piece cut from inside a line (the author's links) can only come from the last line.
    return [free[r.text].pop() if free.get(r.text) else len(lines) - 1 for r in residue]


# --- wire-service tags in headlines ------------------------------------------------------------

#: The desk a wire service (SPA and its peers) files a story under, written before the headline
#: and a slash: «عام / نائب خادم الحرمين الشريفين يرأس …». Only these desk names are taken.
_WIRE_DESKS = (
    "عام",
    "محلي",
    "سياسي",
    "اقتصادي",
    "رياضي",
    "ثقافي",
    "دولي",
    "عربي",
    "عالمي",
    "صحي",
    "اجتماعي",
    "تقني",
    "علمي",
    "منوعات",
)
_WIRE_DESK_RE = re.compile(rf"^(?:{'|'.join(_WIRE_DESKS)})\s+/\s+(?=\S)")
_ORDINALS = (
    "أولى|الأولى|ثانية|الثانية|ثالثة|الثالثة|رابعة|الرابعة|خامسة|الخامسة|سادسة|سابعة|ثامنة"
    "|تاسعة|عاشرة|أخيرة|الأخيرة|اخيرة"
)
#: A wire "add" (a further part of an earlier story): «… مجلس الوزراء إضافة أولى».
_WIRE_ADD_RE = re.compile(rf"(?<=\S)\s+[اإ]ضافة\s+(?:{_ORDINALS})(?:\s+و\s*[اأ]خيرة)?$")


def split_wire_tags(title: str) -> tuple[str, list[Residue]]:
    """The headline without a wire desk prefix («عام /») and add suffix («إضافة أولى»).

    Conservative: only a known desk name before a slash at the very start, and «إضافة» with an
    ordinal at the very end; what is cut is returned as ``wire_tag`` residue.
    """
    tags: list[Residue] = []
    desk = _WIRE_DESK_RE.match(title)
    if desk:
        tags.append(Residue(text=desk.group(0).strip(), reason="wire_tag"))
        title = title[desk.end() :]
    add = _WIRE_ADD_RE.search(title)
    if add:
        tags.append(Residue(text=add.group(0).strip(), reason="wire_tag"))
        title = title[: add.start()]
    return title, tags


def drop_residue(lines: list[str]) -> list[str]:
    """The body lines without residue lines (see :func:`split_residue`)."""
    return split_residue(lines)[0]


def drop_leading_residue(lines: list[str]) -> list[str]:
    """The lines without residue lines before the headline (a share bar above the title)."""
    index = 0
    while index < len(lines) and is_residue(lines[index]):
        index += 1
    return lines[index:]
