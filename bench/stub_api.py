"""``python -m bench.stub_api PORT [LATENCY_MS]``: a Bot API that answers instantly, nothing else.

The sandbox validates every request against the Bot API spec and parses the HTML of every
message, which costs more CPU per request than the delivery engine spends sending it; to see
the engine's own ceiling the throughput benchmark can point it at this stub instead.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from aiohttp import web

_BOT = {"id": 123456789, "is_bot": True, "first_name": "bench", "username": "bench_bot"}


def build_app(latency_ms: float) -> web.Application:
    """An app answering getMe and sendMessage (with a minimal valid Message)."""
    counts = {"sendMessage": 0}

    async def method(request: web.Request) -> web.Response:
        body = await request.read()
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        name = request.match_info["method"]
        if name == "getMe":
            result: object = _BOT
        else:
            counts["sendMessage"] += 1
            chat_id = int(json.loads(body or b"{}").get("chat_id", 0)) if body[:1] == b"{" else 0
            result = {
                "message_id": counts["sendMessage"],
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "x"},
                "text": "",
            }
        return web.json_response({"ok": True, "result": result})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"sent_ok": counts["sendMessage"], "errors_429": 0})

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", method)
    app.router.add_get("/sandbox/stats", stats)
    return app


def main() -> None:
    """Serve on the given port until killed."""
    port = int(sys.argv[1])
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    print(f"TELEGRAM_API_URL: http://127.0.0.1:{port}/bot", flush=True)
    web.run_app(build_app(latency), host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
