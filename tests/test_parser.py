"""Parser behaviour: seed article, breaking labels, headings, residue, errors, JSON and bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.models import Article, Section
from bot.parser import ParseError, detect_breaking, parse_bytes, parse_json, parse_text
from tests.parser_wordcheck import article_texts, article_words, text_words

SEED_TITLE = "بايدن يحذر نتنياهو بتخلي أمريكا عن إسرائيل بعد اغتيال إسماعيل هنية"
SEED_HEADINGS = [
    "التحركات العسكرية الأميركية",
    "الاتصالات الأميركية الإسرائيلية",
    "تحركات دبلوماسية",
    "التعاون الأمني الإسرائيلي الأميركي",
    "استعدادات إسرائيلية",
]
BODY = "أعلنت الحكومة اليوم عن خطة جديدة لدعم الاقتصاد في المدن الكبرى خلال العام المقبل."


def _corpus_file(corpus_dir: Path, number: str) -> Path:
    return next((corpus_dir / "articles").glob(f"{number}_*.txt"))


# --- the seed article ------------------------------------------------------------------------


def test_seed_is_breaking_with_clean_title(seed_text: str) -> None:
    article = parse_text(seed_text)
    assert article.breaking is True
    assert article.title == SEED_TITLE


def test_seed_has_lead_and_exactly_five_headings(seed_text: str) -> None:
    article = parse_text(seed_text)
    assert [s.heading for s in article.sections] == [None, *SEED_HEADINGS]
    assert len(article.sections[0].paragraphs) == 1
    assert all(s.paragraphs for s in article.sections)


def test_seed_drops_comments_label_and_keeps_every_body_word(seed_text: str) -> None:
    article = parse_text(seed_text)
    assert not any("التعليقات" in text for text in article_texts(article))
    body_lines = [line for line in seed_text.splitlines()[1:] if line.strip() != "التعليقات"]
    assert article_words(article)[len(text_words(SEED_TITLE)) :] == text_words(
        "\n".join(body_lines)
    )


# --- breaking labels ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headline",
    [
        "عاجل| الجيش يعلن السيطرة على المدينة",
        "عاجل | الجيش يعلن السيطرة على المدينة",
        "عاجل: الجيش يعلن السيطرة على المدينة",
        "عاجل : الجيش يعلن السيطرة على المدينة",
        "عاجل - الجيش يعلن السيطرة على المدينة",
        "عاجل -- الجيش يعلن السيطرة على المدينة",
        "عاجل – الجيش يعلن السيطرة على المدينة",
        "عاجل.. الجيش يعلن السيطرة على المدينة",
        "[عاجل] الجيش يعلن السيطرة على المدينة",
        "(عاجل) الجيش يعلن السيطرة على المدينة",
        "«عاجل» الجيش يعلن السيطرة على المدينة",
        "#عاجل الجيش يعلن السيطرة على المدينة",
        "🔴 عاجل الجيش يعلن السيطرة على المدينة",
        "🔴 عاجل: الجيش يعلن السيطرة على المدينة",
        "⚡️عاجل⚡️ الجيش يعلن السيطرة على المدينة",
        "عاجل 🔴 الجيش يعلن السيطرة على المدينة",
        "عـــاجل | الجيش يعلن السيطرة على المدينة",
        "خبر عاجل: الجيش يعلن السيطرة على المدينة",
        "عاجل جداً | الجيش يعلن السيطرة على المدينة",
        "عاجل | عاجل: الجيش يعلن السيطرة على المدينة",
        "BREAKING: الجيش يعلن السيطرة على المدينة",
        "  عاجل|الجيش يعلن السيطرة على المدينة  ",
    ],
)
def test_leading_label_is_detected_and_removed(headline: str) -> None:
    assert detect_breaking(headline) == (True, "الجيش يعلن السيطرة على المدينة")
    article = parse_text(f"{headline}\n\n{BODY}")
    assert article.breaking is True
    assert article.title == "الجيش يعلن السيطرة على المدينة"


@pytest.mark.parametrize(
    "headline",
    [
        "رسالة عاجلة من الرئيس إلى البرلمان",
        "مساعدات عاجلة تصل إلى المدينة",
        "الحكومة تطلب تمويلاً عاجلاً للمستشفيات",
        "عاجلاً أم آجلاً سيعود اللاجئون",
        "مجلس الأمن يعقد اجتماعا عاجل بشأن الأزمة",
        "مجلس الأمن: عاجل | اجتماع الليلة",
        "العاجل: كيف تغطي الصحف الأخبار",
        "عاجلة: نداء من الصليب الأحمر",
        # No separator after the word: ambiguous, so deliberately not a label.
        "عاجل الرئيس يصل إلى المدينة",
        "عاجل جدا الرئيس يصل إلى المدينة",
        "Breaking Bad يعود إلى الشاشة",
    ],
)
def test_adjective_and_inner_uses_are_not_labels(headline: str) -> None:
    assert detect_breaking(headline) == (False, headline)
    article = parse_text(f"{headline}\n\n{BODY}")
    assert article.breaking is False
    assert article.title == headline


@given(
    st.lists(
        st.sampled_from(["عاجل", "عاجلة", "خبر", " ", "|", ":", "-", "🔴", "#", "(", ")", "«", "»"])
        | st.text(max_size=5),
        max_size=12,
    ).map("".join)
)
def test_detect_breaking_only_ever_removes_a_prefix(headline: str) -> None:
    found, rest = detect_breaking(headline)
    assert headline.strip().endswith(rest)
    if not found:
        assert rest == headline.strip()
    else:
        removed = headline.strip()[: len(headline.strip()) - len(rest)].replace("\u0640", "")
        assert any(label in removed.lower() for label in ("عاجل", "breaking", "urgent"))


def test_label_alone_on_first_line_takes_next_line_as_headline() -> None:
    article = parse_text(f"🔴 عاجل\nالجيش يعلن السيطرة على المدينة\n{BODY}")
    assert article.breaking is True
    assert article.title == "الجيش يعلن السيطرة على المدينة"
    assert article.paragraphs() == [BODY]


def test_label_without_any_headline_is_empty() -> None:
    with pytest.raises(ParseError) as info:
        parse_text("عاجل |")
    assert info.value.code == "empty"
    assert "headline" in info.value.message


def test_breaking_override_wins_both_ways() -> None:
    forced = parse_text(f"الجيش يعلن السيطرة على المدينة\n{BODY}", breaking=True)
    assert forced.breaking is True
    unforced = parse_text(f"عاجل | الجيش يعلن السيطرة على المدينة\n{BODY}", breaking=False)
    assert unforced.breaking is False
    assert unforced.title == "الجيش يعلن السيطرة على المدينة"


@pytest.mark.parametrize("number", ["18", "19", "25", "26"])
def test_corpus_adjective_headlines_are_not_breaking(corpus_dir: Path, number: str) -> None:
    raw = _corpus_file(corpus_dir, number).read_text(encoding="utf-8")
    article = parse_text(raw)
    assert article.breaking is False
    assert article.title == " ".join(raw.splitlines()[0].split())


def test_corpus_32_flash_is_breaking_with_its_one_line_body(corpus_dir: Path) -> None:
    raw = _corpus_file(corpus_dir, "32").read_text(encoding="utf-8")
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    article = parse_text(raw)
    assert article.breaking is True
    assert not article.title.startswith("عاجل")
    assert lines[0].endswith(article.title)
    assert article.paragraphs() == lines[1:]


def test_corpus_31_has_no_label_in_text_so_needs_the_override(corpus_dir: Path) -> None:
    # The Sputnik story was breaking on the site's ticker only; its text carries no label.
    raw = _corpus_file(corpus_dir, "31").read_text(encoding="utf-8")
    assert parse_text(raw).breaking is False
    assert parse_text(raw, breaking=True).breaking is True


def test_corpus_15_label_inside_body_is_not_a_headline_label(corpus_dir: Path) -> None:
    raw = _corpus_file(corpus_dir, "15").read_text(encoding="utf-8")
    article = parse_text(raw)
    assert article.breaking is False
    # The label opens an embedded Instagram caption: recorded as residue, not a headline label.
    assert any(r.text.startswith("عاجل") for r in article.residue)


# --- headings ---------------------------------------------------------------------------------


def test_short_line_followed_by_paragraph_is_a_heading() -> None:
    article = parse_text(f"عنوان الخبر\n{BODY}\nالوضع الاقتصادي\n{BODY}\n{BODY}")
    assert article.sections == [
        Section(heading=None, paragraphs=[BODY]),
        Section(heading="الوضع الاقتصادي", paragraphs=[BODY, BODY]),
    ]


def test_body_can_start_with_a_heading_and_then_has_no_lead() -> None:
    article = parse_text(f"عنوان الخبر\n\nخلفية الأزمة\n{BODY}")
    assert article.sections == [Section(heading="خلفية الأزمة", paragraphs=[BODY])]


@pytest.mark.parametrize(
    "line",
    [
        "وقال الوزير للصحفيين.",  # sentence punctuation
        "لكن ماذا يعني ذلك للمنطقة؟",  # a question in the text: it opens with a connective
        "ماذا حدث؟ ولماذا الآن؟",  # two questions: running text, not a crosshead
        "وأضاف الوزير:",  # colon introduces a quote
        "السعة: 45 ألف متفرج",  # label: value fact line
        '"لن نتراجع عن قرارنا"',  # quotation
        "- بند أول في القائمة",  # bullet
        "#غزة #القدس",  # hashtags only
        "هذا سطر طويل جداً لا يمكن أن يكون عنواناً فرعياً لأنه يحتوي كلمات كثيرة",
    ],
)
def test_lines_that_are_not_headings_stay_paragraphs(line: str) -> None:
    article = parse_text(f"عنوان الخبر\n{BODY}\n{line}\n{BODY}")
    assert [s.heading for s in article.sections] == [None]
    assert article.paragraphs() == [BODY, line, BODY]


def test_a_question_crosshead_is_a_heading() -> None:
    # Issue 12: «ماذا نعرف عن جزيرة سقطرى؟» introduces the section that answers it.
    article = parse_text(f"عنوان الخبر\n{BODY}\nماذا نعرف عن الجزيرة؟\n{BODY}")
    assert [s.heading for s in article.sections] == [None, "ماذا نعرف عن الجزيرة؟"]


def test_trailing_short_line_is_a_paragraph_not_a_heading() -> None:
    article = parse_text(f"عنوان الخبر\n{BODY}\nالمزيد من التفاصيل لاحقا")
    assert article.sections == [
        Section(heading=None, paragraphs=[BODY, "المزيد من التفاصيل لاحقا"])
    ]


def test_two_short_lines_never_become_heading_and_empty_section() -> None:
    article = parse_text(f"عنوان الخبر\n{BODY}\nتسلسل زمني مفصل للأحداث\n3 مايو\n{BODY}")
    # "3 مايو" is the heading; the longer short line before it stays a paragraph.
    assert article.sections == [
        Section(heading=None, paragraphs=[BODY, "تسلسل زمني مفصل للأحداث"]),
        Section(heading="3 مايو", paragraphs=[BODY]),
    ]


def test_time_colon_does_not_disqualify_a_heading() -> None:
    article = parse_text(f"عنوان الخبر\n{BODY}\nالساعة 1:14 ظهراً\n{BODY}")
    assert [s.heading for s in article.sections] == [None, "الساعة 1:14 ظهراً"]


# --- residue ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "residue",
    [
        "شارك",
        "شارك الخبر",
        "شارك: فيسبوك تويتر واتساب",
        "Share",
        "طباعة",
        "اقرأ أيضا",
        "اقرأ أيضاً: الحكومة تعلن خطة جديدة للنقل",
        "إقرأ المزيد",
        "Read more",
        "مواضيع ذات صلة",
        "// يتبع //",
        "(انتهى)",
    ],
)
def test_residue_lines_are_dropped_anywhere(residue: str) -> None:
    article = parse_text(f"عنوان الخبر\n{BODY}\n{residue}\nفقرة ثانية من الخبر نفسه.")
    assert article.paragraphs() == [BODY, "فقرة ثانية من الخبر نفسه."]


@pytest.mark.parametrize("tail", ["التعليقات", "تعليقات", "التعليقات (12)", "19:23 ت م", "يتبع"])
def test_trailing_residue_is_dropped_only_at_the_end(tail: str) -> None:
    article = parse_text(f"عنوان الخبر\n{BODY}\n{tail}\n")
    assert article.paragraphs() == [BODY]


def test_comments_word_inside_the_body_is_kept() -> None:
    article = parse_text(f"عنوان الخبر\n{BODY}\nتعليقات\n{BODY}")
    assert "تعليقات" in article_texts(article)


def test_lines_mentioning_residue_words_are_kept() -> None:
    kept = [
        "شارك آلاف المتظاهرين في المسيرة يوم الجمعة.",
        "شاهد.. لحظة وصول الوفد إلى المطار",
        "وطالب بتعليقات رسمية على القرار.",
    ]
    article = parse_text("عنوان الخبر\n" + "\n".join(kept))
    assert article_texts(article)[1:] == kept


def test_link_titles_under_a_bare_read_also_label_are_dropped_not_headings() -> None:
    text = (
        f"عنوان الخبر\n{BODY}\nاقرأ أيضاً:\nالحكومة تعلن خطة جديدة للنقل\n"
        f"وزير المالية يستقيل من منصبه\n{BODY}"
    )
    article = parse_text(text)
    assert article.sections == [Section(heading=None, paragraphs=[BODY, BODY])]


def test_share_bar_above_the_headline_is_skipped() -> None:
    article = parse_text(f"شارك\n\nعنوان الخبر\n{BODY}")
    assert article.title == "عنوان الخبر"


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n", "\u00a0\n\u200f\n\u202a"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_text(text)
    assert info.value.code == "empty"
    assert info.value.message == "article text is empty"
    assert info.value.arabic


def test_headline_only_non_breaking_is_no_body() -> None:
    with pytest.raises(ParseError) as info:
        parse_text("الجيش يعلن السيطرة على المدينة\n\nالتعليقات")
    assert info.value.code == "no_body"
    assert "no body" in str(info.value)


def test_headline_only_breaking_flash_is_accepted() -> None:
    article = parse_text("عاجل | الجيش يعلن السيطرة على المدينة")
    assert article.breaking is True
    assert article.sections == []
    assert parse_text("الجيش يعلن السيطرة", breaking=True).sections == []


def test_nul_and_control_characters_are_binary() -> None:
    for text in ("عنوان\x00\nنص", "\x01\x02\x03\x04\x05\x06abc\x07\x08"):
        with pytest.raises(ParseError) as info:
            parse_text(text)
        assert info.value.code == "binary"


def test_bad_override_url_names_the_field() -> None:
    with pytest.raises(ParseError) as info:
        parse_text(f"عنوان\n{BODY}", url="ftp://example.com/x")
    assert info.value.code == "invalid_article"
    assert "url" in info.value.message


def test_overrides_are_stored() -> None:
    when = datetime(2024, 8, 3, 12, 0, tzinfo=UTC)
    article = parse_text(
        f"عنوان\n{BODY}", url="https://example.com/a", source=" الجزيرة ", published_at=when
    )
    assert (article.url, article.source, article.published_at) == (
        "https://example.com/a",
        "الجزيرة",
        when,
    )


# --- bytes ------------------------------------------------------------------------------------


def test_bytes_invalid_utf8_is_binary_and_names_the_offset() -> None:
    data = "عنوان\nنص".encode() + b"\xff\xfe"
    with pytest.raises(ParseError) as info:
        parse_bytes(data, max_bytes=1000)
    assert info.value.code == "binary"
    assert "UTF-8" in info.value.message and str(len(data) - 2) in info.value.message


def test_bytes_windows_1256_is_refused_as_not_utf8() -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes("عنوان الخبر\nنص الخبر".encode("cp1256"), max_bytes=1000)
    assert info.value.code == "binary"


def test_bytes_with_nul_are_binary() -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", max_bytes=1000)
    assert info.value.code == "binary"
    assert "NUL" in info.value.message


def test_bytes_over_the_limit_are_too_large() -> None:
    data = f"عنوان\n{BODY}".encode()
    assert parse_bytes(data, max_bytes=len(data)).title == "عنوان"
    with pytest.raises(ParseError) as info:
        parse_bytes(data, max_bytes=len(data) - 1)
    assert info.value.code == "too_large"
    assert str(len(data) - 1) in info.value.message


def test_bytes_empty_is_empty() -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(b"", max_bytes=10)
    assert info.value.code == "empty"


def test_bytes_bom_is_allowed(seed_text: str) -> None:
    article = parse_bytes(b"\xef\xbb\xbf" + seed_text.encode(), max_bytes=1 << 20)
    assert article.title == SEED_TITLE


def test_bytes_route_json_by_content_type_and_by_sniffing() -> None:
    payload = json.dumps({"title": "عنوان", "body": BODY}).encode()
    for content_type in ("application/json", "application/json; charset=utf-8", None):
        article = parse_bytes(payload, max_bytes=1000, content_type=content_type)
        assert article.title == "عنوان" and article.paragraphs() == [BODY]
    as_text = parse_bytes(payload, max_bytes=1000, content_type="text/plain", breaking=True)
    assert as_text.title.startswith("{")


@pytest.mark.parametrize(
    "headline",
    [
        "{الشرق الأوسط} تنشر مذكرات فاتن حمامة (3): الحب الأول",
        "{رأي} لماذا تأخر الإصلاح؟",
        "{ نص بين قوسين } ثم بقية العنوان",
    ],
)
def test_untyped_text_whose_headline_opens_with_a_brace_is_text(headline: str) -> None:
    data = f"{headline}\n{BODY}\n".encode()
    article = parse_bytes(data, max_bytes=10_000)
    assert article.title.startswith("{") and article.paragraphs() == [BODY]


@pytest.mark.parametrize("text", ['{"title": "x",', '  {\n  "title" 1}', "{}"])
def test_untyped_input_that_opens_like_json_must_be_json(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(text.encode(), max_bytes=1000)
    assert info.value.code in ("invalid_json", "invalid_article")


def test_bytes_breaking_override_applies_to_json() -> None:
    payload = json.dumps({"title": "عنوان"}).encode()
    with pytest.raises(ParseError):
        parse_bytes(payload, max_bytes=1000)
    assert parse_bytes(payload, max_bytes=1000, breaking=True).breaking is True


# --- JSON -------------------------------------------------------------------------------------


def test_json_round_trip_of_parsed_seed(seed_text: str) -> None:
    article = parse_text(
        seed_text,
        url="https://example.com/x",
        source="مصدر",
        published_at=datetime(2024, 8, 3, 9, 30, tzinfo=UTC),
    )
    assert parse_json(article.model_dump_json()) == article


def test_json_round_trip_with_id_and_tags() -> None:
    article = Article(
        id="abc_12",
        title="عنوان",
        sections=[Section(heading="قسم", paragraphs=[BODY])],
        tags=["سياسة", "اقتصاد"],
    )
    assert parse_json(article.model_dump_json()) == article
    assert parse_json(article.model_dump_json().encode()) == article
    assert parse_json(article.model_dump(mode="json")) == article


def test_json_text_fields_are_normalised_and_label_detected() -> None:
    article = parse_json(
        {
            "title": "عاجل |  كوشك لـ &quot;سبق&quot;",
            "sections": [
                {"heading": " قسم\u00a0أول ", "paragraphs": ["  فقرة\u00a0 أولى  ", "\u00a0"]}
            ],
            "source": "",
        }
    )
    assert article.breaking is True
    assert article.title == 'كوشك لـ "سبق"'
    assert article.sections == [Section(heading="قسم أول", paragraphs=["فقرة أولى"])]
    assert article.source is None


def test_json_explicit_breaking_false_wins_over_label() -> None:
    article = parse_json({"title": "عاجل | عنوان", "breaking": False, "body": BODY})
    assert (article.breaking, article.title) == (False, "عنوان")


def test_json_body_is_parsed_like_text() -> None:
    article = parse_json({"title": "عنوان", "body": f"{BODY}\n\nخلفية الأزمة\n{BODY}\nالتعليقات"})
    assert article.sections == [
        Section(heading=None, paragraphs=[BODY]),
        Section(heading="خلفية الأزمة", paragraphs=[BODY]),
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "عنوان", "body": BODY, "author": "x"}, "author"),
        ({"body": BODY}, "title"),
        ({"title": "عنوان", "sections": "نص"}, "sections"),
        ({"title": "عنوان", "sections": [{"heading": "x", "text": "y"}]}, "sections.0.text"),
        ({"title": "عنوان", "body": BODY, "id": "has space"}, "id"),
        ({"title": "عنوان", "body": 5}, "body"),
        ({"title": "عنوان", "body": BODY, "sections": []}, "body"),
        ({"title": "عنوان", "body": BODY, "published_at": "yesterday"}, "published_at"),
        ({"title": "   ", "body": BODY}, "title"),
    ],
)
def test_json_invalid_article_names_the_field(payload: dict[str, object], field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_json(json.dumps(payload))
    assert info.value.code == "invalid_article"
    assert f"'{field}'" in info.value.message
    assert f"«{field}»" in info.value.arabic
    assert info.value.field == field


@pytest.mark.parametrize("text", ['{"title": "x",', "not json", "[1, 2]", '"title"', "[" * 100_000])
def test_malformed_json_is_invalid_json(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_json(text)
    assert info.value.code == "invalid_json"
    assert "JSON" in info.value.message


def test_json_headline_only_needs_breaking() -> None:
    with pytest.raises(ParseError) as info:
        parse_json({"title": "عنوان"})
    assert info.value.code == "no_body"
    assert parse_json({"title": "عاجل: عنوان"}).breaking is True


def test_json_published_at_string_is_parsed() -> None:
    article = parse_json({"title": "عنوان", "body": BODY, "published_at": "2024-08-03T09:30:00Z"})
    assert article.published_at == datetime(2024, 8, 3, 9, 30, tzinfo=UTC)
