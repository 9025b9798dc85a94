"""Newsroom ingestion: the authenticated HTTP API and feed polling (import the modules)."""
