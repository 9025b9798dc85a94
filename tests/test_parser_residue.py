"""Other stories, embeds and link lists glued to an article: dropped, recorded, never a paragraph.

Hand-written cases (the corpus cases are in tests/test_parser_corpus.py): every rule of
:mod:`bot.residue` once for what it drops and once for a real paragraph of the same look it keeps.
"""

from __future__ import annotations

from bot.models import Residue
from bot.parser import parse_json, parse_text

STORY = [
    "أعلن الاتحاد الآسيوي للسباحة، الأحد، فوز البطلة المحلية بذهبية سباق مئتي متر في ختام البطولة.",
    "وقالت البطلة بعد السباق إنها تدربت عامين كاملين على هذا اليوم، وإنها تهدي الفوز لعائلتها.",
    "ويُذكر أن البطولة تقام كل عامين بمشاركة أكثر من عشرين دولة من القارة.",
]
#: Leads of unrelated stories, as a news page lists them below the article.
TEASERS = [
    "قاد نجم المنتخب البرازيلي، نيمار، بلاده للفوز على المنتخب السعودي بهدفين نظيفين، الجمعة.",
    "نجح المنتخب المصري في تحقيق فوز كبير على سوازيلاند، الجمعة، بنتيجة انتهت بأربعة أهداف.",
    "من المقرر إطلاق سلسلة سباقات جديدة خاصة بالنساء في العام المقبل من أجل تشجيع المشاركة.",
]


def _parse(lines: list[str]) -> tuple[list[str], list[Residue]]:
    article = parse_text("عنوان الخبر\n" + "\n".join(lines))
    return article.paragraphs(), article.residue


def test_teasers_of_other_stories_at_the_end_are_dropped_and_recorded() -> None:
    paragraphs, residue = _parse(STORY + TEASERS)
    assert paragraphs == STORY
    assert residue == [Residue(text=t, reason="teasers") for t in TEASERS]


def test_teasers_under_the_last_heading_are_dropped_but_the_heading_stays() -> None:
    article = parse_text("عنوان الخبر\n" + "\n".join([*STORY, "ردود الفعل", STORY[1], *TEASERS]))
    assert [s.heading for s in article.sections] == [None, "ردود الفعل"]
    assert article.sections[-1].paragraphs == [STORY[1]]


def test_two_lead_like_paragraphs_at_the_end_are_kept() -> None:
    # Fewer than three: as likely the story's own last paragraphs, so they stay.
    paragraphs, residue = _parse(STORY + TEASERS[:2])
    assert paragraphs == STORY + TEASERS[:2]
    assert residue == []


def test_paragraphs_that_continue_the_story_are_never_teasers() -> None:
    endings = [
        "وأكد المدرب، الأحد، أن الفريق سيواصل التدريب استعدادا للبطولة المقبلة في العاصمة.",
        "من جهته، قال رئيس الاتحاد، الأحد، إن البطولة نجحت في جذب جمهور كبير هذا العام.",
        "تأتي هذه النتيجة، بحسب المراقبين، بعد سنوات من الاستثمار في رياضة السباحة المحلية.",
    ]
    paragraphs, residue = _parse(STORY + endings)
    assert paragraphs == STORY + endings
    assert residue == []


def test_a_short_story_made_of_lead_like_paragraphs_is_never_eaten() -> None:
    paragraphs, residue = _parse(TEASERS)
    assert paragraphs == TEASERS
    assert residue == []


def test_timeline_title_lines_are_not_teasers() -> None:
    titles = [
        "مصادر تكشف أن تركيا علمت بالأمر بعد ساعات من وقوعه والاستخبارات سارعت بالتحرك",
        "أنقرة تنفي تسليم واشنطن أي تسجيل وتؤكد أنها ستعلن نتائج التحقيق للعالم كله",
        "واشنطن تقول إنها تنتظر نتائج التحقيق قبل أن تقرر الخطوات المقبلة في القضية",
    ]
    paragraphs, residue = _parse(STORY + titles)
    assert paragraphs == STORY + titles
    assert residue == []


def test_a_pull_quote_heading_the_teasers_goes_with_them() -> None:
    quote = '"لماذا هذا الأمريكي مهم لدرجة تعريض الاستقرار المالي العالمي للخطر"؟'
    paragraphs, residue = _parse([*STORY, quote, *TEASERS])
    assert paragraphs == STORY
    assert [r.text for r in residue] == [quote, *TEASERS]


def test_embedded_post_caption_and_signature_are_dropped_anywhere() -> None:
    caption = "Peace 💓 @kalii_b whenever i rap this I remember you bro thank you for it."
    signature = "A post shared by Amaani Yahya | (@amaaniyahya) on Dec 20, 2017 at 7:13pm PST"
    paragraphs, residue = _parse([STORY[0], caption, signature, *STORY[1:]])
    assert paragraphs == STORY
    assert residue == [
        Residue(text=caption, reason="embedded_post"),
        Residue(text=signature, reason="embedded_post"),
    ]


def test_a_paragraph_above_a_post_signature_without_tags_is_kept() -> None:
    signature = "A post shared by Nasser (@nbh_mo) on Oct 13, 2018 at 7:51pm PDT"
    paragraphs, residue = _parse([*STORY, signature])
    assert paragraphs == STORY
    assert residue == [Residue(text=signature, reason="embedded_post")]


def test_author_links_glued_to_the_last_sentence_are_cut_off() -> None:
    last = "حفظ الله بلادنا من شر الأشرار."
    links = "مقالات أخرى للكاتبالصدقة في رمضان وغيرهأين أثرياؤنا ؟الوفاء.. عملة نادرة!!"
    paragraphs, residue = _parse([*STORY, f"{last} {links}"])
    assert paragraphs == [*STORY, last]
    assert residue == [Residue(text=links, reason="author_links")]


