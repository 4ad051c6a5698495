"""Which council work a user may see: the councils they sit on, and the schools
and companies in those councils' areas (admins, the business office, see all).

Every council page asks the same questions through this module: a list is
narrowed with `within(scope, column)`, and one record is checked with
`check_council` or `check_organisation`, which raise NotAMember (→ 403).
Meetings, proposals, runs, the allocation, the gap picture and the bookings
all use it, so there is one rule to read and to test.

A school or company created after its councils were set up joins the area of
every council that takes new organisations (`add_to_areas`), whichever way it
was created: the business office's form, a company's own registration or an
import.

Plain functions, session passed in; nothing here imports flask or wtforms.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from moraspar.models import (
    Council,
    CouncilMember,
    CouncilOrganisation,
    Organisation,
    OrgKind,
    Role,
    User,
)


class NotAMember(Exception):
    """The user sits on no council that this belongs to (→ 403)."""


@dataclass(frozen=True)
class CouncilScope:
    """The councils whose work a user sees; None: every council (admins)."""

    council_ids: frozenset[int] | None

    @property
    def everything(self) -> bool:
        return self.council_ids is None

    def has(self, council_id: int | None) -> bool:
        if self.council_ids is None:
            return True
        return council_id is not None and council_id in self.council_ids


EVERYTHING = CouncilScope(None)


def scope_of(session: Session, *, user: User) -> CouncilScope:
    if user.role == Role.ADMIN:
        return EVERYTHING
    ids = session.exec(
        select(CouncilMember.council_id).where(CouncilMember.user_id == user.id)
    ).all()
    return CouncilScope(frozenset(ids))


def councils(session: Session, *, scope: CouncilScope) -> Sequence[Council]:
    """The councils of the scope, by name (admins: all)."""
    query = select(Council).order_by(col(Council.name), col(Council.id))
    if scope.council_ids is not None:
        query = query.where(col(Council.id).in_(sorted(scope.council_ids)))
    return session.exec(query).all()


def area(scope: CouncilScope) -> Any:
    """The ids of the organisations in the scope's areas, as a subquery."""
    ids = sorted(scope.council_ids or ())
    return (
        select(CouncilOrganisation.organisation_id)
        .where(col(CouncilOrganisation.council_id).in_(ids))
        .scalar_subquery()
    )


def council_area(council_id: int) -> Any:
    """The ids of the organisations in one council's area, as a subquery."""
    return (
        select(CouncilOrganisation.organisation_id)
        .where(CouncilOrganisation.council_id == council_id)
        .scalar_subquery()
    )


def within(scope: CouncilScope, column: Any) -> Any:
    """A WHERE clause: column (an organisation id) is in the scope's areas."""
    if scope.council_ids is None:
        return sa.true()
    return col(column).in_(area(scope))


def check_council(scope: CouncilScope, council_id: int | None) -> None:
    if not scope.has(council_id):
        raise NotAMember()


def check_organisation(
    session: Session, *, scope: CouncilScope, organisation_id: int | None
) -> None:
    """NotAMember unless the organisation is in one of the scope's areas."""
    if scope.council_ids is None:
        return
    found = session.exec(
        select(CouncilOrganisation.id).where(
            CouncilOrganisation.organisation_id == organisation_id,
            col(CouncilOrganisation.council_id).in_(sorted(scope.council_ids)),
        )
    ).first()
    if found is None:
        raise NotAMember()


AREA_KINDS = frozenset({OrgKind.SCHOOL, OrgKind.COMPANY})


def add_to_areas(session: Session, organisation: Organisation) -> list[int]:
    """Put a new school or company in the area of every council that takes new
    organisations; the ids of those councils (none for other kinds). Flushes."""
    return add_all_to_areas(session, [organisation])


def add_all_to_areas(
    session: Session, organisations: Sequence[Organisation]
) -> list[int]:
    """add_to_areas for many new organisations at once (an import): one query
    for the councils and one batched insert."""
    members = [o for o in organisations if o.kind in AREA_KINDS]
    if not members:
        return []
    if any(o.id is None for o in members):
        session.flush()
    organisation_ids = [o.id for o in members if o.id is not None]
    council_ids = [
        council_id
        for council_id in session.exec(
            select(Council.id)
            .where(col(Council.takes_new_organisations).is_(True))
            .order_by(col(Council.id))
        ).all()
        if council_id is not None
    ]
    session.add_all(
        CouncilOrganisation(council_id=council_id, organisation_id=organisation_id)
        for council_id in council_ids
        for organisation_id in organisation_ids
    )
    session.flush()
    return council_ids
