"""What a worker needs to know about an alert: its queue, audience and prebuilt message body."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.delivery.codec import as_text_map
from bot.delivery.config import DeliveryConfig, Priority
from bot.delivery.keys import DeliveryKeys
from bot.models import Audience
from bot.store import ArticleStore
from formatters.alert import format_alert, format_notification

logger = logging.getLogger(__name__)

_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """One alert as the send path sees it; ``body_tail`` is ``None`` if it cannot be formatted."""

    alert_id: str
    priority: Priority
    audience: Audience
    body_tail: bytes | None
    published_at: float = 0.0  # Unix time (Redis clock)

    def body(self, chat_id: int) -> bytes | None:
        """The exact sendMessage JSON body for one chat (chat_id spliced into the template);
        ``None`` when the alert has no message (its article is gone or cannot be formatted).
        """
        if self.body_tail is None:
            return None
        return b'{"chat_id":' + str(chat_id).encode() + b"," + self.body_tail


class AlertCatalog:
    """Loads alerts and formats their message once per process (a small LRU, memory flat)."""

    def __init__(
        self, redis: Redis, keys: DeliveryKeys, articles: ArticleStore, config: DeliveryConfig
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._articles = articles
        self._paid = config.paid_broadcast
        self._cache: OrderedDict[str, AlertInfo] = OrderedDict()

    async def get(self, alert_id: str) -> AlertInfo | None:
        """The alert, or ``None`` when its record no longer exists."""
        cached = self._cache.get(alert_id)
        if cached is not None:
            self._cache.move_to_end(alert_id)
            return cached
        data = as_text_map(await self._redis.hgetall(self._keys.alert(alert_id)))
        if not data:
            return None
        priority = Priority(data.get("priority", Priority.BREAKING.value))
        audience = Audience(data.get("audience", Audience.BREAKING.value))
        body = await self._body(data.get("article_id"), priority)
        published = float(data.get("published_at") or 0.0)
        info = AlertInfo(alert_id, priority, audience, body, published)
        self._cache[alert_id] = info
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return info

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
