"""Living stories: the message-id ledger's memory, and a correction's fan-out.

Two parts, one run, each with its baseline measured in the same run:

* **ledger** (instant stub, rate 100,000: the engine's ceiling) — one breaking alert to
  ``--ledger-chats`` chats (100,000), then the Redis bytes of what the engine keeps for that
  alert so that corrections can find each chat's message: its outcomes hash (chat →
  ``<message id>/<revision>``) and its chats list (the order corrections page through), by
  ``MEMORY USAGE … SAMPLES 0`` (every element counted) of the keys ``DeliveryKeys`` names.
  Baselines: the same outcomes hash as the engine kept before living stories (chat →
  ``sent``), and a plain Redis hash chat → message id, both built directly from the ledger's
  chats and message ids.
* **fan-out** (stub with ``--latency-ms`` added per request, 50 ms; messages counted on arrival,
  and those beyond ``--rate`` in any sliding second, which Telegram would have answered 429) —
  one alert to ``--subscribers`` (10,000) readers at ``--rate`` (``NEWSBOT_RATE_LIMIT``, 1,000
  with paid broadcast), then a correction through the story desk (the path of the API, the CLI
  and the editors' commands): time from the correction to every alert edited, edits/s against
  the rate, edits per chat. Baseline: the alert's own fan-out to the same readers.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.harness import (
    TOKEN,
    alert_status,
    bench_article,
    poll,
    print_table,
    sandbox_process,
    seed,
)
from bot.delivery.codec import as_text
from bot.delivery.config import DeliveryConfig
from bot.delivery.keys import DeliveryKeys
from bot.delivery.publisher import DeliveryPublisher
from bot.delivery.service import DeliveryService
from bot.delivery.status import AlertStatus
from bot.models import Article
from bot.newsroom import StoryDesk
from bot.store import Store

#: The ceiling rate of the ledger part (no pacing: only memory is measured there).
LEDGER_RATE = 100_000.0
CORRECTED_TITLE = "عاجل: زلزال بقوة 5.8 درجات يضرب جنوب البلاد ولا أنباء عن إصابات"


async def stories_mode(args: argparse.Namespace, store: Store) -> None:
    """The ledger part (unless ``--ledger-chats 0``), then (Redis emptied) the fan-out part."""
    if args.ledger_chats > 0:
        await ledger_part(args, store)
        await store.redis.flushdb()
    await fanout_part(args, store)


@dataclass
class Run:
    """One alert delivered (and maybe corrected): statuses, wall and CPU seconds."""

    alert: AlertStatus
    alert_cpu: float
    correction: AlertStatus | None = None
    #: From the correction call to every chat having its edit outcome.
    correction_took: float = float("nan")
    correction_cpu: float = float("nan")
    #: What ``between`` returned (the stub's counts after the alert, before the correction).
    between: object = None


async def _deliver(
    store: Store,
    config: DeliveryConfig,
    article: Article,
    *,
    correct_to: Article | None = None,
    between: Callable[[], Awaitable[object]] | None = None,
) -> Run:
    """Publish ``article`` and deliver it; then, with ``correct_to``, correct it (``between``
    is awaited after the alert, before the correction)."""
    keys = DeliveryKeys(store.keys.ns)
    saved = (await store.articles.save(article)).article
    assert saved.id is not None
    service = DeliveryService(store.redis, keys, store, config)
    desk = StoryDesk(store, service.stories, max_bytes=1 << 20)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await asyncio.sleep(0.5)  # the worker is up and idle, like a running bot
        cpu0 = time.process_time()
        alert_id = await DeliveryPublisher(store.redis, keys).publish(saved)
        assert alert_id is not None
        await poll(lambda: _done(store, alert_id), every=0.05, within=3600, what="the alert")
        alert_cpu = time.process_time() - cpu0
        status = await alert_status(store, alert_id)
        assert status is not None
        run = Run(status, alert_cpu)
        if correct_to is not None:
            await asyncio.sleep(1.1)  # past every chat's own spacing, as a later correction is
            run.between = await between() if between is not None else None
            started, cpu0 = time.monotonic(), time.process_time()
            result = await desk.correct(alert_id, correct_to, by="bench")
            action_id = result.action_id
            assert action_id is not None, "the correction queued no edits"
            await poll(lambda: _done(store, action_id), every=0.05, within=3600, what="the edits")
            run.correction_took = time.monotonic() - started
            run.correction_cpu = time.process_time() - cpu0
            run.correction = await alert_status(store, action_id)
    finally:
        stop.set()
        await task
    return run


async def _done(store: Store, unit_id: str) -> bool:
    status = await alert_status(store, unit_id)
    return status is not None and status.state == "done"


async def ledger_part(args: argparse.Namespace, store: Store) -> None:
    """Bytes per chat of the message-id ledger of one alert, next to its baselines."""
    chats = args.ledger_chats
    keys = DeliveryKeys(store.keys.ns)
    async with sandbox_process(latency_ms=0.0, flood=False, stub=True) as box:
        await seed(store, chats)
        config = DeliveryConfig(api_url=box.api_url, token=TOKEN, rate=LEDGER_RATE)
        status = (await _deliver(store, config, bench_article())).alert
    alert_id = status.alert_id
    outcomes, chats_list = keys.alert_outcomes(alert_id), keys.alert_chats(alert_id)
    redis = store.redis
    ledger = await _usage(store, outcomes)
    order = await _usage(store, chats_list)
    values: dict[str, str] = {}
    async for chat, value in redis.hscan_iter(outcomes, count=1000):
        values[as_text(chat)] = as_text(value)
    message_ids = {chat: value.split("/", 1)[0] for chat, value in values.items()}
    sample = next(iter(values.values()), "")
    # Baselines: bench keys of their own (deleted after), built from the same chats.
    before = f"{store.keys.ns}:bench:outcomes-before-stories"
    plain = f"{store.keys.ns}:bench:chat-to-message-id"
    await _fill(store, before, dict.fromkeys(values, "sent"))
    await _fill(store, plain, message_ids)
    before_bytes, plain_bytes = await _usage(store, before), await _usage(store, plain)
    encoding = as_text(await redis.object("encoding", outcomes))
    await redis.delete(before, plain)
    n = max(len(values), 1)
    engine_total = ledger + order
    rows = [
        ("chats (one breaking alert, instant stub)", f"{chats:,}; {status.sent:,} sent"),
        ("ledger value per chat (sample)", f"`{sample}` (message id / revision shown)"),
        (
            "outcomes hash with message ids (`alert_outcomes`)",
            f"{ledger / n:.1f} B per chat, {_mb(ledger)} ({encoding})",
        ),
        ("chats list (`alert_chats`)", f"{order / n:.1f} B per chat, {_mb(order)}"),
        (
            "**ledger total (the engine's keys)**",
            f"**{engine_total / n:.1f} B per chat, {_mb(engine_total)}**",
        ),
        (
            "baseline: outcomes hash before living stories (chat → `sent`)",
            f"{before_bytes / n:.1f} B per chat, {_mb(before_bytes)}",
        ),
        (
            "baseline: plain hash chat → message id, built directly",
            f"{plain_bytes / n:.1f} B per chat, {_mb(plain_bytes)}",
        ),
        (
            "added by living stories (ledger total − outcomes before)",
            f"{(engine_total - before_bytes) / n:.1f} B per chat",
        ),
    ]
    print("\n**Message-id ledger**")
    print_table(rows)


async def fanout_part(args: argparse.Namespace, store: Store) -> None:
    """A correction's fan-out to every reader of an alert, next to the alert's own."""
    rate = args.rate
    limit = int(rate)
    async with sandbox_process(
        latency_ms=args.latency_ms, flood=False, stub=True, limit=limit
    ) as box:
        await seed(store, args.subscribers)
        config = DeliveryConfig(
            api_url=box.api_url, token=TOKEN, rate=rate, paid_broadcast=rate > 30
        )
        if args.in_flight is not None:
            config = config.with_overrides(max_in_flight=args.in_flight)
        article = bench_article()
        corrected = article.model_copy(update={"title": CORRECTED_TITLE})
        run = await _deliver(
            store,
            config,
            article,
            correct_to=corrected,
            between=lambda: box.control("GET", "stats"),
        )
        stats = await box.control("GET", "stats")
    alert, correction, took = run.alert, run.correction, run.correction_took
    after_alert = run.between
    assert correction is not None and isinstance(stats, dict) and isinstance(after_alert, dict)
    over_alert = int(after_alert["over_limit"])
    over_edits = int(stats["over_limit"]) - over_alert
    alert_rate = _rate(alert.sent, alert)
    edit_rate = _rate(correction.edited, correction)
    stub_span = float(stats["last_edit_at"] or 0) - float(stats["first_edit_at"] or 0)
    stub_rate = (int(stats["edits"]) - 1) / stub_span if stub_span > 0 else float("nan")
    paid = ", paid broadcast" if config.paid_broadcast else ""
    rows = [
        ("readers", f"{args.subscribers:,}"),
        ("rate limit (`NEWSBOT_RATE_LIMIT`)", f"{rate:g} msg/s{paid}"),
        ("Bot API", f"stub, {args.latency_ms:g} ms added per request, separate process"),
        (
            "baseline: the alert, publish → last delivery",
            f"{alert.last_delivery_latency or float('nan'):.2f} s"
            f" ({alert.sent:,} sent, {alert_rate:,.0f} msg/s, {alert_rate / rate:.1%} of the rate)",
        ),
        ("**the correction, call → every alert edited**", f"**{took:.2f} s**"),
        (
            "correction queued → first / last edit",
            f"{correction.first_delivery_latency or 0:.2f} s"
            f" / {correction.last_delivery_latency or 0:.2f} s",
        ),
        (
            "edits per second (engine; stub's arrivals)",
            f"{edit_rate:,.0f} ({edit_rate / rate:.1%} of the rate); {stub_rate:,.0f}",
        ),
        (
            "engine CPU per 1,000: alert messages / edits",
            f"{run.alert_cpu / max(alert.sent, 1) * 1000:.3f} s"
            f" / {run.correction_cpu / max(correction.edited, 1) * 1000:.3f} s",
        ),
        (
            "edit outcomes",
            f"{correction.edited:,} edited, {correction.unchanged} already current,"
            f" {correction.gone} gone, {correction.unsent} not reached,"
            f" {correction.failed + correction.bad_request} failed",
        ),
        (
            "edits per chat at the stub",
            f"{stats['edits']:,} to {stats['edited_chats']:,} chats,"
            f" {stats['edit_duplicates']} duplicates",
        ),
        (
            f"requests beyond {limit:,} in a sliding second (would be 429): alert / correction",
            f"{over_alert} / {over_edits} (peak second of the run: {stats['peak_second']})",
        ),
    ]
    print("\n**Correction fan-out**")
    print_table(rows)


def _rate(count: int, status: AlertStatus) -> float:
    first, last = status.first_delivery_at, status.last_delivery_at
    span = (last - first).total_seconds() if first and last else 0.0
    return (count - 1) / span if span > 0 and count > 1 else float("nan")


async def _usage(store: Store, key: str) -> int:
    # SAMPLES 0: every element counted (the default samples 5 and extrapolates).
    return int(await store.redis.memory_usage(key, samples=0) or 0)


async def _fill(store: Store, key: str, mapping: dict[str, str]) -> None:
    items = list(mapping.items())
    for start in range(0, len(items), 1000):
        await store.redis.hset(key, mapping=dict(items[start : start + 1000]))


def _mb(value: int) -> str:
    return f"{value / 1_048_576:.2f} MB"
