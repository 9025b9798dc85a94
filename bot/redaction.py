"""Keeping the bot token out of logs and error texts, whoever writes them.

Bot API URLs contain the token (``https://api.telegram.org/bot<token>/sendMessage``), and
libraries put URLs into exception texts and tracebacks (PTB's ``InvalidToken`` even quotes the
token itself). Redacting at each call site misses library logs, so the CLI also installs
:class:`TokenRedactingFilter` on the root logging handlers: every record is redacted on its way
out, messages, arguments and tracebacks alike.
"""

from __future__ import annotations

import logging
import re

#: What a Telegram bot token looks like: the bot's numeric id, a colon, a long secret.
TOKEN_RE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
#: What replaces a token.
PLACEHOLDER = "<token>"


def redact(text: str, token: str | None = None) -> str:
    """``text`` with ``token`` and anything shaped like a bot token replaced by ``<token>``."""
    if token:
        text = text.replace(token, PLACEHOLDER)
    return TOKEN_RE.sub(PLACEHOLDER, text)


class TokenRedactingFilter(logging.Filter):
    """A handler filter that redacts tokens from each record's message and traceback.

    The message is formatted here (``msg % args``) and the result stored with ``args=None``, so
    a token passed as an argument is caught too; the traceback is formatted into ``exc_text``,
    which formatters use instead of formatting ``exc_info`` again.
    """

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self._tokens: list[str] = [token] if token else []

    def add_token(self, token: str | None) -> None:
        """Also redact this exact token (known only once the settings are loaded)."""
        if token and token not in self._tokens:
            self._tokens.append(token)

    def redact(self, text: str) -> str:
        """``text`` with every known token and anything token-shaped replaced."""
        for token in self._tokens:
            text = text.replace(token, PLACEHOLDER)
        return redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call (wrong argument count): keep what there is
            message = f"{record.msg} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # The same text a Formatter would produce; formatters reuse a record's exc_text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True
