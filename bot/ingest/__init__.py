"""Newsroom ingestion: the authenticated HTTP API, feed polling, health checks and metrics."""

from bot.ingest.feeds import FeedOptions, FeedPoller, PollOutcome, PollResult
from bot.ingest.health import ReadinessProbe
from bot.ingest.metrics import Metrics
from bot.ingest.server import api_server, build_api_app, serve_api
from bot.ingest.service import run_ingestion

__all__ = [
    "FeedOptions",
    "FeedPoller",
    "Metrics",
    "PollOutcome",
    "PollResult",
    "ReadinessProbe",
    "api_server",
    "build_api_app",
    "run_ingestion",
    "serve_api",
]
