"""Reader-facing Arabic labels and markers the formatters add around article text, and numerals."""

from __future__ import annotations

#: Precedes the headline of breaking news: "🔴 عاجل | <b>headline</b>".
BREAKING_MARKER = "🔴 عاجل |"
#: Precedes the headline of a routine (non-breaking) push.
NEWS_MARKER = "📰"
#: Starts the source-link line at the end of a full article.
LINK_ICON = "🔗"
#: Text of the source link / URL button.
SOURCE_LABEL = "المصدر"
#: Callback button that opens the full article.
READ_FULL_LABEL = "اقرأ الخبر كاملاً"
#: Callback button under the last message of a page of a long article: the next messages.
MORE_LABEL = "المزيد"
#: Ends an alert edited by a correction (discreet: the reader sees the text was changed).
CORRECTED_MARK = "✏️ تصحيح"
#: Opens the notice a retracted article's alerts, read buttons and ``/article`` show.
RETRACTED_TEXT = "⛔ سُحب هذا الخبر"
#: Precedes the newsroom's reason in a retraction notice.
RETRACTION_REASON_LABEL = "السبب:"
#: Opens an update (a new development) sent as a reply under the alert.
UPDATE_MARKER = "🔄 تحديث |"
#: Heading of the updates at the end of the full article.
UPDATES_HEADING = "🔄 تحديثات"
#: Buttons under an editor's correction, update or retraction preview.
CONFIRM_LABEL = "تأكيد"
CANCEL_LABEL = "إلغاء"
#: Shown by the headline list when there is nothing to list.
NO_NEWS_TEXT = "لا توجد أخبار لعرضها حالياً."

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def arabic_number(number: int) -> str:
    """``number`` in Arabic-Indic digits (١٢٣), as Arabic readers number a list or a count."""
    return str(number).translate(_ARABIC_INDIC)
