"""Every Arabic text the bot says outside the news itself, one module per topic.

Pure functions: they take plain values and return ``OutgoingMessage`` objects (or short plain
strings for callback-query notices), so the handlers stay thin and the wording is tested in one
place. ``base`` holds the shared RTL helpers; ``welcome`` the greeting, help and subscription
answers; ``reading``, ``settings``, ``publish``, ``stats`` and ``fallback`` the rest. Every public
name is also importable from this package.
"""

from formatters.replies.base import LRM, MAX_ECHO_CHARS, MAX_NOTICE_CHARS, chat_who, command
from formatters.replies.fallback import (
    notice_invalid_button,
    plain_text_hint,
    service_unavailable,
    something_went_wrong,
    unknown_command,
)
from formatters.replies.pacing import notice_slow_down, slow_down
from formatters.replies.publish import (
    MAX_TITLE_ECHO_CHARS,
    admin_only,
    publish_done,
    publish_failed,
    publish_usage,
)
from formatters.replies.reading import (
    DEFAULT_LATEST,
    MAX_LATEST,
    article_not_found,
    article_usage,
    latest_clamped,
    latest_heading,
    latest_usage,
    no_articles_yet,
    notice_article_gone,
    notice_sending_article,
    notice_sending_more,
    notice_sent_privately,
    search_heading,
    search_no_results,
    search_usage,
    search_words_dropped,
)
from formatters.replies.settings import (
    notice_admins_only,
    preference_saved,
    preference_unchanged,
    settings_menu,
    settings_need_subscription,
)
from formatters.replies.stats import AlertSummary, StatsSnapshot, stats_message
from formatters.replies.welcome import (
    CommandInfo,
    admin_commands,
    admins_only,
    greeting,
    help_message,
    public_commands,
    subscribed,
    unsubscribed,
)

__all__ = [
    "DEFAULT_LATEST",
    "LRM",
    "MAX_ECHO_CHARS",
    "MAX_LATEST",
    "MAX_NOTICE_CHARS",
    "MAX_TITLE_ECHO_CHARS",
    "AlertSummary",
    "CommandInfo",
    "StatsSnapshot",
    "admin_commands",
    "admin_only",
    "admins_only",
    "article_not_found",
    "article_usage",
    "chat_who",
    "command",
    "greeting",
    "help_message",
    "latest_clamped",
    "latest_heading",
    "latest_usage",
    "no_articles_yet",
    "notice_admins_only",
    "notice_article_gone",
    "notice_invalid_button",
    "notice_sending_article",
    "notice_sending_more",
    "notice_sent_privately",
    "notice_slow_down",
    "plain_text_hint",
    "preference_saved",
    "preference_unchanged",
    "public_commands",
    "publish_done",
    "publish_failed",
    "publish_usage",
    "search_heading",
    "search_no_results",
    "search_usage",
    "search_words_dropped",
    "service_unavailable",
    "settings_menu",
    "settings_need_subscription",
    "slow_down",
    "something_went_wrong",
    "stats_message",
    "subscribed",
    "unknown_command",
    "unsubscribed",
]
