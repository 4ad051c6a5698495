"""GDPR operations: export a user's data, anonymise a user, purge old contacts.

PERSONAL_DATA lists every column that can hold something about a person and
says what deletion and the purge do with it; a test fails when a table gains
such a column that is not listed. Outgoing mail is the other place: outbox
rows and, in development, .eml files in the outbox folder.
"""

import email
import email.policy
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
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
    OutboxMessage,
    Placement,
    PostingStatus,
    Role,
    SkillGap,
    User,
    utcnow,
)

ANONYMOUS_NAME = "Borttagen användare"  # shown as is in both languages

# table.column -> what happens to it when a person's data goes.
PERSONAL_DATA: dict[str, str] = {
    "user_account.email": "deletion: replaced by deleted-<id>@invalid.example",
    "job_run.name": "no personal data: the name of a scheduled job",
    "user_account.display_name": "deletion: replaced by ANONYMOUS_NAME",
    "user_account.email_notices": "no personal data: the kinds of notice emailed",
    "organisation.contact_name": "deletion: blanked when the contact is the user",
    "organisation.contact_email": "deletion: blanked when the contact is the user",
    "organisation.contact_phone": "deletion: blanked when the contact is the user",
    "organisation.address": "not personal: the organisation's street address",
    "organisation.name": "not personal: the organisation's name",
    "organisation.description": "not personal: about the organisation",
    "placement.supervisor_name": "purge: blanked once closed past retention",
    "placement.supervisor_contact": "purge: blanked once closed past retention",
    "match_proposal.comment": "purge: blanked once final past retention",
    "outbox_message.to_address": "deletion: the user's messages deleted; purge: sent"
    " messages past retention deleted",
    "outbox_message.body_text": "deletion: messages naming the user deleted; purge",
    "notification.params": "deletion: the user's notifications deleted",
    "evaluation.comment": "not personal: about a booking, written by a role",
    "booking.cancel_comment": "not personal: why a booking was called off, written"
    " by a role; a personal identity number is refused",
    "booking.cancel_reason": "not personal: a code from a fixed list",
    "meeting.notes": "not personal: the council's minutes",
    "meeting_item.decision": "not personal: the council's decision",
    "audit_event.details": "not personal: ids and actions, never names or addresses",
    "council.name": "not personal: the council's name",
    "council.description": "not personal: about the council",
    "programme.name": "not personal: the programme's name",
    "programme.description": "not personal: about the programme",
    "need.description": "kept: the school's posting, group-level facts only",
    "placement.description": "kept: the company's posting",
    "skill_gap.description": "kept: the company's posting",
    "match_proposal.decline_reason": "not personal: a code from a fixed list",
    "match_proposal.reasons": "not personal: the matcher's shared skills",
    "programme_gap_match.reasons": "not personal: the matcher's shared skills",
}
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


def anonymise_user(
    session: Session, *, user: User, actor: User, outbox_dir: Path | None = None
) -> None:
    """Remove the person, keep the records: decisions and postings stay, with
    no name or address pointing back to them. Mail to or about the user goes
    too: outbox rows, and .eml files in outbox_dir."""
    if user.role == Role.ADMIN and _is_last_admin(session, user):
        raise LastAdmin()
    # A name of one or two letters would match too much mail to be a trace.
    traces = [t.strip() for t in (user.email, user.display_name) if len(t.strip()) > 2]
    _forget_contact(session, user)
    _forget_mail(session, user, traces, outbox_dir)
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


def _forget_contact(session: Session, user: User) -> None:
    """A company the user registered named them as its contact person."""
    organisations = session.exec(
        select(Organisation).where(
            func.lower(Organisation.contact_email) == user.email.lower()
        )
    ).all()
    for organisation in organisations:
        organisation.contact_name = ""
        organisation.contact_email = ""
        organisation.contact_phone = ""
        session.add(organisation)


def _forget_mail(
    session: Session, user: User, traces: list[str], outbox_dir: Path | None
) -> None:
    """Outbox rows and .eml files to or about the person: mail to them goes,
    mail already sent that names them goes, and mail still waiting for
    someone else is kept with the name blanked, so its reader still learns
    what happened."""
    address = user.email.lower()
    query = select(OutboxMessage).where(
        or_(
            *(
                func.lower(column).contains(trace.lower())
                for trace in traces
                for column in (
                    OutboxMessage.to_address,
                    OutboxMessage.subject,
                    OutboxMessage.body_text,
                )
            )
        )
    )
    for message in session.exec(query).all():
        if message.to_address.lower() == address or message.sent_at is not None:
            _delete_message(session, message, outbox_dir)
            continue
        message.subject = _blank(message.subject, traces)
        message.body_text = _blank(message.body_text, traces)
        session.add(message)
    if outbox_dir is None or not outbox_dir.is_dir():
        return
    for path in outbox_dir.glob("*.eml"):
        if _mentions(_eml_text(path), traces):
            path.unlink(missing_ok=True)


def _blank(text: str, traces: Iterable[str]) -> str:
    for trace in traces:
        text = re.sub(re.escape(trace), ANONYMOUS_NAME, text, flags=re.IGNORECASE)
    return text


def _mentions(text: str, traces: Iterable[str]) -> bool:
    folded = text.casefold()
    return any(trace.casefold() in folded for trace in traces)


def _eml_text(path: Path) -> str:
    """Headers and text of an .eml file, decoded (bodies may be quoted-printable)."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    parts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(str(part.get_content()))
    return "\n".join(parts)


def _delete_message(
    session: Session, message: OutboxMessage, outbox_dir: Path | None
) -> None:
    if outbox_dir is not None and message.id is not None:
        (outbox_dir / f"{message.id:06d}.eml").unlink(missing_ok=True)
    session.delete(message)


def _is_last_admin(session: Session, user: User) -> bool:
    others = session.exec(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN)
        .where(User.active == True)  # noqa: E712
        .where(User.id != user.id)
    ).one()
    return others == 0


def purge(
    session: Session, *, months: int, today: date, outbox_dir: Path | None = None
) -> dict[str, int]:
    """Blank contact details on postings and proposal comments closed before
    the retention limit (months × 30 days before today); delete mail sent
    before it, with its .eml file in outbox_dir."""
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
    messages = session.exec(
        select(OutboxMessage).where(col(OutboxMessage.sent_at) < limit)
    ).all()
    for message in messages:
        _delete_message(session, message, outbox_dir)
    counts = {
        "placements": len(placements),
        "proposals": len(proposals),
        "messages": len(messages),
    }
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
