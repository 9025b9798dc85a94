"""What a worker needs to know about an alert or action: queue, audience, prebuilt message bodies.

A *unit* is what one record and one batch stream deliver: an alert (its message to each
subscriber), or one of its actions — an edit (a correction or the retraction, applied to every
delivered message) or an update (a reply under every delivered message). An alert's text has
revisions: 0 as published, one more per correction or retraction. Workers send whatever
revision is current when a chat's turn comes, and re-read the current revision number before
every booking round, so a correction reaches the chats not yet served directly.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.delivery.codec import as_text, as_text_map
from bot.delivery.config import DeliveryConfig, Priority
from bot.delivery.keys import DeliveryKeys
from bot.delivery.outcomes import UnitKind
from bot.models import Audience
from bot.store import ArticleStore
from formatters.alert import format_alert, format_notification
from formatters.message import OutgoingMessage

logger = logging.getLogger(__name__)

_CACHE_SIZE = 64


def message_tail(message: OutgoingMessage) -> bytes:
    """A message's Bot API JSON without its opening brace (the chat id is spliced in front)."""
    encoded = json.dumps(message.to_payload(), ensure_ascii=False, separators=(",", ":")).encode()
    return encoded[1:]


@dataclass(frozen=True, slots=True)
class AlertText:
    """One revision of an alert's message, as ``sendMessage`` and ``editMessageText`` bodies."""

    revision: int
    #: JSON after ``{"chat_id":N,`` for sendMessage (``allow_paid_broadcast`` included when
    #: configured); ``None`` when the alert has no message (its article is gone or broken).
    send_tail: bytes | None
    #: The same content for editMessageText (after ``chat_id`` and ``message_id``).
    edit_tail: bytes | None
    retracted: bool = False


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """One unit as the send path sees it; ``body_tail`` is ``None`` if it cannot be formatted.

    For an alert, ``body_tail`` is its revision-0 body (the catalog's ``text()`` has the
    current one); for an update, the reply's body.
    """

    alert_id: str
    priority: Priority
    audience: Audience
    body_tail: bytes | None
    published_at: float = 0.0  # Unix time (Redis clock)
    kind: UnitKind = UnitKind.ALERT
    #: The alert an action belongs to (the alert itself for an alert).
    parent: str = ""

    @property
    def owner(self) -> str:
        """The alert whose messages (and message ids) this unit is about."""
        return self.parent or self.alert_id

    def body(self, chat_id: int) -> bytes | None:
        """The exact sendMessage JSON body for one chat (chat_id spliced into the template);
        ``None`` when the alert has no message (its article is gone or cannot be formatted).
        """
        if self.body_tail is None:
            return None
        return b'{"chat_id":' + str(chat_id).encode() + b"," + self.body_tail


def send_body(tail: bytes, chat_id: int) -> bytes:
    """A sendMessage body from a tail."""
    return b'{"chat_id":' + str(chat_id).encode() + b"," + tail


def edit_body(tail: bytes, chat_id: int, message_id: int) -> bytes:
    """An editMessageText body from a tail."""
    head = f'{{"chat_id":{chat_id},"message_id":{message_id},'
    return head.encode() + tail


def reply_body(tail: bytes, chat_id: int, message_id: int) -> bytes:
    """A sendMessage body replying to ``message_id``; sent even if the reader deleted it."""
    head = (
        f'{{"chat_id":{chat_id},"reply_parameters":{{"message_id":{message_id},'
        f'"allow_sending_without_reply":true}},'
    )
    return head.encode() + tail


