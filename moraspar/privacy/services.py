"""GDPR operations: export a user's data, anonymise a user, purge old contacts."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, or_, select

from moraspar import audit
from moraspar.auth.services import new_session_token
from moraspar.models import (
    AuditEvent,
    MatchProposal,
    Need,
    Notification,
    Organisation,
    Placement,
    PostingStatus,
    Role,
    SkillGap,
    User,
    utcnow,
)

ANONYMOUS_NAME = "Borttagen användare"  # shown as is in both languages
_PROPOSAL_FINAL = ("declined", "withdrawn", "booked")


class LastAdmin(Exception):
    """Without an active administrator nobody could invite or approve anyone."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(model: Any, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        name: _plain(getattr(model, name))
        for name in type(model).model_fields
        if name not in leave_out
    }


def export_user_data(session: Session, *, user: User) -> dict[str, Any]:
    """Everything Moraspår stores about the user, as JSON-ready data.

    Secrets (password hash, session token, TOTP secret) are left out: they are
    not information about the person, and handing them out would weaken them.
    """
    organisation = (
        session.get(Organisation, user.organisation_id)
        if user.organisation_id
        else None
    )
    created: dict[str, Any] = {
        "needs": Need,
        "placements": Placement,
        "skill_gaps": SkillGap,
    }
    data: dict[str, Any] = {
        "exported_at": utcnow().isoformat(),
        "user": _row(user, leave_out=("password_hash", "session_token", "totp_secret")),
        "organisation": _row(organisation) if organisation else None,
        "notifications": [
            _row(n)
            for n in session.exec(
                select(Notification)
                .where(Notification.user_id == user.id)
                .order_by(col(Notification.id))
            ).all()
        ],
        "audit_events": [
            _row(e)
            for e in session.exec(
                select(AuditEvent)
                .where(AuditEvent.actor_id == user.id)
                .order_by(col(AuditEvent.id))
            ).all()
        ],
        "decisions": [
            _row(p, leave_out=("parts", "reasons"))
            for p in session.exec(
                select(MatchProposal)
                .where(MatchProposal.decided_by_id == user.id)
                .order_by(col(MatchProposal.id))
            ).all()
        ],
    }
    for key, model in created.items():
        data[key] = [
            _row(p, leave_out=("search_text",))
            for p in _created_by(session, model, user)
        ]
    return data


def _created_by(session: Session, model: Any, user: User) -> list[Any]:
    query = select(model).where(model.created_by_id == user.id).order_by(model.id)
    return list(session.exec(query).all())


def anonymise_user(session: Session, *, user: User, actor: User) -> None:
    """Remove the person, keep the records: decisions and postings stay, with
    no name or address pointing back to them."""
    if user.role == Role.ADMIN and _is_last_admin(session, user):
        raise LastAdmin()
    user.email = f"deleted-{user.id}@invalid.example"
    user.display_name = ANONYMOUS_NAME
    user.password_hash = None
    user.totp_secret = None
    user.active = False
    user.session_token = new_session_token()
    user.anonymised_at = utcnow()
    session.add(user)
    for notification in session.exec(
        select(Notification).where(Notification.user_id == user.id)
    ).all():
        session.delete(notification)
    audit.record(
        session,
        user,
        actor=actor,
        action="user.anonymise",
    )
    session.flush()


def _is_last_admin(session: Session, user: User) -> bool:
    others = session.exec(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN)
        .where(User.active == True)  # noqa: E712
        .where(User.id != user.id)
    ).one()
    return others == 0


def purge(session: Session, *, months: int, today: date) -> dict[str, int]:
    """Blank contact details on postings and proposal comments closed before
    the retention limit (months × 30 days before today)."""
    limit = datetime.combine(
        today - timedelta(days=30 * months), datetime.min.time(), tzinfo=UTC
    )
    placements = session.exec(
        select(Placement)
        .where(Placement.status == PostingStatus.CLOSED)
        .where(col(Placement.closed_at) < limit)
        .where(or_(Placement.supervisor_name != "", Placement.supervisor_contact != ""))
    ).all()
    for placement in placements:
        placement.supervisor_name = ""
        placement.supervisor_contact = ""
        session.add(placement)
    proposals = session.exec(
        select(MatchProposal)
        .where(col(MatchProposal.status).in_(_PROPOSAL_FINAL))
        .where(col(MatchProposal.updated_at) < limit)
        .where(MatchProposal.comment != "")
    ).all()
    for proposal in proposals:
        proposal.comment = ""
        session.add(proposal)
    counts = {"placements": len(placements), "proposals": len(proposals)}
    audit.record(
        session,
        actor=None,
        action="privacy.purge",
        entity="system",
        entity_id=None,
        months=months,
        **counts,
    )
    session.flush()
    return counts
