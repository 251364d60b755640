"""Job leases: each due job runs once per period, whatever the number of processes.

A process claims a due job with one conditional ``UPDATE`` of its row (due, and no lease in
force) inside a write transaction: on SQLite the write lock serializes claimers, on
PostgreSQL the row lock does and the second claimer re-reads the row and finds it leased. The
claim holds until ``lease_until``; a runner that dies mid-run leaves it to expire, and the
next process to look after that takes the job over (at once, when the dead runner was a
process on the same host). Finishing moves ``next_due_at`` to the
next slot after now and records the run.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.db import owner_alive, utcnow
from vigil.jobs.models import JobState
from vigil.jobs.registry import Job

__all__ = ["claim_job", "ensure_jobs", "finish_job", "list_jobs"]


def ensure_jobs(*, session: Session, jobs: Sequence[Job], settings: Settings) -> None:
    """Create the rows of jobs never run here; keep periods in step with the settings."""
    known = {s.name: s for s in session.execute(select(JobState)).scalars()}
    now = utcnow()
    for job in jobs:
        period = float(job.every(settings))
        state = known.get(job.name)
        if state is None:
            session.execute(
                insert(JobState).values(
                    name=job.name, period_seconds=period, next_due_at=now, runs=0, failures=0
                )
            )
        elif state.period_seconds != period:
            session.execute(
                update(JobState).where(JobState.name == job.name).values(period_seconds=period)
            )
    session.flush()


def claim_job(
    *, session: Session, name: str, owner: str, lease_seconds: float, now: dt.datetime | None = None
) -> bool:
    """Take ``name`` if it is due and nobody holds it; True if this caller now does.

    A lease held by a process on this host that is gone (killed mid-run) is taken over at
    once rather than after the lease runs out."""
    now = now or utcnow()
    j = JobState
    values = {
        "owner": owner, "lease_until": now + dt.timedelta(seconds=lease_seconds),
        "last_started_at": now,
    }  # fmt: skip
    free = (j.lease_until.is_(None)) | (j.lease_until < now)
    claim = update(j).where(j.name == name, j.next_due_at <= now).values(values)
    result = session.execute(claim.where(free).execution_options(synchronize_session=False))
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return True
    held = session.execute(
        select(j.owner).where(j.name == name, j.next_due_at <= now, ~free)
    ).scalar_one_or_none()
    if held is None or held == owner or owner_alive(held):
        return False
    taken = session.execute(
        claim.where(j.owner == held).execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def finish_job(
    *,
    session: Session,
    name: str,
    owner: str,
    started: dt.datetime,
    ok: bool,
    summary: str,
) -> None:
    """Record a run of ``name`` by ``owner``, release it and schedule its next slot."""
    state = session.get(JobState, name, populate_existing=True)
    if state is None or state.owner != owner:
        return  # the lease expired and another process took the job over
    now = utcnow()
    period = state.period_seconds
    slots = math.floor((now - state.next_due_at).total_seconds() / period) + 1
    j = JobState
    session.execute(
        update(j)
        .where(j.name == name, j.owner == owner)
        .values(
            owner=None,
            lease_until=None,
            next_due_at=state.next_due_at + dt.timedelta(seconds=period * max(slots, 1)),
            last_finished_at=now,
            last_duration_seconds=(now - started).total_seconds(),
            last_result="ok" if ok else "failed",
            last_summary=summary[:500],
            last_runner=owner,
            runs=j.runs + 1,
            failures=j.failures + (0 if ok else 1),
        )
        .execution_options(synchronize_session=False)
    )


def list_jobs(*, session: Session) -> Sequence[JobState]:
    """Every job this database has seen, by name."""
    return session.execute(select(JobState).order_by(JobState.name)).scalars().all()
