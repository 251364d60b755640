"""Shapes of analytics results."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from vigil.incidents import IncidentRead

__all__ = ["IncidentSummary", "Recurrence"]


class IncidentSummary(BaseModel):
    """Counts of incidents in a window (the logger's summary)."""

    start: dt.datetime | None
    end: dt.datetime | None
    project_id: str | None
    total: int
    by_category: dict[str, int]
    by_severity: dict[str, int]
    recent_high: list[IncidentRead] = Field(description="Newest critical/high incidents.")


class Recurrence(BaseModel):
    """How often a category recurs and whether that is changing."""

    category: str
    days: int
    project_id: str | None
    start: dt.datetime
    end: dt.datetime
    total_incidents: int
    recurrence_rate: float = Field(description="Incidents per day over the window.")
    trend: str = Field(description="increasing, decreasing or stable (Mann-Kendall, α=0.05).")
    bucket_days: float
    buckets: list[int]
    mann_kendall_s: int
    z_score: float
    p_value: float
    sen_slope_per_day: float
