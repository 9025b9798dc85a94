"""The chat page in a real headless Chromium: chats, groups, speakers, safe HTML, buttons, replies.

Skipped where no Chromium is installed (Debian package ``chromium``). The browser is driven over
the DevTools protocol with aiohttp's websocket client, and may resolve no host but loopback, so
the page is shown to work without network.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import telegram
from telegram import ChatMember, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import SandboxServer
from tests.constants import SANDBOX_USER as USER

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.usefixtures("sandbox_user"),
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed"),
]

GROUP, OMAR = -100200, 1002
WAIT = 15.0


class Page:
    """One browser tab driven over the DevTools protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method and return its result (events in between are skipped)."""
        my_id = next(self._ids)
        await self.ws.send_json({"id": my_id, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=WAIT)
            if message.get("id") == my_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    async def eval(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression (promises are awaited)."""
        answer = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"].get("value")

    async def wait_for(self, expression: str, what: str) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while loop.time() < deadline:
            value = await self.eval(expression)
            if value not in (None, False, "", 0):  # a DOM element arrives as {}
                return value
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the page never showed {what}")


async def _devtools_port(profile: Path) -> int:
    for _ in range(400):
        port_file = profile / "DevToolsActivePort"
        if port_file.is_file() and port_file.read_text().strip():
            return int(port_file.read_text().split()[0])
        await asyncio.sleep(0.05)
    raise TimeoutError("Chromium did not open its DevTools port")


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    """A headless Chromium tab that can reach loopback addresses only."""
    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
        "--window-size=1200,900",
        "--remote-debugging-port=0",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        port = await _devtools_port(profile)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json") as resp:
                targets = await resp.json()
            target = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tab = Page(ws)
                yield tab
                # Leave the page first: its pending long poll would hold up the server's stop.
                await tab.send("Page.navigate", url="about:blank")
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _open(page: Page, url: str) -> None:
    await page.send("Page.navigate", url=url)
    await page.wait_for("document.readyState === 'complete'", "the loaded page")


