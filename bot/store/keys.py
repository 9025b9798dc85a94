"""The store's Redis keys (articles, readers, counters, feeds), under one namespace."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Builds the namespaced keys of articles, readers, counters and feeds.

    Nothing outside ``bot.store`` spells these keys; the delivery engine owns its own
    (``bot.delivery.keys``).
    """

    ns: str = "newsbot"

    # Editors' changes waiting for confirmation -----------------------------------------------
    def pending_change(self, token: str) -> str:
        """Hash (``owner``, ``change``) of an editor's change awaiting «تأكيد» (expires)."""
        return f"{self.ns}:pending_change:{token}"

    # Articles -----------------------------------------------------------------------------
    def article(self, article_id: str) -> str:
        """JSON of one article."""
        return f"{self.ns}:article:{article_id}"

    def article_story(self, article_id: str) -> str:
        """JSON of what happened to an article since: version, updates, retraction."""
        return f"{self.ns}:article:{article_id}:story"

    def article_versions(self, article_id: str) -> str:
        """List of JSON: the versions corrections replaced, oldest first."""
        return f"{self.ns}:article:{article_id}:versions"

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
        """Hash of the store's counters (articles ingested, per source)."""
        return f"{self.ns}:stats"

    # Ingestion ----------------------------------------------------------------------------
    def feed_state(self, feed_url: str) -> str:
        """Hash: a feed's ETag, Last-Modified, error count, last poll."""
        return f"{self.ns}:feed:{feed_url}"

    def feed_seen(self, feed_url: str) -> str:
        """Sorted set: entry id (guid, link or title hash) taken from a feed -> last seen time."""
        return f"{self.ns}:feed:{feed_url}:seen"

    def feed_items(self, feed_url: str) -> str:
        """Hash: entry id -> "<article id> <digest of the entry as last taken>"."""
        return f"{self.ns}:feed:{feed_url}:items"

    @property
    def feeds_known(self) -> str:
        """Set of feed URLs that have been polled at least once."""
        return f"{self.ns}:feeds"
