"""Newsroom ingestion: the authenticated HTTP API, feed polling, health checks and metrics."""
