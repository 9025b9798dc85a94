"""Counters of what the bot asked and what the sandbox answered."""

from __future__ import annotations

from collections import Counter
from typing import Any

SEND_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})


class SandboxStats:
    """Requests per method and outcomes: sends that succeeded, 429s, 403s, other errors."""

    def __init__(self) -> None:
        self.by_method: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()

    def record(self, method: str, status: int) -> None:
        """Count one answered Bot API request."""
        self.by_method[method] += 1
        if status == 200:
            if method == "sendMessage":
                self.outcomes["sent_ok"] += 1
            elif method in ("editMessageText", "editMessageReplyMarkup"):
                self.outcomes["edited_ok"] += 1
            return
        if status == 429:
            self.outcomes["errors_429"] += 1
        elif status == 403:
            self.outcomes["errors_403"] += 1
        else:
            self.outcomes["errors_other"] += 1
        if status >= 500:
            self.outcomes["errors_5xx"] += 1

    def count(self, name: str, amount: int = 1) -> None:
        """Bump a named counter (updates enqueued, webhook deliveries, answer violations...)."""
        self.outcomes[name] += amount

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of every counter (the main ones always present, even at 0)."""
        out: dict[str, Any] = {
            key: self.outcomes.get(key, 0)
            for key in ("sent_ok", "edited_ok", "errors_429", "errors_403", "errors_other")
        }
        out.update({k: v for k, v in self.outcomes.items() if k not in out})
        out["requests"] = sum(self.by_method.values())
        out["by_method"] = dict(self.by_method)
        return out

    def reset(self) -> None:
        """Zero every counter."""
        self.by_method.clear()
        self.outcomes.clear()
