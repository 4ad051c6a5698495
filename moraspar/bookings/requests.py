"""Teachers' requests, companies' offers, and where a request goes first.

A request is a MatchProposal with origin "request" that the school has
confirmed by asking; an offer one with origin "offer" that the company has
confirmed by offering. Both then follow the path of a council's proposal
(moraspar.bookings.services: `on_proposal_approved`, `respond`, `_book`), so
there is one way to a booking. Whether a request goes to the council first
or straight to the company is kept per kind by the admin (`kind_route`).

Plain functions: they flush and never commit, and import no Flask.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from moraspar import audit
from moraspar.bookings import services
from moraspar.models import (
    Booking,
    BookingStatus,
    KindRoute,
    MatchProposal,
    Need,
    Organisation,
    Placement,
    PostingKind,
    PostingStatus,
    ProposalOrigin,
    ProposalStatus,
    Role,
    User,
    load_columns,
    utcnow,
)
from moraspar.notifications.services import Kind, notify

# Without a choice by the admin: APL, with its agreements and supervisor
# training, goes through the council; the shorter kinds go straight to the
# company.
DEFAULT_VIA_COUNCIL: Mapping[str, bool] = {
    kind: kind == PostingKind.APL for kind in PostingKind
}
# Proposals whose students count against the need (as the council counts).
COVERING = (
    ProposalStatus.PROPOSED,
    ProposalStatus.DEFERRED,
    ProposalStatus.APPROVED,
    ProposalStatus.BOOKED,
)
MESSAGE_MAX = 1000


# --- errors ------------------------------------------------------------------


class RequestError(services.BookingError):
    """Base of the refusals of a request or an offer; nothing was written."""


class NotYours(RequestError):
    """The need is not the teacher's school's, or the placement not the
    company's."""


class KindMismatch(RequestError):
    """The need and the placement are of different kinds."""


class NeedNotOpen(RequestError):
    """The need is paused or closed."""


class PlacementNotOpen(RequestError):
    """The placement is paused or closed."""


class NoFreePlaces(RequestError):
    """The placement has fewer free places than students asked for."""


class TooManyStudents(RequestError):
    """More students than the need has left uncovered, or fewer than one."""


class PeriodsApart(RequestError):
    """The need's and the placement's periods do not overlap."""


class AlreadyAsked(RequestError):
    """This need and this placement are already paired (asked, offered or
    proposed by the council)."""


# --- routing per kind ----------------------------------------------------------


def routes(session: Session) -> dict[str, bool]:
    """Per kind: whether a request goes through the council."""
    chosen = {
        route.kind: route.via_council for route in session.exec(select(KindRoute))
    }
    return {kind: chosen.get(kind, DEFAULT_VIA_COUNCIL[kind]) for kind in PostingKind}


def via_council(session: Session, kind: str) -> bool:
    route = session.get(KindRoute, kind)
    if route is not None:
        return route.via_council
    return DEFAULT_VIA_COUNCIL.get(kind, True)


def set_routes(
    session: Session, *, choices: Mapping[str, bool], actor: User
) -> list[str]:
    """Store the admin's choice per kind; returns the kinds that changed."""
    current = routes(session)
    changed = []
    for kind in PostingKind:
        if kind not in choices or choices[kind] == current[kind]:
            continue
        route = session.get(KindRoute, kind) or KindRoute(kind=kind)
        route.via_council = bool(choices[kind])
        route.updated_by_id = actor.id
        route.updated_at = utcnow()
        session.add(route)
        audit.record(
            session,
            actor=actor,
            action="kind_route.update",
            entity="kind_route",
            kind=str(kind),
            via_council=route.via_council,
        )
        changed.append(str(kind))
    session.flush()
    return changed


# --- checks shared by requests and offers --------------------------------------


def uncovered_students(session: Session, *, need: Need) -> int:
    """The need's students that no proposal, request or offer covers yet."""
    covered = session.exec(
        select(func.coalesce(func.sum(MatchProposal.students), 0))
        .where(MatchProposal.need_id == need.id)
        .where(col(MatchProposal.status).in_(COVERING))
    ).one()
    return max(0, need.students - int(covered))


def free_places(placement: Placement) -> int:
    return max(0, placement.places - placement.places_booked)


def periods_overlap(need: Need, placement: Placement) -> bool:
    """Open ends overlap anything."""
    starts = (need.start_date, placement.start_date)
    ends = (need.end_date, placement.end_date)
    return all(
        start is None or end is None or start <= end for start in starts for end in ends
    )


def _check_pair(
    session: Session, *, need: Need, placement: Placement, students: int
) -> None:
    if need.kind != placement.kind:
        raise KindMismatch((need.kind, placement.kind))
    if need.status != PostingStatus.OPEN:
        raise NeedNotOpen(need.id)
    if placement.status != PostingStatus.OPEN:
        raise PlacementNotOpen(placement.id)
    if not periods_overlap(need, placement):
        raise PeriodsApart((need.id, placement.id))
    already = session.exec(
        select(MatchProposal.id)
        .where(MatchProposal.need_id == need.id)
        .where(MatchProposal.placement_id == placement.id)
    ).first()
    if already is not None:
        raise AlreadyAsked(already)
    if free_places(placement) < max(students, 1):
        raise NoFreePlaces(placement.id)
    if not 1 <= students <= uncovered_students(session, need=need):
        raise TooManyStudents(students)


