"""REST endpoints for people, contact methods, notification rules and paging statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from vigil.auth import Principal, TokenCreate, TokenCreated, TokenRead
from vigil.oncall import people
from vigil.oncall.schemas import (
    ContactCreate,
    ContactRead,
    PersonCreate,
    PersonRead,
    PersonUpdate,
    RuleCreate,
    RuleRead,
)
from vigil.web import ReadSession, StoreDep, VigilRoute, requires

__all__ = ["Admin", "Reader", "Writer", "router"]

router = APIRouter(prefix="/api/v1", tags=["on-call"], route_class=VigilRoute)
Admin = Annotated[Principal, Depends(requires("admin"))]
Writer = Annotated[Principal, Depends(requires("write"))]
Reader = Annotated[Principal, Depends(requires("read"))]
Handle = Annotated[str, Field(max_length=50)]


class CodeIn(BaseModel):
    """The code a contact method received."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=12)


class SendResult(BaseModel):
    """What a destination answered."""

    label: str
    delivered: bool
    answer: str


class PersonStatsRead(BaseModel):
    """Paging statistics of one person."""

    person: str
    pages: int
    off_hours_pages: int
    incidents: int
    acknowledged: int
    median_ack_seconds: float | None


@router.get("/people", response_model=list[PersonRead])
def list_people(session: ReadSession, _who: Reader) -> list[PersonRead]:
    """Everybody, with contact methods (never their addresses) and rules."""
    return [PersonRead.build(session, p) for p in people.list_people(session=session)]


@router.post("/people", status_code=201, response_model=PersonRead)
def add_person(data: PersonCreate, store: StoreDep, _who: Writer) -> PersonRead:
    """Add a person."""
    with store.write() as session:
        return PersonRead.build(session, people.add_person(session=session, **data.model_dump()))


@router.get("/people/{handle}", response_model=PersonRead)
def get_person(handle: str, session: ReadSession, _who: Reader) -> PersonRead:
    """One person."""
    return PersonRead.build(session, people.get_person(session=session, handle=handle))


@router.patch("/people/{handle}", response_model=PersonRead)
def update_person(handle: str, data: PersonUpdate, store: StoreDep, _who: Writer) -> PersonRead:
    """Change a person's name, time zone, hours or test-page interval."""
    with store.write() as session:
        found = people.update_person(session=session, handle=handle, **data.model_dump())
        return PersonRead.build(session, found)


@router.delete("/people/{handle}", status_code=204)
def remove_person(handle: str, store: StoreDep, _who: Admin) -> None:
    """Remove a person and their contact methods."""
    with store.write() as session:
        people.remove_person(session=session, handle=handle)


@router.post("/people/{handle}/contacts", status_code=201, response_model=ContactRead)
def add_contact(handle: str, data: ContactCreate, store: StoreDep, _who: Admin) -> ContactRead:
    """Add a contact method (unverified); a webhook's signing secret is in this answer only."""
    with store.write() as session:
        made = people.add_contact(
            session=session, settings=store.settings, handle=handle, **data.model_dump()
        )
        return ContactRead(
            label=made.contact.label, kind=made.contact.kind, verified=False,
            signing_secret=made.signing_secret,
        )  # fmt: skip


@router.delete("/people/{handle}/contacts/{label}", status_code=204)
def remove_contact(handle: str, label: str, store: StoreDep, _who: Admin) -> None:
    """Remove a contact method and the rules that use it."""
    with store.write() as session:
        people.remove_contact(session=session, handle=handle, label=label)


@router.post("/people/{handle}/contacts/{label}/verify", response_model=SendResult)
async def verify_contact(handle: str, label: str, store: StoreDep, _who: Writer) -> SendResult:
    """Send a fresh verification code through the contact method."""
    from vigil.oncall.flows import send_verification

    answer = await run_in_threadpool(send_verification, store, handle, label)
    return SendResult(label=label, delivered=answer.ok, answer=answer.detail)


@router.post("/people/{handle}/contacts/{label}/confirm", response_model=ContactRead)
def confirm_contact(
    handle: str, label: str, data: CodeIn, store: StoreDep, _who: Writer
) -> ContactRead:
    """Confirm the code the contact method received; pages use it from now on."""
    with store.write() as session:
        found = people.confirm_contact(
            session=session, settings=store.settings, handle=handle, label=label, code=data.code
        )
        return ContactRead(label=found.label, kind=found.kind, verified=True)


@router.post("/people/{handle}/rules", status_code=201, response_model=RuleRead)
def add_rule(handle: str, data: RuleCreate, store: StoreDep, _who: Writer) -> RuleRead:
    """Add a notification rule."""
    with store.write() as session:
        rule = people.add_rule(session=session, handle=handle, **data.model_dump())
        return RuleRead(
            id=rule.id, urgency=rule.urgency, contact=data.contact,
            delay_minutes=rule.delay_seconds / 60, repeat_minutes=rule.repeat_seconds / 60,
        )  # fmt: skip


@router.delete("/people/{handle}/rules/{rule_id}", status_code=204)
def remove_rule(handle: str, rule_id: int, store: StoreDep, _who: Writer) -> None:
    """Remove a notification rule."""
    with store.write() as session:
        people.remove_rule(session=session, handle=handle, rule_id=rule_id)


@router.post("/people/{handle}/test-page", response_model=list[SendResult])
async def send_test_page_now(handle: str, store: StoreDep, _who: Writer) -> list[SendResult]:
    """Send a test page through each verified contact method now."""
    from vigil.oncall.flows import send_test_page

    sent = await run_in_threadpool(send_test_page, store, handle)
    return [SendResult(label=label, delivered=a.ok, answer=a.detail) for label, a in sent]


@router.post("/people/{handle}/tokens", status_code=201, response_model=TokenCreated)
def create_person_token(
    handle: str, data: TokenCreate, store: StoreDep, _who: Admin
) -> TokenCreated:
    """Create an API token that belongs to the person (the timeline names them); the secret
    is in this response only."""
    with store.write() as session:
        token, secret = people.create_person_token(
            session=session, handle=handle, name=data.name, scopes=data.scopes
        )
        return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=secret)


@router.get("/oncall/stats", response_model=list[PersonStatsRead])
def paging_stats(
    session: ReadSession,
    _who: Reader,
    window: Annotated[str, Query(max_length=16, description="e.g. 30d, 12w")] = "30d",
    person: Annotated[str | None, Query(max_length=50)] = None,
) -> list[PersonStatsRead]:
    """Per person: pages, off-hours pages, and time from page to acknowledgement."""
    from vigil.analytics import parse_window
    from vigil.db import utcnow
    from vigil.oncall.checks import paging_stats as stats

    end = utcnow()
    rows = stats(session=session, start=end - parse_window(window), end=end, person=person)
    return [
        PersonStatsRead(
            person=r.person, pages=r.pages, off_hours_pages=r.off_hours_pages,
            incidents=r.incidents, acknowledged=r.acknowledged,
            median_ack_seconds=r.median_ack_seconds,
        )
        for r in rows
    ]  # fmt: skip
