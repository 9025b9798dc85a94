"""Answers of the reading commands (``/latest``, ``/article``, ``/search``) and read buttons."""

from __future__ import annotations

from formatters.labels import arabic_number
from formatters.message import OutgoingMessage
from formatters.replies.base import command, echo, echo_plain, lines_message

#: ``/latest`` without a number, and its ceiling.
DEFAULT_LATEST = 5
MAX_LATEST = 20
#: The longest count repeated back by the ``/latest`` note.
MAX_COUNT_ECHO_CHARS = 12


def latest_heading(count: int) -> str:
    """The heading above the ``/latest`` headline buttons (plain text)."""
    return "📰 آخر الأخبار" if count != 1 else "📰 آخر خبر"


def latest_usage() -> OutgoingMessage:
    """``/latest`` with something that is not a positive number."""
    return lines_message(
        f"اكتب {command('latest')} لأحدث {arabic_number(DEFAULT_LATEST)} عناوين، "
        f"أو أضف عدداً من {arabic_number(1)} إلى {arabic_number(MAX_LATEST)}، "
        f"مثلاً: {command('latest', arabic_number(10))}"
    )


def latest_clamped(asked: int) -> OutgoingMessage:
    """The note sent when ``/latest`` asks for more than the maximum: what was asked, what comes."""
    # A count can be thousands of digits long (anything fits in a message): keep the echo short.
    shown = echo(arabic_number(asked), MAX_COUNT_ECHO_CHARS)
    most = arabic_number(MAX_LATEST)
    return lines_message(f"ℹ️ طلبت {shown}، والحد الأقصى {most} عنواناً، فإليك آخر {most}.")


def no_articles_yet() -> OutgoingMessage:
    """``/latest`` before anything was published."""
    return lines_message("لا توجد أخبار منشورة بعد. ستصلك الأخبار العاجلة هنا فور نشرها.")


def article_usage() -> OutgoingMessage:
    """``/article`` without an id (or with more than one word)."""
    return lines_message(
        f"اكتب رمز الخبر بعد الأمر، مثلاً: {command('article', 'رمز_الخبر')}",
        f"تجد الرموز والأزرار في {command('latest')}، أو ابحث بكلمات الخبر: "
        f"{command('search', 'كلمات البحث')}",
    )


def article_not_found(article_id: str) -> OutgoingMessage:
    """An id that is malformed, unknown, or of a deleted article."""
    return lines_message(
        f"لم أجد خبراً بالرمز «{echo(article_id)}»، ربما حُذف أو أن الرمز غير صحيح.",
        f"جرّب {command('latest')} لأحدث العناوين، أو {command('search', 'كلمات البحث')}.",
    )


def search_usage() -> OutgoingMessage:
    """``/search`` without words."""
    return lines_message(
        f"اكتب كلمات البحث بعد الأمر، مثلاً: {command('search', 'غزة')}",
        "أبحث في عناوين الأخبار ونصوصها، ولا يهم اختلاف الهمزات أو التاء المربوطة.",
    )


def search_words_dropped(used: int) -> OutgoingMessage:
    """The note sent when ``/search`` had more words than are looked up."""
    return lines_message(
        f"ℹ️ أبحث بأول {arabic_number(used)} كلمة فقط، وتجاهلت ما بعدها.",
    )


def search_heading(query: str, count: int) -> str:
    """The heading above the search-result buttons (plain text, not HTML)."""
    noun = "نتيجة" if count == 1 else "نتائج"
    return f"🔎 {noun} البحث عن «{echo_plain(query)}»"


def search_no_results(query: str) -> OutgoingMessage:
    """A search that matched nothing."""
    return lines_message(
        f"🔎 لم أجد أخباراً تحتوي على «{echo(query)}».",
        "جرّب كلمات أقل أو مختلفة، أو تصفّح " + command("latest") + ".",
    )


# Callback notices of the read buttons (plain text, at most 200 characters) ----------------


def notice_article_gone() -> str:
    """A read button whose article no longer exists."""
    return "هذا الخبر لم يعد متاحاً."


def notice_sent_privately() -> str:
    """A read button pressed in a group: the text went to the presser's private chat."""
    return "📩 أرسلت إليك الخبر كاملاً في المحادثة الخاصة."


def notice_sending_article() -> str:
    """The short notice shown while the full text is being sent."""
    return "📖 إليك الخبر كاملاً"


def notice_sending_more() -> str:
    """The short notice shown while the next messages of a long article are being sent."""
    return "📖 إليك تتمة الخبر"