def test_author_links_phrase_inside_a_sentence_is_kept() -> None:
    line = "ونشرت الصحيفة مقالات أخرى للكاتب نفسه في الأسبوع الماضي."
    paragraphs, residue = _parse([*STORY, line])
    assert paragraphs == [*STORY, line]
    assert residue == []


def test_series_links_at_the_end_are_dropped() -> None:
    links = [
        "مذكرات فاتن حمامة (1): طفولتي بين «يوم سعيد» وضحكات عبد الوهاب",
        "مذكرات فاتن حمامة (2): حكايتي مع الرقص وأستاذة الحب",
        "مذكرات وسيرة فاتن حمامة (الحلقة الأخيرة): الزواج وبريق هوليوود",
    ]
    paragraphs, residue = _parse(STORY + links)
    assert paragraphs == STORY
    assert residue == [Residue(text=t, reason="series_links") for t in links]


def test_a_numbered_list_inside_the_story_is_not_series_links() -> None:
    items = [
        "المرحلة (1): تسجيل المشاركين في البطولة",
        "المرحلة (2): التصفيات الأولية في المسبح الأولمبي",
        "المرحلة (3): النهائيات وتوزيع الميداليات",
    ]
    paragraphs, residue = _parse([*STORY[:1], *items, *STORY[1:]])
    assert paragraphs == [STORY[0], *items, *STORY[1:]]
    assert residue == []


def test_page_furniture_is_recorded_too() -> None:
    paragraphs, residue = _parse([*STORY, "شارك الخبر", "19:23 ت م"])
    assert paragraphs == STORY
    assert residue == [
        Residue(text="شارك الخبر", reason="furniture"),
        Residue(text="19:23 ت م", reason="wire_tail"),
    ]


def test_residue_survives_the_json_form_and_a_json_body_records_its_own() -> None:
    article = parse_text("عنوان الخبر\n" + "\n".join(STORY + TEASERS))
    assert parse_json(article.model_dump_json()) == article
    from_body = parse_json({"title": "عنوان الخبر", "body": "\n".join(STORY + TEASERS)})
    assert from_body.residue == article.residue
    assert from_body.paragraphs() == STORY


def test_wire_desk_and_add_are_cut_from_the_headline_and_recorded() -> None:
    article = parse_text("رياضي / المنتخب يتأهل إلى النهائي إضافة ثانية\n" + "\n".join(STORY))
    assert article.title == "المنتخب يتأهل إلى النهائي"
    assert article.residue == [
        Residue(text="رياضي /", reason="wire_tag"),
        Residue(text="إضافة ثانية", reason="wire_tag"),
    ]


def test_headlines_that_only_look_like_wire_tags_are_kept() -> None:
    for title in (
        "عامان / على الحرب",  # not a desk name
        "الحكومة تقر إضافة أولى إلى الموازنة",  # «إضافة أولى» not at the end
        "وزير المالية: إضافة",
        "عام/2015 في أرقام",  # the wire writes the desk with spaces around the slash
    ):
        article = parse_text(f"{title}\n" + "\n".join(STORY))
        assert not [r for r in article.residue if r.reason == "wire_tag"], title


_LONG = [
    "كشف رئيس الوزراء في مؤتمر صحفي عقده مساء الاثنين عن وثائق قال إنها تثبت أن البرنامج"
    " النووي كان أوسع بكثير مما أعلن، وإن المفتشين الدوليين لم يطلعوا عليها قط.",
    "وقال مراسل القناة العاشرة في مقابلة مع الإذاعة إن العملية استغرقت عامين من التحضير،"
    " وإن فريقا صغيرا نقل الوثائق في ليلة واحدة عبر الحدود قبل أن يكتشف أحد غيابها.",
]


def test_a_related_link_between_two_paragraphs_is_dropped() -> None:
    link = "9 دول تمتلك أسلحة نووية في العالم.. تعرف عليها"
    paragraphs, residue = _parse([_LONG[0], link, _LONG[1]])
    assert paragraphs == _LONG
    assert residue == [Residue(text=link, reason="related_links")]


def test_a_short_line_that_ends_a_sentence_or_is_a_crosshead_stays() -> None:
    for line in ("وأكد الوزير ذلك في بيان لاحق.", "ردود الفعل الدولية", "بحسب الوثائق:"):
        article = parse_text("عنوان الخبر\n" + "\n".join([_LONG[0], line, _LONG[1]]))
        texts = [*article.paragraphs(), *(s.heading for s in article.sections if s.heading)]
        assert line in texts, line
        assert article.residue == [], line


def test_an_embedded_post_repeating_a_quotation_above_is_dropped() -> None:
    quoting = (
        'وفي تدوينة لاحقة على صفحته، قال رئيس الهيئة: "على فكرة أنا مع اللاعب"، مضيفا أن'
        " ما قاله كان لإثارة حماسة الجماهير."
    )
    embed = "على فكرة انا مع اللاعب بس بقول كده عشان تتحمسوا 😎👍🏻"
    paragraphs, residue = _parse([quoting, embed, *STORY])
    assert paragraphs == [quoting, *STORY]
    assert residue == [Residue(text=embed, reason="embedded_post")]


def test_a_line_opening_like_an_earlier_quotation_but_quoting_itself_stays() -> None:
    quoting = 'قال الوزير: "على فكرة أنا مع الاتفاق" في ختام الاجتماع.'
    again = 'وعاد ليقول: على فكرة أنا مع "الاتفاق الجديد" كما هو.'
    paragraphs, residue = _parse([quoting, again, *STORY])
    assert paragraphs == [quoting, again, *STORY]
    assert residue == []
