"""Helpers for the living-story tests: the story desk over a test's store, final chat texts."""

from __future__ import annotations

from bot.delivery.status import AlertStatus
from bot.models import Article, Section
from bot.newsroom import StoryDesk
from bot.store import Store
from config import Settings
from sandbox.records import ChatMessage
from sandbox.server import SandboxServer
from tests.delivery_support import SECOND_PARAGRAPH, delivery_reader, services_over
from tests.waiting import wait_for


def desk_over(store: Store) -> StoryDesk:
    """The story desk (store + the engine's story publisher) over a test's store."""
    return services_over(store, Settings(_env_file=None)).stories


def version(title: str, lead: str = "فقرة أولى من الخبر للاختبار.") -> Article:
    """A new version of the test article (``stored_article``'s body, a new headline)."""
    paragraphs = [lead, SECOND_PARAGRAPH]
    return Article(title=title, breaking=True, sections=[Section(paragraphs=paragraphs)])


def alert_messages(server: SandboxServer, chat_id: int) -> list[ChatMessage]:
    """The bot's messages in a chat that are alerts (not replies), oldest first."""
    return [m for m in server.state.bot_messages(chat_id) if m.reply_to_message_id is None]


def final_texts(server: SandboxServer, chats: list[int]) -> dict[int, list[str]]:
    """Each chat's alert messages as they read now (visible text)."""
    return {c: [m.visible_text for m in alert_messages(server, c)] for c in chats}


async def wait_action(
    store: Store, alert_id: str, action_id: str, within: float = 30.0
) -> AlertStatus:
    """Wait until an alert's action is done; returns it."""

    async def probe() -> AlertStatus | None:
        status = await delivery_reader(store).alert_status(alert_id)
        found = (
            next((a for a in status.actions if a.alert_id == action_id), None) if status else None
        )
        return found if found is not None and found.state == "done" else None

    return await wait_for(probe, within=within, what=f"action {action_id} done")
