"""Records owned by an organisation, one factory per id argument of a route.

Shared by the IDOR and fuzz tests. A route with a new id argument needs an
entry here (test_idor.test_every_id_route_is_covered says so).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from moraspar.models import (
    Booking,
    MatchProposal,
    Notification,
    Organisation,
    OrgKind,
    ProposalStatus,
    Role,
)


@dataclass(frozen=True)
class Owned:
    role: str  # the role of the owning organisation's users
    kind: str  # the owning organisation's kind
    make: Callable[[Any, Organisation], Any]  # (request, owner) -> record


def _fixture(name: str) -> Callable[[Any, Organisation], Any]:
    return lambda request, org: request.getfixturevalue(name)(org)


def _saved(request: Any, record: Any) -> Any:
    db = request.getfixturevalue("db")
    db.add(record)
    db.commit()
    return record


def _proposal(request: Any, school: Organisation) -> MatchProposal:
    """An approved proposal between school's need and some company's placement."""
    need = request.getfixturevalue("make_need")(school)
    company = request.getfixturevalue("make_company")()
    placement = request.getfixturevalue("make_placement")(company)
    return _saved(
        request,
        MatchProposal(
            need_id=need.id,
            placement_id=placement.id,
            score=0.8,
            students=2,
            status=ProposalStatus.APPROVED,
        ),
    )


def _booking(request: Any, school: Organisation) -> Booking:
    proposal = _proposal(request, school)
    proposal.status = ProposalStatus.BOOKED
    return _saved(
        request,
        Booking(
            proposal_id=proposal.id,
            need_id=proposal.need_id,
            placement_id=proposal.placement_id,
            students=2,
            # Over, so both sides may evaluate it.
            start_date=date.today() - timedelta(days=60),
            end_date=date.today() - timedelta(days=10),
        ),
    )


def _notification(request: Any, school: Organisation) -> Notification:
    user = request.getfixturevalue("make_user")(Role.TEACHER, organisation=school)
    return _saved(
        request, Notification(user_id=user.id, kind="proposal.approved", link="/")
    )


ID_FACTORIES: dict[str, Owned] = {
    "need_id": Owned(Role.TEACHER, OrgKind.SCHOOL, _fixture("make_need")),
    "programme_id": Owned(Role.TEACHER, OrgKind.SCHOOL, _fixture("make_programme")),
    "placement_id": Owned(Role.COMPANY, OrgKind.COMPANY, _fixture("make_placement")),
    "gap_id": Owned(Role.COMPANY, OrgKind.COMPANY, _fixture("make_skill_gap")),
    "proposal_id": Owned(Role.TEACHER, OrgKind.SCHOOL, _proposal),
    "booking_id": Owned(Role.TEACHER, OrgKind.SCHOOL, _booking),
    # A notification belongs to one user: another user of the same school.
    "notification_id": Owned(Role.TEACHER, OrgKind.SCHOOL, _notification),
}
