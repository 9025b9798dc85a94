"""``python -m sandbox``: run the Telegram sandbox standalone and print where to point the bot."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from sandbox.flood import FloodConfig
from sandbox.server import SandboxServer

_DEMO_TOKEN = "123456789:sandbox-token-0123456789abcdefghijkl"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Local stand-in for the Telegram Bot API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--flood", action="store_true", help="enforce Telegram-like flood limits")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay every answer")
    parser.add_argument("--no-history", action="store_true", help="keep counters only (benchmarks)")
    parser.add_argument(
        "--no-answer-checks",
        action="store_true",
        help="skip validating the sandbox's own answers against the spec (benchmarks)",
    )
    parser.add_argument("--bot-username", default="newsbot_sandbox_bot")
    parser.add_argument(
        "--lenient-html", action="store_true", help="accept a bare '&' and odd links like Telegram"
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    server = SandboxServer(
        flood=FloodConfig() if args.flood else None,
        latency_ms=args.latency_ms,
        record_history=not args.no_history,
        bot_username=args.bot_username,
    )
    server.state.configure(
        strict_html=not args.lenient_html, check_answers=not args.no_answer_checks
    )
    try:
        base = await server.start(args.host, args.port)
    except OSError as exc:
        raise SystemExit(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    print(f"Chat page:        {base}/chat", flush=True)
    print(f"TELEGRAM_API_URL: {server.api_url}", flush=True)
    print(f"Any well-formed token works, e.g. TELEGRAM_BOT_TOKEN={_DEMO_TOKEN}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Stop cleanly on Ctrl-C and on `docker stop` / `kill` alike.
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
        print("Sandbox stopped.", flush=True)


def main() -> None:
    """Parse arguments and serve until interrupted."""
    args = _parser().parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
