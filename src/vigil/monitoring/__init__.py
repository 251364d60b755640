"""Monitoring Vigil itself: the Prometheus alerting rules it ships (``vigil prometheus rules``)."""

from __future__ import annotations

__all__: list[str] = []
