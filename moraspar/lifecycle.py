"""What needs, placements and skill gaps share: status changes, copies, expiry.

Each feature's services create and edit its own kind of posting; the life
cycle below is the same for all three and writes the audit trail.
"""

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from moraspar import audit
from moraspar.models import Need, Placement, PostingStatus, SkillGap, User, utcnow

Posting = Need | Placement | SkillGap

ENTITY: dict[type[Any], str] = {
    Need: "need",
    Placement: "placement",
    SkillGap: "skill_gap",
}

# Which status changes a user may make: closed is final (copy it instead).
TRANSITIONS: dict[str, set[str]] = {
    PostingStatus.OPEN: {PostingStatus.PAUSED, PostingStatus.CLOSED},
    PostingStatus.PAUSED: {PostingStatus.OPEN, PostingStatus.CLOSED},
    PostingStatus.CLOSED: set(),
}

# Fields a copy does not take over.
_NOT_COPIED = {"id", "status", "created_at", "updated_at", "closed_at", "places_booked"}


class InvalidTransition(Exception):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} -> {wanted}")
        self.current = current
        self.wanted = wanted


def entity_name(posting: Posting) -> str:
    return ENTITY[type(posting)]


def set_status(
    session: Session, *, posting: Posting, status: str, actor: User | None
) -> None:
    if status not in TRANSITIONS.get(posting.status, set()):
        raise InvalidTransition(posting.status, status)
    previous = posting.status
    posting.status = status
    posting.updated_at = utcnow()
    posting.closed_at = utcnow() if status == PostingStatus.CLOSED else None
    session.add(posting)
    audit.record(
        session,
        posting,
        actor=actor,
        action=f"{entity_name(posting)}.{status}",
        previous=previous,
    )
    session.flush()


def copy_posting(session: Session, *, posting: Posting, actor: User) -> Posting:
    """A new open posting with the same content, e.g. for next term's APL."""
    values = {
        name: getattr(posting, name)
        for name in type(posting).model_fields
        if name not in _NOT_COPIED
    }
    values["skills"] = list(posting.skills)
    values["created_by_id"] = actor.id
    copy = type(posting)(**values)
    session.add(copy)
    session.flush()
    audit.record(
        session,
        copy,
        actor=actor,
        action=f"{entity_name(posting)}.copy",
        source_id=posting.id,
    )
    return copy


def close_expired(session: Session, *, today: date) -> dict[str, int]:
    """Close open or paused needs and placements whose end date has passed."""
    closed: dict[str, int] = {}
    models: tuple[type[Need] | type[Placement], ...] = (Need, Placement)
    for model in models:
        query = (
            select(model)
            .where(col(model.status).in_([PostingStatus.OPEN, PostingStatus.PAUSED]))
            .where(col(model.end_date).is_not(None))
            .where(col(model.end_date) < today)
        )
        rows: list[Need | Placement] = list(session.exec(query).all())  # type: ignore[arg-type]
        for posting in rows:
            previous = posting.status
            posting.status = PostingStatus.CLOSED
            posting.closed_at = utcnow()
            posting.updated_at = utcnow()
            session.add(posting)
            audit.record(
                session,
                posting,
                actor=None,
                action=f"{ENTITY[model]}.expire",
                previous=previous,
            )
        closed[ENTITY[model]] = len(rows)
    session.flush()
    return closed