class AlertCatalog:
    """Loads units and their messages once per process (small LRUs, memory flat)."""

    def __init__(
        self, redis: Redis, keys: DeliveryKeys, articles: ArticleStore, config: DeliveryConfig
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._articles = articles
        self._paid = config.paid_broadcast
        self._cache: OrderedDict[str, AlertInfo] = OrderedDict()
        self._texts: OrderedDict[str, AlertText] = OrderedDict()

    async def get(self, alert_id: str) -> AlertInfo | None:
        """The unit, or ``None`` when its record no longer exists."""
        cached = self._cache.get(alert_id)
        if cached is not None:
            self._cache.move_to_end(alert_id)
            return cached
        data = as_text_map(await self._redis.hgetall(self._keys.alert(alert_id)))
        if not data:
            return None
        priority = Priority(data.get("priority", Priority.BREAKING.value))
        audience = Audience(data.get("audience", Audience.BREAKING.value))
        kind = UnitKind(data.get("kind", UnitKind.ALERT.value))
        parent = data.get("parent", "") if kind is not UnitKind.ALERT else ""
        published = float(data.get("published_at") or 0.0)
        if kind is UnitKind.REPLY:
            body = data["payload"].encode() if data.get("payload") else None
            if body is not None and self._paid:
                body = b'"allow_paid_broadcast":true,' + body
        elif kind is UnitKind.EDIT:
            body = None
        else:
            body = await self._body(data.get("article_id"), priority)
        info = AlertInfo(alert_id, priority, audience, body, published, kind, parent)
        self._cache[alert_id] = info
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return info

    def known_text(self, alert_id: str) -> AlertText | None:
        """The newest revision of an alert's message this process has loaded."""
        return self._texts.get(alert_id)

    async def text(self, alert_id: str, revision: int) -> AlertText:
        """The alert's message at ``revision`` (loaded when newer than the one known)."""
        known = self._texts.get(alert_id)
        if known is not None and known.revision >= revision:
            self._texts.move_to_end(alert_id)
            return known
        if revision == 0:
            info = await self.get(alert_id)
            tail = info.body_tail if info is not None else None
            edit = _without_paid(tail)
            text = AlertText(0, tail, edit)
        else:
            raw, retracted = await self._revision(alert_id, revision)
            send = raw
            if raw is not None and self._paid:
                send = b'"allow_paid_broadcast":true,' + raw
            text = AlertText(revision, send, raw, retracted)
        self._texts[alert_id] = text
        if len(self._texts) > _CACHE_SIZE:
            self._texts.popitem(last=False)
        return text

    async def _revision(self, alert_id: str, revision: int) -> tuple[bytes | None, bool]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(self._keys.alert_revisions(alert_id), str(revision))
            pipe.hget(self._keys.alert(alert_id), "retracted")
            raw, retracted = await pipe.execute()
        body = as_text(raw).encode() if raw is not None else None
        return body, retracted is not None and as_text(retracted) == "1"

    async def _body(self, article_id: str | None, priority: Priority) -> bytes | None:
        try:
            article = await self._articles.get(article_id) if article_id else None
        except RedisError:
            raise  # not the article's fault: the feeder retries
        except Exception:
            # Whatever is wrong with one record must not stop the worker (and every restart
            # of it): that alert's chats count as failed, the others go on.
            logger.exception("article %s of an alert cannot be read", article_id)
            article = None
        if article is None:
            logger.error(
                "article %s of an alert is gone or unreadable: its chats count as failed",
                article_id,
            )
            return None
        try:
            breaking = priority is Priority.BREAKING
            message = format_alert(article) if breaking else format_notification(article)
        except ValueError as exc:
            logger.error("article %s cannot be formatted (%s)", article_id, exc)
            return None
        payload = message.to_payload()
        if self._paid:
            payload["allow_paid_broadcast"] = True
        encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return encoded[1:]  # everything after the opening brace


def _without_paid(tail: bytes | None) -> bytes | None:
    """An alert body without ``allow_paid_broadcast`` (editMessageText has no such field)."""
    if tail is None:
        return None
    data = json.loads(b"{" + tail)
    data.pop("allow_paid_broadcast", None)
    return message_tail_from(data)


def message_tail_from(payload: dict[str, object]) -> bytes:
    """A payload dict's JSON without its opening brace."""
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return encoded[1:]
