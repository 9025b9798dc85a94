"""format_article: layout, the seed article, packing preferences, limits and escaping."""

from __future__ import annotations

import re

import pytest

from bot.models import Article, Section
from formatters import format_article
from formatters.html import visible_text
from formatters.segment import is_list_marker
from tests.html_oracle import article_words, check_html, strip_known_decorations, utf16_units

SENTENCE = "وأكدت الوزارة في بيانها أن الوضع تحت السيطرة الكاملة."  # 52 characters
URL = "https://news.example/article?id=1&lang=ar"


def _seed_article(seed_text: str) -> Article:
    from bot.parser import parse_text

    return parse_text(seed_text).model_copy(update={"url": URL})


def _paragraph(sentences: int) -> str:
    return " ".join([SENTENCE] * sentences)


def test_seed_article_is_one_message_with_marker_bold_headline_and_five_bold_headings(
    seed_text: str,
) -> None:
    article = _seed_article(seed_text)
    [message] = format_article(article)
    assert message.parse_mode == "HTML"
    assert message.disable_link_preview is True
    assert message.to_payload()["link_preview_options"] == {"is_disabled": True}
    assert message.text.startswith(f"🔴 عاجل | <b>{article.title}</b>\n\n")
    bold = re.findall(r"<b>(.*?)</b>", message.text)
    assert bold[1:] == [s.heading for s in article.sections if s.heading]
    assert len(bold) == 6
    # Each heading sits directly above its first paragraph; sections are a blank line apart.
    assert "\n\n<b>التحركات العسكرية الأميركية</b>\nالبنتاغون أكد" in message.text
    assert message.text.endswith(f'\n\n🔗 <a href="{URL.replace("&", "&amp;")}">المصدر</a>')
    checked = check_html(message.text)
    assert checked.hrefs == [URL]
    assert checked.entities == 7


def test_seed_article_in_small_parts_keeps_every_word_and_every_heading_with_its_text(
    seed_text: str,
) -> None:
    article = _seed_article(seed_text)
    messages = format_article(article, limit=500)
    assert len(messages) > 3
    visible = [check_html(m.text).text for m in messages]
    assert all(utf16_units(v) <= 500 for v in visible)
    bodies = strip_known_decorations(visible, breaking=True, url=True)
    assert " ".join(bodies).split() == article_words(article)
    for message in messages[:-1]:
        last_line = message.text.rsplit("\n\n", 1)[0].split("\n")[-1]
        assert not last_line.endswith("</b>"), "a heading ended a message without its text"


def test_headline_only_flash_is_a_single_short_message() -> None:
    article = Article(title="انفجار قرب الميناء", breaking=True)
    [message] = format_article(article)
    assert message.text == "🔴 عاجل | <b>انفجار قرب الميناء</b>"


def test_non_breaking_article_has_no_marker() -> None:
    [message] = format_article(Article(title="عنوان", sections=[Section(paragraphs=["نص."])]))
    assert message.text == "<b>عنوان</b>\n\nنص."


def test_article_text_is_escaped_and_reads_back_exactly() -> None:
    paragraph = 'قال: "x < y & y > z" و<b>ليس وسماً</b> &amp; انتهى.'
    article = Article(title="<i>عنوان</i> & كود", sections=[Section(paragraphs=[paragraph])])
    [message] = format_article(article)
    assert "<i>" not in message.text and "&amp;amp;" in message.text
    checked = check_html(message.text)
    # The headline opens with Latin ("<i>"), so it also gets its RLM.
    assert checked.text == f"\u200f<i>عنوان</i> & كود\n\n{paragraph}"
    assert checked.entities == 1


def test_several_short_sections_share_one_message() -> None:
    sections = [Section(heading=f"القسم {n}", paragraphs=[_paragraph(2)]) for n in range(5)]
    [message] = format_article(Article(title="عنوان", sections=sections), limit=4096)
    assert message.text.count("<b>") == 6


def test_packing_is_greedy_and_prefers_section_boundaries() -> None:
    # 9 sections of ~900 characters: 4 fit in a 4096 message, so 3 messages, not 9.
    sections = [Section(heading=f"القسم {n}", paragraphs=[_paragraph(17)]) for n in range(9)]
    messages = format_article(Article(title="عنوان", sections=sections))
    assert len(messages) == 3
    for message in messages[1:]:
        first_line = visible_text(message.text).split("\n")[0]
        assert first_line.startswith("القسم"), "a later part should start at a section"


def test_a_paragraph_longer_than_the_limit_is_split_at_sentence_ends() -> None:
    article = Article(title="عنوان", sections=[Section(paragraphs=[_paragraph(200)])])
    messages = format_article(article)
    assert len(messages) == 3
    for message in messages[:-1]:
        body = visible_text(message.text).rsplit("\n\n", 1)[0]
        assert body.endswith("الكاملة."), body[-30:]
        assert utf16_units(visible_text(message.text)) > 4096 - len(SENTENCE) - 20


def test_without_sentence_ends_a_paragraph_is_split_between_words() -> None:
    words = ["كلمة", "طويلة", "جداً", "هنا"] * 600
    article = Article(title="عنوان", sections=[Section(paragraphs=[" ".join(words)])])
    messages = format_article(article, limit=1000)
    bodies = strip_known_decorations(
        [visible_text(m.text) for m in messages], breaking=False, url=False
    )
    assert " ".join(bodies).split()[1:] == words
    assert all(utf16_units(visible_text(m.text)) <= 1000 for m in messages)


def test_part_indicators_count_parts() -> None:
    article = Article(title="عنوان", sections=[Section(paragraphs=[_paragraph(40)] * 3)])
    messages = format_article(article, limit=1000)
    total = len(messages)
    assert total > 5
    for number, message in enumerate(messages, start=1):
        assert visible_text(message.text).endswith(f"\n\n\u200f({number}/{total})")


