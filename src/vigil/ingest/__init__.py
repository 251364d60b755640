"""Ingestion: events, resource state history, heartbeats, receivers, maintenance windows."""