async def _group_with_a_bot_message(ptb_bot: telegram.Bot, sandbox: SandboxServer) -> int:
    """A group where سارة said /start and the bot answered with rich HTML and two buttons."""
    state = sandbox.state
    state.add_user(OMAR, "عمر", "omar")
    state.add_chat(GROUP, "group", "غرفة الأخبار")
    state.user_sends(USER, "/start", chat_id=GROUP)
    await ptb_bot.set_my_commands([("start", "ابدأ"), ("latest", "آخر الأخبار")])
    state.configure(strict_html=False)  # let a javascript: link through, to see the page drop it
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("اقرأ الخبر كاملاً", callback_data="a:1")],
            [InlineKeyboardButton("الموقع", url="http://127.0.0.1:9/news")],
        ]
    )
    sent = await ptb_bot.send_message(
        GROUP,
        '<b>عاجل</b> <a href="javascript:alert(1)">فخ</a> <a href="https://example.org/a">مصدر</a> '
        "<tg-spoiler>سرّ</tg-spoiler> <code>x=1</code>\n<blockquote>اقتباس</blockquote>\n"
        + "ب"
        * 900,
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    # Confirm the /start so that the updates a test reads next are the ones the page caused.
    pending = await ptb_bot.get_updates()
    await ptb_bot.get_updates(offset=pending[-1].update_id + 1)
    return sent.message_id


async def test_the_page_lists_groups_and_renders_the_bot_safely(
    sandbox: SandboxServer, ptb_bot: telegram.Bot, page: Page
) -> None:
    await _group_with_a_bot_message(ptb_bot, sandbox)
    await _open(page, f"{sandbox.base_url}/#chat={GROUP}&as={OMAR}")
    await page.wait_for("document.querySelectorAll('#messages .msg').length === 2", "2 messages")
    seen = await page.eval(
        """(() => {
        const all = (sel) => [...document.querySelectorAll(sel)];
        const bubble = document.querySelector('.msg.bot');
        return {
          privateChats: all('#private-chats .name').map((n) => n.textContent),
          groups: all('#group-chats .name').map((n) => n.textContent),
          title: document.querySelector('#chat-title').textContent,
          speaker: document.querySelector('#speaker').value,
          chips: all('#commands button').map((b) => [b.dir, b.querySelector('bdi').textContent]),
          hrefs: all('#messages a[href]').map((a) => [a.getAttribute('href'), a.target, a.rel]),
          javascript: document.querySelector('#messages').innerHTML.includes('javascript:'),
          tags: ['b', 'code', 'blockquote', '.spoiler']
            .map((s) => bubble.querySelectorAll(s).length),
          dirs: all('.msg').map((m) => m.getAttribute('dir')),
          sender: document.querySelector('.msg.other .sender').textContent,
          fits: bubble.scrollWidth <= bubble.clientWidth + 1
                && bubble.getBoundingClientRect().width
                   < document.querySelector('#messages').clientWidth,
        };
      })()"""
    )
    assert seen["privateChats"] == ["سارة", "عمر"]
    assert seen["groups"] == ["غرفة الأخبار"]
    assert "غرفة الأخبار" in seen["title"] and seen["speaker"] == str(OMAR)
    assert seen["chips"] == [["ltr", "/start"], ["ltr", "/latest"]]
    assert seen["hrefs"] == [
        ["https://example.org/a", "_blank", "noopener noreferrer"],
        ["http://127.0.0.1:9/news", "_blank", "noopener noreferrer"],
    ]
    assert not seen["javascript"] and seen["tags"] == [1, 1, 1, 1]
    assert seen["dirs"] == ["auto", "auto"] and seen["sender"] == "سارة"
    assert seen["fits"]  # 900 letters without a space wrap inside the bubble


async def test_buttons_replies_and_blocking_from_the_page(
    sandbox: SandboxServer, ptb_bot: telegram.Bot, page: Page
) -> None:
    state = sandbox.state
    message_id = await _group_with_a_bot_message(ptb_bot, sandbox)
    await _open(page, f"{sandbox.base_url}/#chat={GROUP}&as={OMAR}")
    await page.wait_for("document.querySelector('.msg.bot .keyboard button')", "the keyboard")

    # A callback button: the press reaches the bot, its answer shows as a toast.
    await page.eval("document.querySelector('.msg.bot .keyboard button').click()")
    [press] = await ptb_bot.get_updates(timeout=5)
    assert press.callback_query is not None and press.callback_query.data == "a:1"
    assert press.callback_query.from_user.id == OMAR
    await ptb_bot.answer_callback_query(press.callback_query.id, text="تم الحفظ")
    toast = "document.querySelector('#toast.show') && document.querySelector('#toast').textContent"
    assert await page.wait_for(toast, "the answer toast") == "تم الحفظ"

    # عمر replies to the bot's message from the page.
    await page.eval(
        """(() => {
        [...document.querySelectorAll('.msg.bot .meta a')].find((a) => a.textContent === 'ردّ')
          .click();
        document.querySelector('#text').value = 'ما المصدر؟';
        document.querySelector('#send').click();
      })()"""
    )
    [reply] = await ptb_bot.get_updates(offset=press.update_id + 1, timeout=5)
    assert reply.message is not None and reply.message.text == "ما المصدر؟"
    assert reply.message.from_user is not None and reply.message.from_user.id == OMAR
    assert reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.message_id == message_id
    await page.wait_for("document.querySelector('.msg.user .quote')", "the quoted message")

    # The private chat: the bot's username stays "@name" in the RTL header; blocking tells it.
    await page.eval(f"location.hash = '#chat={USER}'")
    header = "document.querySelector('#chat-title bdi[dir=ltr]')"
    assert await page.wait_for(f"{header} && {header}.textContent", "the header") == (
        "@newsbot_sandbox_bot"
    )
    await page.eval("document.querySelector('#chat-actions input[type=checkbox]').click()")
    [blocked] = await ptb_bot.get_updates(offset=reply.update_id + 1, timeout=5)
    assert blocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == ChatMember.BANNED
    assert state.users[USER].blocked
    status = "document.querySelector('#status').textContent"
    assert "حظرتَ البوت" in await page.wait_for(
        f"{status}.includes('حظرتَ') && {status}", "the blocked status"
    )


async def test_removing_the_bot_from_the_page_marks_the_group(
    sandbox: SandboxServer, ptb_bot: telegram.Bot, page: Page
) -> None:
    await _group_with_a_bot_message(ptb_bot, sandbox)
    await _open(page, f"{sandbox.base_url}/#chat={GROUP}&as={OMAR}")
    await page.wait_for("document.querySelector('#chat-actions button')", "the group actions")
    await page.eval("document.querySelector('#chat-actions button').click()")
    [removed] = await ptb_bot.get_updates(timeout=5)
    change = removed.my_chat_member
    assert change is not None and change.chat.id == GROUP and change.from_user.id == OMAR
    assert change.new_chat_member.status == ChatMember.LEFT
    badge = await page.wait_for(
        "document.querySelector('#group-chats .badge')?.textContent", "the removed badge"
    )
    assert badge == "🚫"
    listed = json.loads(await page.eval("JSON.stringify(state.chats.map((c) => c.bot_status))"))
    assert listed[-1] == "left"
