"""Every Redis key newsbot uses, in one place, under one namespace."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Builds namespaced Redis keys; nothing outside ``bot.store`` spells a key."""

    ns: str = "newsbot"

    # Articles -----------------------------------------------------------------------------
    def article(self, article_id: str) -> str:
        """JSON of one article."""
        return f"{self.ns}:article:{article_id}"

    @property
    def articles_by_time(self) -> str:
        """Sorted set: article id scored by publication (or ingestion) time."""
        return f"{self.ns}:articles:by_time"

    @property
    def articles_by_url(self) -> str:
        """Hash: source URL -> article id (idempotent re-ingestion)."""
        return f"{self.ns}:articles:by_url"

    @property
    def articles_by_content(self) -> str:
        """Hash: content fingerprint -> article id (idempotent re-ingestion)."""
        return f"{self.ns}:articles:by_content"

    @property
    def articles_alert_wanted(self) -> str:
        """Set of ids of articles first ingested with an alert wanted."""
        return f"{self.ns}:articles:alert_wanted"

    def search_token(self, token: str) -> str:
        """Set of article ids whose text contains a normalised token."""
        return f"{self.ns}:search:{token}"

    def search_scratch(self, nonce: str, part: int) -> str:
        """Temporary set or sorted set of one search in progress (deleted in the same step)."""
        return f"{self.ns}:search_scratch:{nonce}:{part}"

    def article_tokens(self, article_id: str) -> str:
        """Set of the search tokens of one article (to unindex it on delete)."""
        return f"{self.ns}:article_tokens:{article_id}"

    # Subscribers --------------------------------------------------------------------------
    def subscriber(self, chat_id: int) -> str:
        """Hash: one subscriber's kind, preference, active flag and dates."""
        return f"{self.ns}:sub:{chat_id}"

    @property
    def subscribers_active(self) -> str:
        """Sorted set of active chat ids (score = chat id, so paging by id can resume)."""
        return f"{self.ns}:subs:active"

    @property
    def subscribers_all_news(self) -> str:
        """Sorted set of active chat ids that want every article, not only breaking ones."""
        return f"{self.ns}:subs:all_news"

    @property
    def subscribers_inactive(self) -> str:
        """Counter hash: why subscribers became inactive (blocked, deactivated, ...)."""
        return f"{self.ns}:subs:inactive_reasons"

    # Counters -----------------------------------------------------------------------------
    @property
    def stats(self) -> str:
        """Hash of global counters (articles ingested, alerts published, messages sent...)."""
        return f"{self.ns}:stats"

    # Delivery -----------------------------------------------------------------------------
    def alert(self, alert_id: str) -> str:
        """Hash: one alert's article, audience, counters and timestamps."""
        return f"{self.ns}:alert:{alert_id}"

    def alert_outcomes(self, alert_id: str) -> str:
        """Hash: chat id -> delivery outcome of one alert (written once per chat)."""
        return f"{self.ns}:alert:{alert_id}:outcomes"

    @property
    def alerts_by_time(self) -> str:
        """Sorted set of alert ids by publication time."""
        return f"{self.ns}:alerts:by_time"

    def jobs_stream(self, priority: str) -> str:
        """Stream of alert jobs waiting to be expanded over the subscribers."""
        return f"{self.ns}:q:jobs:{priority}"

    def batches_stream(self, priority: str) -> str:
        """The shared batch stream of a priority: no longer written, drained after upgrades."""
        return f"{self.ns}:q:batches:{priority}"

    def alert_batches(self, priority: str, alert_id: str) -> str:
        """Stream of one alert's batches (alert id + chat ids) waiting to be sent."""
        return f"{self.ns}:q:batches:{priority}:{alert_id}"

    def active_alerts(self, priority: str) -> str:
        """Sorted set: alerts of a priority whose batch stream is being sent, by start time."""
        return f"{self.ns}:q:active:{priority}"

    @property
    def consumer_group(self) -> str:
        """The consumer group every delivery worker joins."""
        return "workers"

    def worker_heartbeat(self, worker_id: str) -> str:
        """Key with a TTL that exists while a worker is alive."""
        return f"{self.ns}:worker:{worker_id}"

    @property
    def workers(self) -> str:
        """Sorted set: worker id -> last heartbeat time."""
        return f"{self.ns}:workers"

    # Rate limiting ------------------------------------------------------------------------
    @property
    def rate_global(self) -> str:
        """The global sending schedule (theoretical arrival time) of the bot token."""
        return f"{self.ns}:rl:global"

    def rate_chat(self, chat_id: int) -> str:
        """The next time a message may go to one chat."""
        return f"{self.ns}:rl:chat:{chat_id}"

    # Ingestion ----------------------------------------------------------------------------
    def feed_state(self, feed_url: str) -> str:
        """Hash: a feed's ETag, Last-Modified, error count, last poll."""
        return f"{self.ns}:feed:{feed_url}"

    def feed_seen(self, feed_url: str) -> str:
        """Sorted set: entry id (guid, link or title hash) taken from a feed -> last seen time."""
        return f"{self.ns}:feed:{feed_url}:seen"

    @property
    def feeds_known(self) -> str:
        """Set of feed URLs that have been polled at least once."""
        return f"{self.ns}:feeds"
