"""Formatters: pure functions from the Article model to Telegram-ready messages (no I/O)."""

from formatters.alert import (
    format_alert,
    format_notification,
    format_retraction,
    format_update,
)
from formatters.article import (
    ARTICLE_PAGE_SIZE,
    article_blocks,
    article_page,
    format_article,
    format_story,
)
from formatters.chunking import part_indicator
from formatters.headlines import format_headlines
from formatters.html import (
    HtmlError,
    count_entities,
    escape,
    parse_html,
    utf16_len,
    validate_html,
    visible_len,
    visible_text,
)
from formatters.message import InlineButton, OutgoingMessage
from formatters.preview import render_plain
from formatters.rtl import RLM, rtl_line

__all__ = [
    "ARTICLE_PAGE_SIZE",
    "RLM",
    "HtmlError",
    "InlineButton",
    "OutgoingMessage",
    "article_blocks",
    "article_page",
    "count_entities",
    "escape",
    "format_alert",
    "format_article",
    "format_headlines",
    "format_notification",
    "format_retraction",
    "format_story",
    "format_update",
    "parse_html",
    "part_indicator",
    "render_plain",
    "rtl_line",
    "utf16_len",
    "validate_html",
    "visible_len",
    "visible_text",
]
