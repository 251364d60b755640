"""Acting from a notification: what a signed link offers, and doing it exactly once.

A link's token is a :class:`~vigil.crypto.SecretBox` claim naming the action, the incident,
the channel and the notification. Reading it (the confirmation page) changes nothing.
Doing it records the link's id in ``used_action_links`` in the same transaction as the
change, so a second use, a replay or a race between two clicks changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.crypto import LinkError, SecretBox
from vigil.errors import ValidationError
from vigil.incidents import Incident
from vigil.incidents import service as incidents
from vigil.notify.messages import ACTIONS
from vigil.notify.models import UsedActionLink

__all__ = ["LinkOffer", "follow_link", "read_link"]


@dataclass(frozen=True, slots=True)
class LinkOffer:
    """What a valid, unused link offers to do."""

    link_id: str
    action: str
    label: str
    incident: Incident
    channel: str
    person: str | None = None


def read_link(*, session: Session, settings: Settings, token: str) -> LinkOffer:
    """The offer in ``token``; LinkError if altered, expired, used or about nothing."""
    claim = SecretBox(settings).read_claim(token, max_age=settings.notify_link_hours * 3600)
    action, link_id = claim.get("a"), claim.get("l")
    if action not in ACTIONS or not isinstance(link_id, str) or not isinstance(claim.get("i"), int):
        raise LinkError("this link is not valid", field="token")
    if session.get(UsedActionLink, link_id) is not None:
        raise LinkError("this link has been used already; each link works once", field="token")
    incident = session.execute(
        select(Incident).where(Incident.id == claim["i"])
    ).scalar_one_or_none()
    if incident is None:
        raise LinkError("the incident this link is about no longer exists", field="token")
    person = claim.get("p")
    return LinkOffer(
        link_id,
        str(action),
        ACTIONS[str(action)],
        incident,
        str(claim.get("c", "")),
        person if isinstance(person, str) else None,
    )


def follow_link(*, session: Session, settings: Settings, token: str, text: str = "") -> LinkOffer:
    """Do what ``token`` offers, once; the timeline names the channel it came through."""
    offer = read_link(session=session, settings=settings, token=token)
    try:  # two clicks at once: the second insert fails, its transaction is rolled back
        session.execute(
            insert(UsedActionLink).values(link_id=offer.link_id, incident_id=offer.incident.id)
        )
        session.flush()
    except IntegrityError:
        raise LinkError(
            "this link has been used already; each link works once", field="token"
        ) from None
    # A page's link names the person paged; a channel's link names the channel.
    actor = offer.person or f"link via channel {offer.channel}"
    ref = offer.incident.human_id
    if offer.action == "note":
        if not text.strip():
            raise ValidationError("text: write the note to add", field="text")
        incidents.add_note(session=session, ref=ref, text=text[:10_000], actor=actor)
    else:
        target = "acknowledged" if offer.action == "acknowledge" else "resolved"
        incidents.transition_incident(
            session=session,
            ref=ref,
            target=target,
            actor=actor,
            note=text.strip()[:10_000] or None,
        )
    return offer
