"""One row per periodic job: its lease and what its last run did."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db import Base, UTCDateTime

__all__ = ["JobState"]


class JobState(Base):
    """A periodic job: when it is next due, who holds it, how its last run went."""

    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    period_seconds: Mapped[float] = mapped_column(Float)
    next_due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The process running it now (host:pid) and until when its claim holds.
    owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_duration_seconds: Mapped[float | None] = mapped_column(Float)
    last_result: Mapped[str | None] = mapped_column(String(16))  # ok, failed
    last_summary: Mapped[str | None] = mapped_column(Text)
    last_runner: Mapped[str | None] = mapped_column(String(200))
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
