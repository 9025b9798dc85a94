"""``python -m bench.stub_api PORT [LATENCY_MS] [--limit N]``: a Bot API that answers, nothing else.

The sandbox validates every request against the Bot API spec and parses the HTML of every
message, which costs more CPU per request than the delivery engine spends sending it; to see
the engine's own ceiling the benchmarks can point it at this stub instead.  ``LATENCY_MS`` is
added to every request (a Bot API that far away).  With ``--limit N`` the stub counts the
messages beyond N in any sliding second (Telegram would have answered them 429) without
refusing them, so a raw client can be measured on the same stub.  It also counts messages per
chat (duplicates), edits (``editMessageText``) per chat and their first and last arrival, and
can tell when the first message after a given time arrived (crash mode).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import json
import time

from aiohttp import web

_BOT = {"id": 123456789, "is_bot": True, "first_name": "bench", "username": "bench_bot"}


class Tally:
    """What the stub saw: messages, distinct chats, arrival times, messages over the limit."""

    def __init__(self, limit: int | None) -> None:
        self.sent = 0
        self.per_chat: collections.Counter[int] = collections.Counter()
        self.times: list[float] = []
        self.over_limit = 0
        self.peak_second = 0
        self.edits_per_chat: collections.Counter[int] = collections.Counter()
        self.edit_times: list[float] = []
        self._limit = limit
        self._window: collections.deque[float] = collections.deque()

    def message(self, chat_id: int, method: str = "sendMessage") -> None:
        """Count one request (a sendMessage, or an edit) that arrived now."""
        now = time.time()
        self.sent += 1
        self.times.append(now)
        if method == "editMessageText":
            self.edits_per_chat[chat_id] += 1
            self.edit_times.append(now)
        else:
            self.per_chat[chat_id] += 1
        if self._limit is not None:
            window = self._window
            window.append(now)
            while window[0] <= now - 1.0:
                window.popleft()
            self.peak_second = max(self.peak_second, len(window))
            if len(window) > self._limit:
                self.over_limit += 1

    def stats(self) -> dict[str, object]:
        """Counts as JSON."""
        return {
            "sent_ok": self.sent,
            "distinct_chats": len(self.per_chat),
            "duplicates": self.sent - len(self.edit_times) - len(self.per_chat),
            "over_limit": self.over_limit,
            "peak_second": self.peak_second,
            "errors_429": 0,
            "last_at": self.times[-1] if self.times else None,
            "edits": len(self.edit_times),
            "edited_chats": len(self.edits_per_chat),
            "edit_duplicates": len(self.edit_times) - len(self.edits_per_chat),
            "first_edit_at": self.edit_times[0] if self.edit_times else None,
            "last_edit_at": self.edit_times[-1] if self.edit_times else None,
        }

    def first_after(self, moment: float) -> float | None:
        """Arrival time of the first message after ``moment`` (epoch seconds)."""
        index = bisect.bisect_right(self.times, moment)
        return self.times[index] if index < len(self.times) else None


def build_app(latency_ms: float, limit: int | None = None) -> web.Application:
    """An app answering getMe and sendMessage (with a minimal valid Message)."""
    tallies = [Tally(limit)]  # one per run: reset replaces it

    async def method(request: web.Request) -> web.Response:
        body = await request.read()
        name = request.match_info["method"]
        chat_id = 0
        if name != "getMe":
            # Counted on arrival, as Telegram counts its limits (the answer comes later).
            chat_id = int(json.loads(body or b"{}").get("chat_id", 0)) if body[:1] == b"{" else 0
            tallies[0].message(chat_id, name)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if name == "getMe":
            result: object = _BOT
        else:
            result = {
                "message_id": tallies[0].sent,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "x"},
                "text": "",
            }
        return web.json_response({"ok": True, "result": result})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(tallies[0].stats())

    async def reset(request: web.Request) -> web.Response:
        tallies[0] = Tally(limit)
        return web.json_response({"ok": True})

    async def first_after(request: web.Request) -> web.Response:
        return web.json_response({"at": tallies[0].first_after(float(request.query["t"]))})

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", method)
    app.router.add_get("/sandbox/stats", stats)
    app.router.add_get("/sandbox/first_after", first_after)
    app.router.add_post("/sandbox/reset", reset)
    return app


def main() -> None:
    """Serve on the given port until killed."""
    parser = argparse.ArgumentParser(prog="python -m bench.stub_api")
    parser.add_argument("port", type=int)
    parser.add_argument("latency_ms", type=float, nargs="?", default=0.0)
    parser.add_argument("--limit", type=int, default=None, help="count messages over N/s")
    args = parser.parse_args()
    asyncio.run(_serve(build_app(args.latency_ms, args.limit), args.port))


async def _serve(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    # Only once it listens: the benchmark starts calling as soon as it reads this line.
    print(f"TELEGRAM_API_URL: http://127.0.0.1:{port}/bot", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    main()
