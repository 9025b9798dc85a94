"""Per-alert delivery progress (``AlertStatus``) and its plain-text rendering for the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field, computed_field

_COUNTERS = (
    "queued",
    "sent",
    "blocked",
    "failed",
    "bad_request",
    "skipped",
    "fixed",
    "edited",
    "unchanged",
    "gone",
    "unsent",
)


def _when(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


class AlertStatus(BaseModel):
    """One alert's progress: counters, times and latencies (times in UTC).

    The same shape serves an alert's *actions* (``kind`` ``edit``: a correction or the
    retraction; ``reply``: an update), listed in the alert's ``actions``.
    """

    alert_id: str
    kind: str = "alert"  # alert, edit (correction / retraction), reply (update)
    article_id: str
    title: str | None = None
    audience: str
    priority: str
    state: str  # queued, expanding, sending, done
    published_at: datetime | None = None
    started_at: datetime | None = None
    first_delivery_at: datetime | None = None
    last_delivery_at: datetime | None = None
    finished_at: datetime | None = None
    queued: int = 0  # chats expanded so far (the whole audience once expansion is complete)
    sent: int = 0
    blocked: int = 0  # marked inactive: blocked the bot, deactivated, chat not found, kicked
    failed: int = 0  # network errors / 5xx beyond the retry limit
    bad_request: int = 0  # refused by Telegram for that chat
    skipped: int = 0  # unsubscribed before their turn; for an edit: can't be written to
    #: Alerts: catch-up edits of chats sent an older revision while a correction landed.
    fixed: int = 0
    #: Edits: messages edited, already showing the text, deleted by the reader, never sent.
    edited: int = 0
    unchanged: int = 0
    gone: int = 0
    unsent: int = 0
    expanded: bool = False
    #: Alerts: the revision of the text (0 as published, one more per correction).
    revision: int = 0
    retracted: bool = False
    #: Edits: the revision applied and whether it is the retraction; replies: the update.
    parent: str | None = None
    update: int | None = None
    retraction: bool = False
    actions: list[AlertStatus] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pending(self) -> int:
        """Chats queued that have no outcome yet."""
        done = self.sent + self.blocked + self.failed + self.bad_request + self.skipped
        done += self.fixed + self.edited + self.unchanged + self.gone + self.unsent
        return max(0, self.queued - done)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_delivery_latency(self) -> float | None:
        """Seconds from publication to the first message delivered."""
        return _seconds(self.published_at, self.first_delivery_at)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def last_delivery_latency(self) -> float | None:
        """Seconds from publication to the last message delivered (so far)."""
        return _seconds(self.published_at, self.last_delivery_at)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def send_rate(self) -> float | None:
        """Messages per second between the first and the last delivery."""
        span = _seconds(self.first_delivery_at, self.last_delivery_at)
        if not span or self.sent < 2:
            return None
        return round((self.sent - 1) / span, 1)

    @classmethod
    def from_hash(cls, alert_id: str, data: dict[str, str], title: str | None) -> AlertStatus:
        """Build from the alert's Redis hash."""
        return cls(
            alert_id=alert_id,
            article_id=data.get("article_id", alert_id),
            title=title,
            audience=data.get("audience", ""),
            priority=data.get("priority", ""),
            state=data.get("state", "queued"),
            published_at=_when(data.get("published_at")),
            started_at=_when(data.get("started_at")),
            first_delivery_at=_when(data.get("first_delivery_at")),
            last_delivery_at=_when(data.get("last_delivery_at")),
            finished_at=_when(data.get("finished_at")),
            expanded=data.get("expanded") == "1",
            kind=data.get("kind", "alert"),
            parent=data.get("parent"),
            revision=int(data.get("rev") or 0),
            retracted=data.get("retracted") == "1",
            update=int(data["update"]) if data.get("update", "").isdigit() else None,
            retraction=data.get("retraction") == "1",
            **{name: int(data.get(name) or 0) for name in _COUNTERS},
        )


def _clock(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def render_status_text(status: AlertStatus) -> str:
    """A plain-text (English) block for the CLI: one alert's state, counters and latencies."""
    audience = "all active subscribers" if status.audience == "breaking" else "all-news readers"
    lines = [f"alert {status.alert_id} [{status.priority}] to {audience}: {status.state}"]
    if status.title:
        lines.append(f"  article: {status.title}")
    total = f"{status.queued}" + ("" if status.expanded else "+ (still expanding)")
    lines.append(
        f"  chats {total}: sent {status.sent}, inactive {status.blocked}, "
        f"failed {status.failed}, refused {status.bad_request}, skipped {status.skipped}, "
        f"pending {status.pending}"
    )
    lines.append(
        f"  published {_clock(status.published_at)}, started {_clock(status.started_at)}, "
        f"finished {_clock(status.finished_at)}"
    )
    rate = "-" if status.send_rate is None else f"{status.send_rate} msg/s"
    lines.append(
        f"  first delivery after {_secs(status.first_delivery_latency)}, "
        f"last after {_secs(status.last_delivery_latency)}, rate {rate}"
    )
    if status.revision or status.retracted or status.fixed:
        state = "retracted" if status.retracted else f"revision {status.revision}"
        lines.append(f"  text: {state}; {status.fixed} catch-up edit(s) of chats sent it late")
    lines += [render_action_line(action) for action in status.actions]
    return "\n".join(lines)


def render_action_line(action: AlertStatus) -> str:
    """One line of an alert's action (a correction, the retraction or an update)."""
    if action.kind == "reply":
        what = f"update {action.update}"
        counts = (
            f"replied {action.sent}, inactive {action.blocked}, failed {action.failed}, "
            f"refused {action.bad_request}, skipped {action.skipped}"
        )
    else:
        what = "retraction" if action.retraction else f"correction (revision {action.revision})"
        counts = (
            f"edited {action.edited}, already current {action.unchanged}, "
            f"deleted by reader {action.gone}, not reached yet {action.unsent}, "
            f"inactive {action.blocked}, failed {action.failed}, refused {action.bad_request}, "
            f"skipped {action.skipped}"
        )
    total = f"{action.queued}" + ("" if action.expanded else "+")
    return (
        f"  {what} [{action.alert_id}]: {action.state}, {total} chats: {counts}, "
        f"pending {action.pending}"
    )