def test_indicator_width_grows_with_the_number_of_parts() -> None:
    article = Article(title="عنوان", sections=[Section(paragraphs=[_paragraph(300)])])
    messages = format_article(article, limit=200)
    assert len(messages) >= 100
    for message in messages:
        assert utf16_units(visible_text(message.text)) <= 200
    assert visible_text(messages[-1].text).endswith(f"({len(messages)}/{len(messages)})")


def test_a_word_longer_than_the_limit_is_cut_without_splitting_emoji() -> None:
    word = "👨\u200d👩\u200d👧🇧🇭ب" * 40  # 400 UTF-16 units, no spaces
    article = Article(title="عنوان", sections=[Section(paragraphs=[f"قبل {word} بعد"])])
    messages = format_article(article, limit=120)
    visible = [check_html(m.text).text for m in messages]
    assert all(utf16_units(v) <= 120 for v in visible)
    bodies = strip_known_decorations(visible, breaking=False, url=False)
    assert "".join("".join(b.split()) for b in bodies) == "عنوانقبل" + word + "بعد"
    for body in bodies[1:-1]:
        piece = "".join(body.split())
        # Every cut falls between whole family emoji / flag / letter groups.
        assert piece.startswith(("👨", "🇧🇭", "ب")) and not piece.startswith("\u200d")
        assert piece.endswith(("👧", "🇭", "ب"))


def test_entity_budget_splits_messages() -> None:
    sections = [Section(heading=f"القسم {n}", paragraphs=["نص قصير."]) for n in range(10)]
    article = Article(title="عنوان", sections=sections, url=URL)
    messages = format_article(article, max_entities=3)
    assert len(messages) == 4
    assert all(check_html(m.text).entities <= 3 for m in messages)


def test_corpus_style_heading_only_section_and_empty_sections_are_tolerated() -> None:
    article = Article(
        title="عنوان",
        sections=[Section(), Section(heading="فرعي"), Section(paragraphs=["نص."])],
    )
    [message] = format_article(article)
    assert visible_text(message.text) == "عنوان\n\nفرعي\n\nنص."


@pytest.mark.parametrize("limit", [5, 12])
def test_a_limit_too_small_for_the_decorations_is_refused(limit: int) -> None:
    article = Article(title="عنوان طويل", breaking=True, sections=[Section(paragraphs=["نص"])])
    with pytest.raises(ValueError, match="limit"):
        format_article(article, limit=limit)


def test_max_entities_must_allow_the_bold_headline() -> None:
    with pytest.raises(ValueError, match="max_entities"):
        format_article(Article(title="عنوان"), max_entities=0)


def test_a_long_heading_moves_whole_to_the_next_message_rather_than_split() -> None:
    # The heading fits at the end of message 1, but not with the first word after it: rather
    # than split it (or leave it alone there) it opens message 2, even if message 1 stays short.
    heading = (
        "تفاصيل جديدة حول الاجتماع الطارئ لمجلس الأمن الدولي بشأن الأوضاع المتدهورة"
        " في المنطقة والخطوات المقبلة"
    )
    assert len(heading) == 102
    article = Article(
        title="عنوان",
        sections=[
            Section(paragraphs=["فقرة أولى قصيرة جداً."]),
            Section(heading=heading, paragraphs=["استثنائيةجداً وتستمر الفقرة بعدها."]),
        ],
    )
    messages = format_article(article, limit=150)
    assert [m.text.count("<b>") for m in messages] == [1, 1]
    assert messages[1].text.startswith(f"<b>{heading}</b>\n")


# --- issue 12: a boundary goes before a list marker, never after it ---------------------------

_FIRST_ITEM = (
    "ارتفعت أسعار المواد الغذائية في الأسواق المحلية بنسبة كبيرة خلال الأشهر الستة الماضية."
)
_NEXT_ITEM = (
    "تراجعت القدرة الشرائية للأسر محدودة الدخل بعد تجميد الأجور وارتفاع الإيجارات في المدن"
    " الكبرى وتزايد أعباء النقل والتعليم على العائلات التي تعيش في الضواحي البعيدة عن مراكز العمل"
)


def _bodies(paragraph: str, limit: int) -> list[str]:
    article = Article(title="الأسعار", sections=[Section(paragraphs=[paragraph])])
    texts = [visible_text(m.text) for m in format_article(article, limit=limit)]
    return [re.sub(r"\n\n\u200f?\(\d+/\d+\)$", "", t).lstrip("\u200f") for t in texts]


def test_a_list_number_moves_to_the_part_of_its_item() -> None:
    parts = _bodies(f"1. {_FIRST_ITEM} 2. {_NEXT_ITEM}.", 200)
    assert parts[0].endswith("الماضية.")
    assert parts[1].startswith("2. تراجعت")


def test_a_part_does_not_open_with_an_inline_bullet_when_a_clause_can_end_the_part() -> None:
    item = _NEXT_ITEM.replace("الإيجارات في", "الإيجارات، في")
    parts = _bodies(f"- {_FIRST_ITEM} - {item}.", 200)
    assert len(parts) >= 2
    assert not any(part.startswith("-") for part in parts[1:]), parts
    assert parts[0].endswith("الإيجارات،")


def test_a_dash_inside_a_sentence_is_no_list_marker() -> None:
    # «لواء الإسلام - جبهة النصرة»: a separator in running text, breakable like any space.
    assert not is_list_marker("-", "الإسلام")
    assert is_list_marker("-", "الماضية.") and is_list_marker("2.", "الماضية.")
    assert not is_list_marker("12.", "القتلى")
