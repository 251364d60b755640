"""Shift swaps: a person asks for cover, another accepts (a replace override is made), and
either of them can undo it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from vigil.oncall.models import Override, Schedule, SwapRequest
from vigil.oncall.schedules import add_override, check_people, get_schedule
from vigil.validation import as_instant

__all__ = ["accept_swap", "list_swaps", "request_swap", "undo_swap"]


def request_swap(
    *,
    session: Session,
    schedule: str,
    requester: str,
    start: dt.datetime,
    end: dt.datetime,
    note: str = "",
) -> SwapRequest:
    """``requester`` asks for someone to cover them on ``schedule`` in [start, end)."""
    target = get_schedule(session=session, name=schedule)
    (who,) = check_people(session, [requester], "requester")
    start, end = as_instant(start, field="start"), as_instant(end, field="end")
    if not start < end:
        raise ValidationError("end: after start", field="end")
    swap = SwapRequest(schedule_id=target.id, requester=who, start=start, end=end, note=note[:2000])
    session.add(swap)
    session.flush()
    return swap


def _get(session: Session, swap_id: int) -> SwapRequest:
    swap = session.get(SwapRequest, swap_id)
    if swap is None:
        raise NotFoundError(f"swap request {swap_id} does not exist", field="swap_id")
    return swap


def accept_swap(*, session: Session, swap_id: int, by: str) -> SwapRequest:
    """``by`` covers the request: a replace override puts them in the requester's place."""
    swap = _get(session, swap_id)
    (who,) = check_people(session, [by], "by")
    if swap.state != "open":
        raise ConflictError(f"swap request {swap_id} is {swap.state}, not open", field="swap_id")
    if who == swap.requester:
        raise ValidationError("by: someone other than the requester accepts", field="by")
    name = session.get_one(Schedule, swap.schedule_id).name
    override = add_override(
        session=session, schedule=name, kind="replace", start=swap.start, end=swap.end,
        person=who, replaces=swap.requester, note=f"swap request {swap.id}", actor=who,
    )  # fmt: skip
    swap.state, swap.accepted_by, swap.override_id = "accepted", who, override.id
    session.flush()
    return swap


def undo_swap(*, session: Session, swap_id: int, by: str) -> SwapRequest:
    """The requester or the one who accepted takes a swap back (an open one is withdrawn)."""
    swap = _get(session, swap_id)
    (who,) = check_people(session, [by], "by")
    if who not in (swap.requester, swap.accepted_by):
        raise PermissionDeniedError(
            f"only {swap.requester} or {swap.accepted_by or 'whoever accepts'} can undo swap {swap_id}"
        )
    if swap.state not in ("open", "accepted"):
        raise ConflictError(f"swap request {swap_id} is {swap.state} already", field="swap_id")
    if swap.override_id is not None:
        found = session.get(Override, swap.override_id)
        if found is not None:
            session.delete(found)
    swap.state = "undone" if swap.state == "accepted" else "withdrawn"
    session.flush()
    return swap


def list_swaps(
    *, session: Session, schedule: str | None = None, state: str | None = None
) -> Sequence[SwapRequest]:
    """Swap requests, newest first."""
    stmt = select(SwapRequest).order_by(SwapRequest.id.desc())
    if schedule:
        stmt = stmt.where(
            SwapRequest.schedule_id == get_schedule(session=session, name=schedule).id
        )
    if state:
        stmt = stmt.where(SwapRequest.state == state)
    return session.execute(stmt).scalars().all()
