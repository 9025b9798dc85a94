"""Every Redis key of the delivery engine, under the deployment's namespace.

The engine owns these keys: nothing outside ``bot.delivery`` spells them (the store owns the
article and reader keys). Built like saq's ``namespace()`` and aiogram's ``KeyBuilder``: one
object, handed to every part of the engine that talks to Redis.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryKeys:
    """Builds the namespaced keys of alerts, queues, workers, counters and the rate limiter."""

    ns: str = "newsbot"

    # Alerts -------------------------------------------------------------------------------
    def alert(self, alert_id: str) -> str:
        """Hash: one alert's article, audience, counters and timestamps."""
        return f"{self.ns}:alert:{alert_id}"

    def alert_outcomes(self, alert_id: str) -> str:
        """Hash: chat id -> delivery outcome of one alert (written once per chat)."""
        return f"{self.ns}:alert:{alert_id}:outcomes"

    def alert_chats(self, alert_id: str) -> str:
        """List: the alert's chats as expanded, one comma-separated batch per element, in order.

        With the outcomes hash (chat -> ``<message id>/<revision>`` once sent) it is the
        message-id ledger corrections, retractions and updates page through.
        """
        return f"{self.ns}:alert:{alert_id}:chats"

    def alert_revisions(self, alert_id: str) -> str:
        """Hash: revision number -> the alert's message (JSON after ``chat_id``) at that revision.

        Revision 0 is the alert as published (formatted from the article by the workers); each
        correction or the retraction adds the next one.
        """
        return f"{self.ns}:alert:{alert_id}:revisions"

    def alert_actions(self, alert_id: str) -> str:
        """List: ids of the alert's story actions (edits and updates), in the order made."""
        return f"{self.ns}:alert:{alert_id}:actions"

    @staticmethod
    def edit_action(alert_id: str, revision: int) -> str:
        """The id of the action editing an alert's messages to ``revision``.

        Action ids contain a dot, which no article id does: they never collide with alerts.
        Their records use the alert keys (``alert(id)``, ``alert_outcomes(id)``, batches).
        """
        return f"{alert_id}.r{revision}"

    @staticmethod
    def update_action(alert_id: str, number: int) -> str:
        """The id of the action replying update ``number`` under an alert's messages."""
        return f"{alert_id}.u{number}"

    @property
    def alerts_by_time(self) -> str:
        """Sorted set of alert ids by publication time."""
        return f"{self.ns}:alerts:by_time"

    @property
    def counters(self) -> str:
        """Hash of the engine's monotonic counters (alerts published, messages by outcome...)."""
        return f"{self.ns}:delivery:counters"

    @property
    def token_rejected(self) -> str:
        """Set (with a TTL, renewed by each refusal) while Telegram rejects the bot token."""
        return f"{self.ns}:delivery:token_rejected"

    # Queues -------------------------------------------------------------------------------
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

    # Workers ------------------------------------------------------------------------------
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
