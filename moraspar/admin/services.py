"""The business office's operations: invitations, organisations, approval."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, or_, select

from moraspar import audit
from moraspar.auth.services import (
    EmailTaken,
    create_user,
    find_by_email,
    rotate_session_token,
)
from moraspar.council.scope import add_to_areas
from moraspar.models import (
    AuditEvent,
    Organisation,
    OrgKind,
    Role,
    User,
    load_columns,
    utcnow,
)
from moraspar.notifications import emails, mail
from moraspar.organisations import check_org_number_free
from moraspar.reference.gazetteer import coordinates

PROFILE_PATH = "/profile"  # auth.profile, for links in emails built without Flask

# Which organisation kinds a role may belong to.
ROLE_ORG_KINDS = {
    Role.TEACHER: {OrgKind.SCHOOL},
    Role.COMPANY: {OrgKind.COMPANY},
    Role.COUNCIL: {OrgKind.MUNICIPALITY, OrgKind.SCHOOL, OrgKind.COMPANY},
    Role.ADMIN: {OrgKind.MUNICIPALITY},
}


class AdminError(Exception):
    field: str | None = None


class RoleDoesNotFitOrganisation(AdminError):
    field = "organisation_id"


class UnknownOrgKind(AdminError):
    field = "kind"


class CannotDeactivateSelf(AdminError):
    pass


class AccountDeleted(AdminError):
    """A deleted (anonymised) account has no person behind it any more: it
    cannot be reactivated."""


class TwoFactorNotOn(AdminError):
    pass


class CannotTurnOffOwnTwoFactor(AdminError):
    """An admin's own second factor goes off on their profile page, which asks
    for the password: a borrowed session must not strip it."""


def invite_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    role: str,
    organisation: Organisation,
    language: str,
    actor: User,
) -> User:
    """A user without a password yet; the caller mails the invitation link."""
    if OrgKind(organisation.kind) not in ROLE_ORG_KINDS[Role(role)]:
        raise RoleDoesNotFitOrganisation()
    if find_by_email(session, email) is not None:
        raise EmailTaken()
    user = create_user(
        session,
        email=email,
        display_name=display_name,
        role=role,
        organisation=organisation,
        language=language,
        actor=actor,
    )
    audit.record(
        session,
        user,
        actor=actor,
        action="user.invite",
        organisation_id=organisation.id,
    )
    return user


@dataclass(frozen=True)
class OrganisationData:
    kind: str
    name: str
    org_number: str = ""
    address: str = ""
    locality: str = ""
    contact_name: str = ""
    contact_email: str = ""


def create_organisation(
    session: Session, *, data: OrganisationData, actor: User | None
) -> Organisation:
    if data.kind not in set(OrgKind):
        raise UnknownOrgKind()
    number = check_org_number_free(session, data.org_number)
    position = coordinates(data.locality)
    organisation = Organisation(
        kind=data.kind,
        name=data.name.strip(),
        org_number=number,
        address=data.address.strip(),
        locality=data.locality,
        lat=position[0] if position else None,
        lon=position[1] if position else None,
        contact_name=data.contact_name.strip(),
        contact_email=data.contact_email.strip().lower(),
        approved=True,
    )
    session.add(organisation)
    session.flush()
    councils = add_to_areas(session, organisation)
    audit.record(
        session,
        organisation,
        actor=actor,
        action="organisation.create",
        kind=organisation.kind,
        councils=councils,
    )
    return organisation


def approve_company(
    session: Session, *, organisation: Organisation, actor: User
) -> None:
    organisation.approved = True
    organisation.updated_at = utcnow()
    session.add(organisation)
    audit.record(
        session,
        organisation,
        actor=actor,
        action="organisation.approve",
    )
    session.flush()


def user_query(*, search: str = "", role: str = "") -> Any:
    query = select(User, Organisation).join(
        Organisation, col(User.organisation_id) == Organisation.id, isouter=True
    )
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(User.email).like(pattern),
                func.lower(User.display_name).like(pattern),
                func.lower(Organisation.name).like(pattern),
            )
        )
    if role:
        query = query.where(User.role == role)
    return query.order_by(func.lower(User.display_name), col(User.id))


def organisation_query(*, kind: str = "", pending_only: bool = False) -> Any:
    query = select(Organisation)
    if kind:
        query = query.where(Organisation.kind == kind)
    if pending_only:
        query = query.where(Organisation.approved == False)  # noqa: E712
    return query.order_by(col(Organisation.approved), func.lower(Organisation.name))


def audit_query(*, entity: str = "", action: str = "") -> Any:
    query = select(AuditEvent, User).join(
        User, col(AuditEvent.actor_id) == User.id, isouter=True
    )
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if action:
        query = query.where(col(AuditEvent.action).startswith(action))
    return query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())


@dataclass(frozen=True)
class Overview:
    """What the business office's start page shows."""

    pending: list[Organisation]  # companies waiting for approval
    counts: dict[str, int]  # organisations per kind
    users: int
    recent: list[Any]  # (AuditEvent, User or None), newest first


def overview(session: Session, *, recent: int = 10) -> Overview:
    by_kind = dict(
        session.exec(
            select(Organisation.kind, func.count()).group_by(Organisation.kind)
        ).all()
    )
    return Overview(
        pending=list(session.exec(organisation_query(pending_only=True)).all()),
        counts={kind: int(by_kind.get(kind, 0)) for kind in OrgKind},
        users=int(session.exec(select(func.count()).select_from(User)).one()),
        recent=list(session.exec(audit_query().limit(recent)).all()),
    )


def organisations_for_select(session: Session) -> list[Organisation]:
    """Every organisation by kind and name, with only what a pick list shows
    (a region holds hundreds)."""
    query = (
        select(Organisation)
        .options(load_columns(Organisation.id, Organisation.name, Organisation.kind))
        .order_by(col(Organisation.kind), Organisation.name)
    )
    return list(session.exec(query).all())


def set_user_active(session: Session, *, user: User, active: bool, actor: User) -> None:
    from moraspar.auth.services import set_active

    if user.id == actor.id and not active:
        raise CannotDeactivateSelf()
    if active and user.anonymised_at is not None:
        raise AccountDeleted()
    set_active(session, user=user, active=active, actor=actor)


def turn_off_two_factor(session: Session, *, user: User, actor: User) -> None:
    """For a user who lost their phone: sign-in takes the password alone again.
    Every session of the user ends, as on a password change: whoever held the
    second factor may also hold a signed-in browser. The user is told by email,
    in their language, so that a reset they did not ask for does not go unseen."""
    if not user.totp_secret:
        raise TwoFactorNotOn()
    if user.id == actor.id:
        raise CannotTurnOffOwnTwoFactor()
    user.totp_secret = None
    rotate_session_token(session, user)
    audit.record(
        session,
        user,
        actor=actor,
        action="user.totp_reset",
    )
    date, time = emails.format_moment(utcnow(), user.language)
    subject, body = emails.render_mail(
        "email/two_factor_off.txt",
        {
            "name": user.display_name,
            "date": date,
            "time": time,
            "link": f"{emails.base_url()}{PROFILE_PATH}",
        },
        language=user.language,
    )
    mail.enqueue(session, to=user.email, subject=subject, body=body)
    session.flush()