def _lock_pair(
    session: Session, *, need_id: int | None, placement_id: int | None
) -> tuple[Need, Placement]:
    """The need and the placement rows, locked on PostgreSQL until the
    transaction ends (need first, then placement: the council's order, so
    that no two transactions wait on each other in a circle), so that the
    checks of students left and places free hold until the insert. SQLite
    serialises writers with its write lock instead."""
    need = session.exec(
        select(Need)
        .where(Need.id == need_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    placement = session.exec(
        select(Placement)
        .where(Placement.id == placement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return need, placement


def _add(session: Session, proposal: MatchProposal) -> MatchProposal:
    """Insert the proposal; the unique (need, placement) pair settles a race
    between two requests that both passed the check."""
    try:
        with session.begin_nested():
            session.add(proposal)
            session.flush()
    except sa.exc.IntegrityError as exc:
        raise AlreadyAsked(None) from exc
    return proposal


# --- requests and offers --------------------------------------------------------


@dataclass(frozen=True)
class RequestData:
    need_id: int
    students: int
    message: str = ""


@dataclass(frozen=True)
class OfferData:
    placement_id: int
    students: int
    message: str = ""


def _own_need(session: Session, *, need_id: int, user: User) -> Need:
    need = session.get(Need, need_id)
    if need is None:
        raise services.NotFound(need_id)
    if user.role != Role.TEACHER or need.school_id != user.organisation_id:
        raise NotYours(need_id)
    return need


def _own_placement(session: Session, *, placement_id: int, user: User) -> Placement:
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise services.NotFound(placement_id)
    if user.role != Role.COMPANY or placement.company_id != user.organisation_id:
        raise NotYours(placement_id)
    return placement


def send_request(
    session: Session, *, placement_id: int, user: User, data: RequestData
) -> MatchProposal:
    """A teacher asks for places on a placement for one of the school's needs.

    Straight to the company (approved, waiting for its answer) or to the
    council first (proposed, on its review board), as the kind's route says.
    """
    need = _own_need(session, need_id=data.need_id, user=user)
    if session.get(Placement, placement_id) is None:
        raise services.NotFound(placement_id)
    need, placement = _lock_pair(session, need_id=need.id, placement_id=placement_id)
    _check_pair(session, need=need, placement=placement, students=data.students)
    council = via_council(session, need.kind)
    now = utcnow()
    proposal = _add(
        session,
        MatchProposal(
            need_id=need.id,  # type: ignore[arg-type]
            placement_id=placement.id,  # type: ignore[arg-type]
            students=data.students,
            origin=ProposalOrigin.REQUEST,
            requested_by_id=user.id,
            school_confirmed=True,
            status=ProposalStatus.PROPOSED if council else ProposalStatus.APPROVED,
            comment=data.message.strip()[:MESSAGE_MAX],
            decided_at=None if council else now,
        ),
    )
    audit.record(
        session,
        proposal,
        actor=user,
        action="proposal.request",
        need_id=need.id,
        placement_id=placement.id,
        students=data.students,
        via_council=council,
    )
    if council:
        _tell_council(session, proposal=proposal)
    else:
        services.on_proposal_approved(session, proposal=proposal, actor=user)
    session.flush()
    return proposal


def _tell_council(session: Session, *, proposal: MatchProposal) -> None:
    """Tell the members of the school's councils that a request waits on their
    board: a request, unlike a run's proposals, comes one at a time and
    nobody would otherwise look for it."""
    pairing = services._pairing(session, proposal)
    notify(
        session,
        users=services.council_members(session, need=pairing.need),
        kind=Kind.REQUEST_FOR_COUNCIL,
        params=services.message_params(pairing, students=proposal.students),
        link=services.council_proposal_path(proposal.id),
    )


def make_offer(
    session: Session, *, need_id: int, user: User, data: OfferData
) -> MatchProposal:
    """A company offers places on one of its placements for a school's need;
    the school accepts or declines (no council step: the company has said yes
    to its own places)."""
    placement = _own_placement(session, placement_id=data.placement_id, user=user)
    if session.get(Need, need_id) is None:
        raise services.NotFound(need_id)
    need, placement = _lock_pair(session, need_id=need_id, placement_id=placement.id)
    _check_pair(session, need=need, placement=placement, students=data.students)
    proposal = _add(
        session,
        MatchProposal(
            need_id=need.id,  # type: ignore[arg-type]
            placement_id=placement.id,  # type: ignore[arg-type]
            students=data.students,
            origin=ProposalOrigin.OFFER,
            requested_by_id=user.id,
            company_confirmed=True,
            status=ProposalStatus.APPROVED,
            comment=data.message.strip()[:MESSAGE_MAX],
            decided_at=utcnow(),
        ),
    )
    audit.record(
        session,
        proposal,
        actor=user,
        action="proposal.offer",
        need_id=need.id,
        placement_id=placement.id,
        students=data.students,
    )
    services.on_proposal_approved(session, proposal=proposal, actor=user)
    session.flush()
    return proposal


# --- what the pages show -------------------------------------------------------


@dataclass(frozen=True)
class PlacementFacts:
    placement: Placement
    company: Organisation
    free: int


def placement_facts(session: Session, *, placement_id: int) -> PlacementFacts:
    """An open or paused placement of an approved company, for a school."""
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise services.NotFound(placement_id)
    company = session.get(Organisation, placement.company_id)
    if company is None or not company.approved:
        raise services.NotFound(placement_id)
    return PlacementFacts(placement, company, free_places(placement))


@dataclass(frozen=True)
class NeedChoice:
    need: Need
    uncovered: int


def requestable_needs(
    session: Session, *, school_id: int | None, kind: str
) -> list[NeedChoice]:
    """The school's open needs of the kind, with their uncovered students."""
    if school_id is None:
        return []
    needs = session.exec(
        select(Need)
        # A school may have hundreds of open needs: read only what the
        # choice shows (a placement page lists them all in its form).
        .options(load_columns(Need.id, Need.title, Need.students))
        .where(Need.school_id == school_id)
        .where(Need.kind == kind)
        .where(Need.status == PostingStatus.OPEN)
        .order_by(col(Need.title), col(Need.id))
    ).all()
    covered = dict(
        session.exec(
            select(MatchProposal.need_id, func.sum(MatchProposal.students))
            .where(col(MatchProposal.need_id).in_([n.id for n in needs]))
            .where(col(MatchProposal.status).in_(COVERING))
            .group_by(col(MatchProposal.need_id))
        ).all()
    )
    return [
        NeedChoice(need, max(0, need.students - int(covered.get(need.id or 0, 0))))
        for need in needs
    ]


def offerable_placements(
    session: Session, *, company_id: int | None, kind: str | None = None
) -> list[Placement]:
    """The company's open placements with a free place (of the kind)."""
    if company_id is None:
        return []
    query = (
        select(Placement)
        .where(Placement.company_id == company_id)
        .where(Placement.status == PostingStatus.OPEN)
        .where(col(Placement.places) > col(Placement.places_booked))
    )
    if kind is not None:
        query = query.where(Placement.kind == kind)
    return list(session.exec(query.order_by(col(Placement.title))).all())


class Standing(enum.StrEnum):
    """Where one proposal, request or offer of a need stands, as the school
    reads it."""

    REQUESTED = "requested"  # waiting for the company
    COUNCIL = "council"  # waiting for the council
    OFFERED = "offered"  # offered by the company: the school answers
    TO_CONFIRM = "to_confirm"  # proposed by the council: the school answers
    BOOKED = "booked"
    DECLINED = "declined"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class NeedItem:
    proposal: MatchProposal
    placement: Placement
    company: Organisation
    standing: Standing
    booking: Booking | None

    @property
    def school_answers(self) -> bool:
        return self.standing in (Standing.OFFERED, Standing.TO_CONFIRM)


def _standing(proposal: MatchProposal, booking: Booking | None) -> Standing:
    status = proposal.status
    if status == ProposalStatus.BOOKED:
        if booking is not None and booking.status in (
            BookingStatus.CANCELLED,
            BookingStatus.ABORTED,
        ):
            return Standing.CANCELLED
        return Standing.BOOKED
    if status in (ProposalStatus.PROPOSED, ProposalStatus.DEFERRED):
        return Standing.COUNCIL
    if status == ProposalStatus.APPROVED:
        if proposal.school_confirmed is None:
            if proposal.origin == ProposalOrigin.OFFER:
                return Standing.OFFERED
            return Standing.TO_CONFIRM
        return Standing.REQUESTED
    return Standing.DECLINED


def need_items(session: Session, *, need: Need) -> list[NeedItem]:
    """The need's requests, offers and the council's proposals that left the
    board (a run's ranked-only candidates it never decided stay out), in one
    statement, newest first."""
    rows = session.exec(
        select(MatchProposal, Placement, Organisation, Booking)
        .join(Placement, col(Placement.id) == MatchProposal.placement_id)
        .join(Organisation, col(Organisation.id) == Placement.company_id)
        .outerjoin(Booking, col(Booking.proposal_id) == MatchProposal.id)
        .where(MatchProposal.need_id == need.id)
        .where(
            sa.or_(
                col(MatchProposal.origin) != ProposalOrigin.RUN,
                col(MatchProposal.status).not_in(
                    (ProposalStatus.PROPOSED, ProposalStatus.DEFERRED)
                ),
            )
        )
        .order_by(col(MatchProposal.updated_at).desc(), col(MatchProposal.id).desc())
    ).all()
    return [
        NeedItem(proposal, placement, company, _standing(proposal, booking), booking)
        for proposal, placement, company, booking in rows
    ]


def need_kinds_offerable(session: Session, *, company_id: int | None) -> set[str]:
    """The kinds of the company's open placements with a free place: the
    needs of those kinds get an offer button."""
    return {p.kind for p in offerable_placements(session, company_id=company_id)}
