"""From an approved proposal to a booking, and the evaluation afterwards.

The council approves a proposal (moraspar.council) and calls
`on_proposal_approved`; the school's teachers and the company's contacts are
notified and each side confirms or declines (`respond`). When both have
confirmed, a Booking is made and the placement's seats are taken with one
conditional UPDATE, so that two confirmations racing for the last free place
cannot both win, on SQLite and on PostgreSQL alike (`NoFreePlaces`).

Plain functions: they flush and never commit, and import no Flask. Links in
notifications are paths under the bookings blueprint's /bookings prefix; a test
checks that they agree with the routes.
"""

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import icalendar
from sqlalchemy import bindparam
from sqlalchemy import case as sa_case
from sqlalchemy.orm import aliased
from sqlmodel import Session, and_, col, func, or_, select, update

from moraspar import audit
from moraspar.bookings import links
from moraspar.council.scope import (
    CouncilScope,
    NotAMember,
    check_organisation,
    scope_of,
    within,
)
from moraspar.models import (
    BOOKING_HOLDS_PLACES,
    Attendance,
    Booking,
    BookingStatus,
    CancelReason,
    CouncilMember,
    CouncilOrganisation,
    DeclineReason,
    Evaluation,
    LinkPurpose,
    MatchProposal,
    Need,
    Organisation,
    Placement,
    PostingStatus,
    Programme,
    ProposalOrigin,
    ProposalStatus,
    Role,
    User,
    utcnow,
)
from moraspar.notifications.services import Kind, notify


class Side(enum.StrEnum):
    SCHOOL = "school"
    COMPANY = "company"


RATING_QUESTIONS = ("overall", "supervision", "preparation")


# --- errors ------------------------------------------------------------------


class BookingError(Exception):
    """Base of this module's domain errors."""


class NotFound(BookingError):
    """No such proposal or booking."""


class NotAParty(BookingError):
    """The user belongs to neither the school nor the company of it."""


class NotAwaitingResponse(BookingError):
    """The proposal is not (or no longer) approved and waiting for the sides."""


class AlreadyResponded(BookingError):
    """This side has already confirmed or declined."""


class NoFreePlaces(BookingError):
    """The placement has not enough free places left for this booking."""


class NoCalendarDates(BookingError):
    """The booking's period cannot go in a calendar file: it has no dates, or
    dates outside CALENDAR_RANGE (an import's 9999-12-31, say)."""


class EvaluationNotOpen(BookingError):
    """The booking's period has not ended yet."""


class AlreadyEvaluated(BookingError):
    """This side has already evaluated the booking."""


class InvalidRating(BookingError):
    """A rating outside 1–5."""


# --- links (paths under the blueprint's /bookings prefix) ---------------------


def respond_path(proposal_id: int | None) -> str:
    return f"/bookings/proposals/{proposal_id}"


def index_path() -> str:
    return "/bookings/"


def evaluate_path(booking_id: int | None) -> str:
    return f"/bookings/{booking_id}/evaluate"


def booking_path(booking_id: int | None) -> str:
    return f"/bookings/{booking_id}"


def council_proposal_path(proposal_id: int | None) -> str:
    return f"/council/proposals/{proposal_id}"


# --- who is who --------------------------------------------------------------


def side_of(user: User, *, need: Need, placement: Placement) -> Side | None:
    """Which side of a need ↔ placement pairing the user speaks for, if any."""
    if user.organisation_id is None:
        return None
    if user.role == Role.TEACHER and user.organisation_id == need.school_id:
        return Side.SCHOOL
    if user.role == Role.COMPANY and user.organisation_id == placement.company_id:
        return Side.COMPANY
    return None


def _oversees(user: User) -> bool:
    return user.role in (Role.COUNCIL, Role.ADMIN)


def _users(session: Session, *, role: str, organisation_id: int | None) -> list[User]:
    query = select(User).where(User.role == role).where(col(User.active).is_(True))
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return list(session.exec(query.order_by(col(User.id))).all())


def school_contacts(session: Session, *, need: Need) -> list[User]:
    return _users(session, role=Role.TEACHER, organisation_id=need.school_id)


def company_contacts(session: Session, *, placement: Placement) -> list[User]:
    return _users(session, role=Role.COMPANY, organisation_id=placement.company_id)


def council_members(session: Session, *, need: Need) -> list[User]:
    """Active members of the councils whose area has the need's school."""
    return list(
        session.exec(
            select(User)
            .join(CouncilMember, col(CouncilMember.user_id) == User.id)
            .join(
                CouncilOrganisation,
                col(CouncilOrganisation.council_id) == CouncilMember.council_id,
            )
            .where(CouncilOrganisation.organisation_id == need.school_id)
            .where(User.role == Role.COUNCIL)
            .where(col(User.active).is_(True))
            .distinct()
            .order_by(col(User.id))
        ).all()
    )


def _side_contacts(
    session: Session, side: Side, *, need: Need, placement: Placement
) -> list[User]:
    if side is Side.SCHOOL:
        return school_contacts(session, need=need)
    return company_contacts(session, placement=placement)


def _other(side: Side) -> Side:
    return Side.COMPANY if side is Side.SCHOOL else Side.SCHOOL


# --- the pairing and its facts -------------------------------------------------


@dataclass(frozen=True)
class Pairing:
    """A proposal (or booking) with everything its pages and messages show."""

    proposal: MatchProposal
    need: Need
    placement: Placement
    school: Organisation
    company: Organisation
    programme: Programme | None

    @property
    def free_places(self) -> int:
        return max(0, self.placement.places - self.placement.places_booked)

    @property
    def period(self) -> tuple[date | None, date | None]:
        return booking_period(self.need, self.placement)


def _pairing(session: Session, proposal: MatchProposal) -> Pairing:
    need = session.get(Need, proposal.need_id)
    placement = session.get(Placement, proposal.placement_id)
    if need is None or placement is None:  # foreign keys make this impossible
        raise NotFound(proposal.id)
    school = session.get(Organisation, need.school_id)
    company = session.get(Organisation, placement.company_id)
    if school is None or company is None:
        raise NotFound(proposal.id)
    programme = session.get(Programme, need.programme_id) if need.programme_id else None
    return Pairing(proposal, need, placement, school, company, programme)


def booking_period(need: Need, placement: Placement) -> tuple[date | None, date | None]:
    """The overlap of the two periods, or the placement's when they do not meet."""
    starts = [d for d in (need.start_date, placement.start_date) if d]
    ends = [d for d in (need.end_date, placement.end_date) if d]
    start = max(starts) if starts else None
    end = min(ends) if ends else None
    if start and end and start > end:
        return placement.start_date, placement.end_date
    return start, end


def message_params(pairing: Pairing, **extra: Any) -> dict[str, Any]:
    """What notifications and emails may say: group-level facts, no students."""
    start, end = pairing.period
    return {
        "proposal_id": pairing.proposal.id,
        "need_title": pairing.need.title,
        "programme": pairing.programme.name if pairing.programme else "",
        "school": pairing.school.name,
        "company": pairing.company.name,
        "placement_title": pairing.placement.title,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        **extra,
    }


# --- the hook the council calls ------------------------------------------------


def on_proposal_approved(
    session: Session, *, proposal: MatchProposal, actor: User | None
) -> None:
    """Ask the sides that have not yet agreed to confirm an approved proposal
    (in-app and by email; the company's email carries a signed answer link).

    Called by the council right after it sets proposal.status = approved, and
    by a teacher's request that goes straight to the company. A new approval
    (also after a reversed decision) asks afresh, except the side that
    started the proposal: a teacher who asked, a company that offered.
    """
    pairing = _pairing(session, proposal)
    proposal.school_confirmed = (
        True if proposal.origin == ProposalOrigin.REQUEST else None
    )
    proposal.company_confirmed = (
        True if proposal.origin == ProposalOrigin.OFFER else None
    )
    session.add(proposal)
    kind = {
        ProposalOrigin.REQUEST: Kind.REQUEST_RECEIVED,
        ProposalOrigin.OFFER: Kind.OFFER_RECEIVED,
    }.get(ProposalOrigin(proposal.origin), Kind.PROPOSAL_APPROVED)
    params = message_params(pairing, students=proposal.students)
    if proposal.school_confirmed is None:
        notify(
            session,
            users=school_contacts(session, need=pairing.need),
            kind=kind,
            params=params,
            link=respond_path(proposal.id),
        )
    if proposal.company_confirmed is None:
        links.ask_company(
            session,
            company=pairing.company,
            contacts=company_contacts(session, placement=pairing.placement),
            proposal_id=proposal.id,
            kind=kind,
            params=params,
            in_app_link=respond_path(proposal.id),
        )
    audit.record(
        session,
        proposal,
        actor=actor,
        action="proposal.notify",
        kind=str(kind),
    )
    session.flush()


# --- confirm or decline ----------------------------------------------------------


def proposal_for(session: Session, *, proposal_id: int, user: User) -> Pairing:
    """A proposal as one of its two sides sees it (NotFound, NotAParty)."""
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None:
        raise NotFound(proposal_id)
    pairing = _pairing(session, proposal)
    if side_of(user, need=pairing.need, placement=pairing.placement) is None:
        raise NotAParty(proposal_id)
    return pairing


def respond(
    session: Session,
    *,
    proposal_id: int,
    user: User,
    confirm: bool,
    reason: str = "",
    decline_reason: str = "",
) -> Booking | None:
    """Record the user's side's answer; returns the Booking once both confirmed.

    A decline withdraws the proposal (ProposalStatus.WITHDRAWN: the council's own
    "declined" stays reserved for its decision, and the matcher will not
    propose a declined pair again, while a party's no may be about this term
    only) and tells the other side and the council. decline_reason is a
    DeclineReason (or empty), reason the free text beside it.
    """
    pairing = proposal_for(session, proposal_id=proposal_id, user=user)
    side = side_of(user, need=pairing.need, placement=pairing.placement)
    assert side is not None
    return answer(
        session,
        pairing=pairing,
        side=side,
        actor=user,
        confirm=confirm,
        reason=reason,
        decline_reason=decline_reason,
    )


def pairing_of(session: Session, *, proposal_id: int) -> Pairing:
    """A proposal and its facts, for a caller that has checked who may see it
    (a signed link names the organisation)."""
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None:
        raise NotFound(proposal_id)
    return _pairing(session, proposal)


def answer(
    session: Session,
    *,
    pairing: Pairing,
    side: Side,
    actor: User | None,
    confirm: bool,
    reason: str = "",
    decline_reason: str = "",
) -> Booking | None:
    """A side's answer, by a user of it or (actor None) through a signed link."""
    proposal = pairing.proposal
    proposal_id = proposal.id
    if not confirm and decline_reason:
        decline_reason = DeclineReason(decline_reason)
    column = (
        MatchProposal.school_confirmed
        if side is Side.SCHOOL
        else MatchProposal.company_confirmed
    )
    now = utcnow()
    # Write first, read after: the UPDATE takes SQLite's write lock (or the row
    # lock on PostgreSQL), so the refresh below sees the other side's answer even
    # when both answer at the same moment, and only one of them books.
    result = session.exec(
        update(MatchProposal)
        .where(col(MatchProposal.id) == proposal.id)
        .where(col(MatchProposal.status) == ProposalStatus.APPROVED)
        .where(col(column).is_(None))
        .values({column: confirm, MatchProposal.updated_at: now})
        .execution_options(synchronize_session=False)
    )
    session.refresh(proposal)
    if result.rowcount != 1:
        if proposal.status != ProposalStatus.APPROVED:
            raise NotAwaitingResponse(proposal_id)
        raise AlreadyResponded(proposal_id)
    details = _reason_detail(reason)
    if not confirm and decline_reason:
        details["decline_reason"] = str(decline_reason)
    audit.record(
        session,
        proposal,
        actor=actor,
        action="proposal.confirm" if confirm else "proposal.decline",
        side=str(side),
        **details,
    )
    if not confirm:
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.decline_reason = str(decline_reason)
        proposal.updated_at = now
        session.add(proposal)
        notify(
            session,
            users=[
                *_side_contacts(
                    session,
                    _other(side),
                    need=pairing.need,
                    placement=pairing.placement,
                ),
                *council_members(session, need=pairing.need),
            ],
            kind=Kind.PROPOSAL_DECLINED_BY_PARTY,
            params=message_params(
                pairing,
                side=str(side),
                reason=reason,
                decline_reason=str(decline_reason),
            ),
            link=respond_path(proposal.id),
        )
        session.flush()
        return None
    if proposal.school_confirmed and proposal.company_confirmed:
        return _book(session, pairing=pairing, actor=actor)
    if side is Side.SCHOOL:
        # The company is asked to act: its email carries an answer link.
        links.ask_company(
            session,
            company=pairing.company,
            contacts=company_contacts(session, placement=pairing.placement),
            proposal_id=proposal.id,
            kind=Kind.CONFIRMATION_NEEDED,
            params=message_params(pairing, side=str(side)),
            in_app_link=respond_path(proposal.id),
        )
    else:
        notify(
            session,
            users=school_contacts(session, need=pairing.need),
            kind=Kind.CONFIRMATION_NEEDED,
            params=message_params(pairing, side=str(side)),
            link=respond_path(proposal.id),
        )
    session.flush()
    return None


def _held_places(placement_id: int | None) -> Any:
    """SQL for the students of the placement's bookings that hold places."""
    return (
        select(func.coalesce(func.sum(Booking.students), 0))
        .where(col(Booking.placement_id) == placement_id)
        .where(col(Booking.status).in_(BOOKING_HOLDS_PLACES))
        .scalar_subquery()
    )


def _lock_placement(session: Session, placement_id: int | None) -> Placement:
    """The placement row, locked on PostgreSQL until the transaction ends, so
    that bookings of one placement change one at a time; the latest values."""
    return session.exec(
        select(Placement)
        .where(Placement.id == placement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def recount_places(session: Session, *, placement_id: int | None) -> Placement:
    """Set places_booked from the bookings that hold places, in one UPDATE.

    The only way places_booked is written besides booking itself: it is never
    raised or lowered by a difference, so it cannot drift from the bookings.
    """
    session.flush()
    session.exec(
        update(Placement)
        .where(col(Placement.id) == placement_id)
        .values(places_booked=_held_places(placement_id), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    placement = session.get(Placement, placement_id)
    assert placement is not None
    session.refresh(placement)
    return placement


def _book(session: Session, *, pairing: Pairing, actor: User | None) -> Booking:
    proposal, need = pairing.proposal, pairing.need
    # Locks the row on PostgreSQL (ignored by SQLite, where the write lock
    # taken in respond() already serialises us) and reads the latest seats.
    placement = _lock_placement(session, pairing.placement.id)
    free = placement.places - placement.places_booked
    students = proposal.students or min(need.students, free)
    if students <= 0:
        raise NoFreePlaces(placement.id)
    now = utcnow()
    # The recount with the new students, the check and the write in one
    # statement: the guard against overbooking, whatever the isolation level.
    held = _held_places(placement.id) + students
    result = session.exec(
        update(Placement)
        .where(col(Placement.id) == placement.id)
        .where(held <= col(Placement.places))
        .values(places_booked=held, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NoFreePlaces(placement.id)
    start, end = booking_period(need, placement)
    booking = Booking(
        proposal_id=proposal.id,  # type: ignore[arg-type]
        need_id=need.id,  # type: ignore[arg-type]
        placement_id=placement.id,  # type: ignore[arg-type]
        students=students,
        start_date=start,
        end_date=end,
        status=BookingStatus.ACTIVE,
    )
    session.add(booking)
    proposal.status = ProposalStatus.BOOKED
    proposal.updated_at = now
    session.add(proposal)
    session.flush()
    session.refresh(placement)
    audit.record(
        session,
        booking,
        actor=actor,
        action="booking.create",
        proposal_id=proposal.id,
        placement_id=placement.id,
        students=students,
        places_booked=placement.places_booked,
    )
    notify(
        session,
        users=[
            *school_contacts(session, need=need),
            *company_contacts(session, placement=placement),
        ],
        kind=Kind.BOOKING_CREATED,
        params=message_params(pairing, booking_id=booking.id, students=students),
        link=index_path(),
    )
    return booking


# --- bookings: lists, one booking, the calendar file ---------------------------


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    need: Need
    placement: Placement
    school: Organisation
    company: Organisation
    side: Side | None  # None for council members and admins
    evaluated: frozenset[str] = frozenset()


class When(enum.StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"


_School = aliased(Organisation, name="school_org")
_Company = aliased(Organisation, name="company_org")


def _bookings_query() -> Any:
    return (
        select(Booking, Need, Placement, _School, _Company)  # type: ignore[call-overload]
        .join(Need, col(Need.id) == Booking.need_id)
        .join(Placement, col(Placement.id) == Booking.placement_id)
        .join(_School, col(_School.id) == Need.school_id)
        .join(_Company, col(_Company.id) == Placement.company_id)
    )


def bookings_query(user: User, *, when: When, today: date, scope: CouncilScope) -> Any:
    """The bookings of the user's organisation; for council members those of
    the schools in their councils' areas (`scope`), for admins all."""
    query = _bookings_query()
    if user.role == Role.TEACHER:
        query = query.where(Need.school_id == user.organisation_id)
    elif user.role == Role.COMPANY:
        query = query.where(Placement.company_id == user.organisation_id)
    elif _oversees(user):
        query = query.where(within(scope, Need.school_id))
    else:
        query = query.where(col(Booking.id).is_(None))
    holds = col(Booking.status).in_(BOOKING_HOLDS_PLACES)
    if when is When.PAST:
        # Over, or called off: a cancelled booking is history at once.
        return query.where(or_(col(Booking.end_date) < today, ~holds)).order_by(
            col(Booking.end_date).desc(), col(Booking.id).desc()
        )
    return (
        query.where(holds)
        .where(or_(col(Booking.end_date).is_(None), col(Booking.end_date) >= today))
        .order_by(col(Booking.start_date), col(Booking.id))
    )


def evaluated_sides(
    session: Session, booking_ids: Sequence[int]
) -> dict[int, frozenset[str]]:
    if not booking_ids:
        return {}
    rows = session.exec(
        select(Evaluation.booking_id, Evaluation.side).where(
            col(Evaluation.booking_id).in_(booking_ids)
        )
    ).all()
    found: dict[int, set[str]] = {}
    for booking_id, side in rows:
        found.setdefault(booking_id, set()).add(side)
    return {key: frozenset(value) for key, value in found.items()}


def booking_views(
    session: Session, user: User, rows: Sequence[Any]
) -> list[BookingView]:
    """BookingView per (Booking, Need, Placement, school, company) row of a page."""
    done = evaluated_sides(session, [row[0].id for row in rows])
    return [
        BookingView(
            booking=booking,
            need=need,
            placement=placement,
            school=school,
            company=company,
            side=side_of(user, need=need, placement=placement),
            evaluated=done.get(booking.id, frozenset()),
        )
        for booking, need, placement, school, company in rows
    ]


def booking_for(session: Session, *, booking_id: int, user: User) -> BookingView:
    """One booking for one of its sides, a member of a council whose area has
    the booking's school, or an admin (NotFound, NotAParty)."""
    row = session.exec(_bookings_query().where(Booking.id == booking_id)).first()
    if row is None:
        raise NotFound(booking_id)
    view = booking_views(session, user, [row])[0]
    if view.side is None:
        if not _oversees(user):
            raise NotAParty(booking_id)
        try:
            check_organisation(
                session,
                scope=scope_of(session, user=user),
                organisation_id=view.need.school_id,
            )
        except NotAMember as exc:
            raise NotAParty(booking_id) from exc
    return view


# Dates a calendar file may carry: wide enough for any real booking, narrow
# enough that the exclusive end (a day after the last) always exists.
CALENDAR_RANGE = (date(1900, 1, 1), date(2199, 12, 31))


def calendar_file(
    view: BookingView,
    *,
    summary: str,
    description: str,
    stamp: datetime | None = None,
) -> bytes:
    """An iCalendar file with one all-day event over the booking's period;
    NoCalendarDates when it has no dates or dates outside CALENDAR_RANGE."""
    booking = view.booking
    start = booking.start_date or booking.end_date
    end = booking.end_date or booking.start_date
    if start is None or end is None:
        raise NoCalendarDates(booking.id)
    first, last = CALENDAR_RANGE
    if not first <= min(start, end) <= max(start, end) <= last:
        raise NoCalendarDates(booking.id)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Moraspår//Moraspår bookings//SV")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    event = icalendar.Event()
    event.add("uid", f"booking-{booking.id}@moraspar")
    event.add("dtstamp", stamp or datetime.now(UTC))
    event.add("dtstart", start)
    event.add("dtend", end + timedelta(days=1))  # exclusive for all-day events
    event.add("summary", summary)
    if view.placement.locality:
        event.add("location", view.placement.locality)
    event.add("description", description)
    calendar.add_component(event)
    return calendar.to_ical()


# --- evaluations -------------------------------------------------------------------


def evaluation_open(booking: Booking, *, today: date) -> bool:
    return booking.end_date is not None and booking.end_date < today


def evaluate(
    session: Session,
    *,
    booking_id: int,
    user: User | None,
    overall: int,
    supervision: int,
    preparation: int,
    comment: str = "",
    today: date,
    side: Side | None = None,
) -> Evaluation:
    """A side's one evaluation of a booking whose period has ended: the
    user's side, or (user None) `side` through a signed link, whose caller
    has checked that the link's organisation is that side."""
    if user is None:
        if side is None:
            raise NotAParty(booking_id)
        view = booking_of_side(session, booking_id=booking_id, side=side)
    else:
        view = booking_for(session, booking_id=booking_id, user=user)
    if view.side is None:
        raise NotAParty(booking_id)
    if not evaluation_open(view.booking, today=today):
        raise EvaluationNotOpen(booking_id)
    if view.side in view.evaluated:
        raise AlreadyEvaluated(booking_id)
    ratings = (overall, supervision, preparation)
    if any(not 1 <= value <= 5 for value in ratings):
        raise InvalidRating(ratings)
    evaluation = Evaluation(
        booking_id=booking_id,
        side=view.side,
        overall=overall,
        supervision=supervision,
        preparation=preparation,
        comment=comment.strip(),
        created_by_id=user.id if user else None,
    )
    session.add(evaluation)
    session.flush()  # the unique (booking, side) constraint settles a race
    audit.record(
        session,
        evaluation,
        actor=user,
        action="evaluation.create",
        booking_id=booking_id,
        side=str(view.side),
    )
    return evaluation


def booking_of_side(
    session: Session,
    *,
    booking_id: int | None = None,
    proposal_id: int | None = None,
    side: Side,
) -> BookingView:
    """One booking (by its id or its proposal's) as `side` sees it, for a
    caller that has checked who may see it: a signed link names the
    organisation (NotFound)."""
    query = _bookings_query()
    if booking_id is not None:
        query = query.where(Booking.id == booking_id)
    else:
        query = query.where(Booking.proposal_id == proposal_id)
    row = session.exec(query).first()
    if row is None:
        raise NotFound(booking_id or proposal_id)
    booking, need, placement, school, company = row
    return BookingView(
        booking=booking,
        need=need,
        placement=placement,
        school=school,
        company=company,
        side=side,
        evaluated=evaluated_sides(session, [booking.id]).get(booking.id, frozenset()),
    )


def request_evaluations(session: Session, *, today: date) -> int:
    """Ask both sides of every booking that has ended; returns how many bookings.

    Idempotent: a booking is asked once, then marked ended.
    """
    rows = session.exec(
        _bookings_query()
        .where(Booking.status == BookingStatus.ACTIVE)
        .where(col(Booking.end_date) < today)
        .order_by(col(Booking.id))
    ).all()
    for booking, need, placement, school, company in rows:
        proposal = session.get(MatchProposal, booking.proposal_id)
        assert proposal is not None
        programme = (
            session.get(Programme, need.programme_id) if need.programme_id else None
        )
        pairing = Pairing(proposal, need, placement, school, company, programme)
        params = message_params(
            pairing,
            booking_id=booking.id,
            start=booking.start_date.isoformat() if booking.start_date else None,
            end=booking.end_date.isoformat() if booking.end_date else None,
        )
        notify(
            session,
            users=school_contacts(session, need=need),
            kind=Kind.EVALUATION_REQUESTED,
            params=params,
            link=evaluate_path(booking.id),
        )
        # The company may evaluate from the email, without signing in; one
        # without users is asked at its contact address.
        links.ask_company(
            session,
            company=company,
            contacts=company_contacts(session, placement=placement),
            proposal_id=booking.proposal_id,
            kind=Kind.EVALUATION_REQUESTED,
            params=params,
            in_app_link=evaluate_path(booking.id),
            purpose=LinkPurpose.EVALUATE,
        )
        booking.status = BookingStatus.ENDED
        session.add(booking)
        audit.record(
            session,
            booking,
            actor=None,
            action="booking.request_evaluations",
        )
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class Ratings:
    """Mean ratings (1–5) of a company by the schools, and how many evaluations."""

    count: int
    overall: float
    supervision: float
    preparation: float


def company_ratings(session: Session, company_id: int) -> Ratings | None:
    """The schools' evaluations of a company's placements, aggregated."""
    count, overall, supervision, preparation = session.exec(
        select(
            func.count(col(Evaluation.id)),
            func.avg(Evaluation.overall),
            func.avg(Evaluation.supervision),
            func.avg(Evaluation.preparation),
        )
        .join(Booking, col(Booking.id) == Evaluation.booking_id)
        .join(Placement, col(Placement.id) == Booking.placement_id)
        .where(Placement.company_id == company_id)
        .where(Evaluation.side == Side.SCHOOL)
    ).one()
    if not count:
        return None
    return Ratings(
        count=int(count),
        overall=float(overall),
        supervision=float(supervision),
        preparation=float(preparation),
    )


@dataclass(frozen=True)
class SchoolComment:
    """A school's comment on a company's placement: the school and the period,
    never anything about the students."""

    school: str
    placement: str
    start: date | None
    end: date | None
    overall: int
    comment: str


def recent_school_comments(
    session: Session, company_id: int, *, limit: int = 5
) -> list[SchoolComment]:
    """The schools' latest comments on the company's placements, newest first."""
    rows = session.exec(
        select(Evaluation, Booking, Placement.title, _School.name)
        .join(Booking, col(Booking.id) == Evaluation.booking_id)
        .join(Placement, col(Placement.id) == Booking.placement_id)
        .join(Need, col(Need.id) == Booking.need_id)
        .join(_School, col(_School.id) == Need.school_id)
        .where(Placement.company_id == company_id)
        .where(Evaluation.side == Side.SCHOOL)
        .where(col(Evaluation.comment) != "")
        .order_by(col(Evaluation.created_at).desc(), col(Evaluation.id).desc())
        .limit(limit)
    ).all()
    return [
        SchoolComment(
            school=school,
            placement=title,
            start=booking.start_date,
            end=booking.end_date,
            overall=evaluation.overall,
            comment=evaluation.comment,
        )
        for evaluation, booking, title, school in rows
    ]


def _reason_detail(reason: str) -> dict[str, Any]:
    """The audit detail for an optional reason: none when it is empty."""
    return {"reason": reason} if reason else {}


# --- a booking's life: cancel, move, attendance ------------------------------------


class InvalidTransition(BookingError):
    """The booking's status (or a pending request) does not allow this step;
    `status` is the booking's status at the time."""

    def __init__(self, booking_id: int | None, status: str, step: str) -> None:
        super().__init__(f"booking {booking_id} is {status}: cannot {step}")
        self.booking_id = booking_id
        self.status = status
        self.step = step


class InvalidDates(BookingError):
    """New dates that are missing, reversed or in the past."""


class NotYourSide(BookingError):
    """The step belongs to the other side (or to the school only)."""


@dataclass(frozen=True)
class Cancellation:
    """A side's cancellation: a CancelReason and an optional comment."""

    reason: CancelReason
    comment: str = ""


@dataclass(frozen=True)
class DateChange:
    start: date
    end: date


def _own_booking(
    session: Session, *, booking_id: int, user: User
) -> tuple[BookingView, Side]:
    """The booking and the user's side of it, its placement row locked."""
    view = booking_for(session, booking_id=booking_id, user=user)
    if view.side is None:
        raise NotAParty(booking_id)
    _lock_placement(session, view.placement.id)
    session.refresh(view.booking)
    return view, view.side


def cancellable(booking: Booking, *, today: date) -> bool:
    return booking.status == BookingStatus.ACTIVE and not (
        booking.end_date is not None and booking.end_date < today
    )


def started(booking: Booking, *, today: date) -> bool:
    return booking.start_date is not None and booking.start_date <= today


def _booking_params(view: BookingView, **extra: Any) -> dict[str, Any]:
    booking = view.booking
    return {
        "booking_id": booking.id,
        "need_title": view.need.title,
        "school": view.school.name,
        "company": view.company.name,
        "placement_title": view.placement.title,
        "students": booking.students,
        "start": booking.start_date.isoformat() if booking.start_date else None,
        "end": booking.end_date.isoformat() if booking.end_date else None,
        **extra,
    }


def cancel(
    session: Session,
    *,
    booking_id: int,
    user: User,
    data: Cancellation,
    today: date,
) -> Booking:
    """Call a booking off for the user's side: cancelled before the start,
    aborted after it. Frees the places at once and tells the other side and
    the council; then offers the council the need's next-best proposal."""
    view, side = _own_booking(session, booking_id=booking_id, user=user)
    booking = view.booking
    if not cancellable(booking, today=today):
        raise InvalidTransition(booking_id, booking.status, "cancel")
    booking.status = (
        BookingStatus.ABORTED
        if started(booking, today=today)
        else BookingStatus.CANCELLED
    )
    booking.cancelled_side = side
    booking.cancel_reason = CancelReason(data.reason)
    booking.cancel_comment = data.comment.strip()
    booking.cancelled_by_id = user.id
    booking.cancelled_at = utcnow()
    booking.proposed_start_date = booking.proposed_end_date = None
    booking.change_requested_side = None
    session.add(booking)
    placement = recount_places(session, placement_id=booking.placement_id)
    audit.record(
        session,
        booking,
        actor=user,
        action=f"booking.{booking.status}",
        side=str(side),
        reason=str(data.reason),
        places_booked=placement.places_booked,
        comment=booking.cancel_comment,
    )
    notify(
        session,
        users=[
            *_side_contacts(
                session, _other(side), need=view.need, placement=view.placement
            ),
            *council_members(session, need=view.need),
        ],
        kind=Kind.BOOKING_CANCELLED,
        params=_booking_params(
            view,
            side=str(side),
            status=booking.status,
            reason=str(data.reason),
            comment=booking.cancel_comment,
        ),
        link=index_path(),
    )
    offer_next_best(session, booking=booking, need=view.need)
    session.flush()
    return booking


def request_date_change(
    session: Session,
    *,
    booking_id: int,
    user: User,
    data: DateChange,
    today: date,
) -> Booking:
    """Ask the other side to move the booking to new dates (not yet moved)."""
    view, side = _own_booking(session, booking_id=booking_id, user=user)
    booking = view.booking
    if not cancellable(booking, today=today):
        raise InvalidTransition(booking_id, booking.status, "move")
    if booking.change_requested_side is not None:
        raise InvalidTransition(booking_id, "moving", "move")
    if data.start > data.end or data.start < today:
        raise InvalidDates((data.start, data.end))
    booking.proposed_start_date = data.start
    booking.proposed_end_date = data.end
    booking.change_requested_side = side
    session.add(booking)
    audit.record(
        session,
        booking,
        actor=user,
        action="booking.move_request",
        side=str(side),
        start=data.start.isoformat(),
        end=data.end.isoformat(),
    )
    notify(
        session,
        users=_side_contacts(
            session, _other(side), need=view.need, placement=view.placement
        ),
        kind=Kind.DATE_CHANGE_REQUESTED,
        params=_booking_params(
            view,
            side=str(side),
            new_start=data.start.isoformat(),
            new_end=data.end.isoformat(),
        ),
        link=booking_path(booking.id),
    )
    session.flush()
    return booking


def answer_date_change(
    session: Session,
    *,
    booking_id: int,
    user: User,
    accept: bool,
    today: date,
) -> Booking:
    """The other side accepts (the dates move) or declines a change of dates."""
    view, side = _own_booking(session, booking_id=booking_id, user=user)
    booking = view.booking
    if booking.change_requested_side is None or not cancellable(booking, today=today):
        raise InvalidTransition(booking_id, booking.status, "answer a change")
    if booking.change_requested_side == side:
        raise NotYourSide(booking_id)
    new_start, new_end = booking.proposed_start_date, booking.proposed_end_date
    if accept:
        if new_start is None or new_end is None or new_start < today:
            raise InvalidDates((new_start, new_end))
        booking.start_date, booking.end_date = new_start, new_end
    booking.proposed_start_date = booking.proposed_end_date = None
    booking.change_requested_side = None
    session.add(booking)
    audit.record(
        session,
        booking,
        actor=user,
        action="booking.move" if accept else "booking.move_decline",
        side=str(side),
    )
    notify(
        session,
        users=_side_contacts(
            session, _other(side), need=view.need, placement=view.placement
        ),
        kind=Kind.DATE_CHANGE_ANSWERED,
        params=_booking_params(
            view,
            side=str(side),
            accepted=accept,
            new_start=new_start.isoformat() if new_start else None,
            new_end=new_end.isoformat() if new_end else None,
        ),
        link=booking_path(booking.id),
    )
    session.flush()
    return booking


def record_attendance(
    session: Session,
    *,
    booking_id: int,
    user: User,
    attendance: Attendance,
    today: date,
) -> Booking:
    """The school records, once the period has started, whether the students
    came. It may correct its record; a called-off booking takes none."""
    view, side = _own_booking(session, booking_id=booking_id, user=user)
    booking = view.booking
    if side is not Side.SCHOOL:
        raise NotYourSide(booking_id)
    if booking.status not in BOOKING_HOLDS_PLACES or not started(booking, today=today):
        raise InvalidTransition(booking_id, booking.status, "record attendance")
    booking.attendance = Attendance(attendance)
    booking.attendance_recorded_at = utcnow()
    session.add(booking)
    audit.record(
        session,
        booking,
        actor=user,
        action="booking.attendance",
        attendance=str(attendance),
    )
    session.flush()
    return booking


@dataclass(frozen=True)
class NoShows:
    school: Organisation
    no_shows: int
    recorded: int


def no_shows_by_school(session: Session, *, scope: CouncilScope) -> list[NoShows]:
    """Per school in the council's scope: bookings whose students did not come,
    out of those with attendance recorded; schools with no-shows first."""
    no_show = func.sum(
        sa_case((col(Booking.attendance) == Attendance.NO_SHOW, 1), else_=0)
    )
    rows = session.exec(
        select(Organisation, no_show, func.count(col(Booking.id)))
        .join(Need, col(Need.school_id) == Organisation.id)
        .join(Booking, col(Booking.need_id) == Need.id)
        .where(col(Booking.attendance).is_not(None))
        .where(within(scope, Need.school_id))
        .group_by(col(Organisation.id))
        .order_by(no_show.desc(), col(Organisation.name))
    ).all()
    return [NoShows(school, int(count), int(total)) for school, count, total in rows]


def next_best_proposal(
    session: Session, *, need: Need, besides: int | None
) -> MatchProposal | None:
    """The need's best undecided proposal of the latest run that proposed for
    it, on another open placement that still has a free place."""
    last_run = session.exec(
        select(func.max(MatchProposal.run_id)).where(MatchProposal.need_id == need.id)
    ).one()
    if last_run is None:
        return None
    return session.exec(
        select(MatchProposal)
        .join(Placement, col(Placement.id) == MatchProposal.placement_id)
        .where(MatchProposal.need_id == need.id)
        .where(MatchProposal.run_id == last_run)
        .where(
            col(MatchProposal.status).in_(
                (ProposalStatus.PROPOSED, ProposalStatus.DEFERRED)
            )
        )
        .where(col(MatchProposal.placement_id) != besides)
        .where(Placement.status == PostingStatus.OPEN)
        .where(col(Placement.places) > col(Placement.places_booked))
        .order_by(col(MatchProposal.score).desc(), col(MatchProposal.id))
        .limit(1)
    ).first()


def offer_next_best(session: Session, *, booking: Booking, need: Need) -> None:
    """Point the council at the need's next-best proposal after a booking was
    called off, so that the students may still get a place this term."""
    proposal = next_best_proposal(session, need=need, besides=booking.placement_id)
    if proposal is None:
        return
    pairing = _pairing(session, proposal)
    notify(
        session,
        users=council_members(session, need=need),
        kind=Kind.NEXT_BEST_OFFERED,
        params=message_params(pairing, booking_id=booking.id, score=proposal.score),
        link=council_proposal_path(proposal.id),
    )


# --- what waits for the user ------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    """Whose side the waiting queries are built for: a user's role and
    organisation, here a bound parameter (see waiting_counts)."""

    role: str
    organisation_id: Any


def _proposals_waiting_query(user: User | _Side) -> Any:
    query = select(MatchProposal).where(MatchProposal.status == ProposalStatus.APPROVED)
    if user.role == Role.TEACHER and user.organisation_id is not None:
        return (
            query.join(Need, col(Need.id) == MatchProposal.need_id)
            .where(Need.school_id == user.organisation_id)
            .where(col(MatchProposal.school_confirmed).is_(None))
        )
    if user.role == Role.COMPANY and user.organisation_id is not None:
        return (
            query.join(Placement, col(Placement.id) == MatchProposal.placement_id)
            .where(Placement.company_id == user.organisation_id)
            .where(col(MatchProposal.company_confirmed).is_(None))
        )
    return None


def _bookings_waiting_query(user: User | _Side, *, today: Any) -> Any:
    """Bookings where the user's side has a step to take: new dates asked by
    the other side, or (for the school) attendance to record."""
    if user.organisation_id is None or user.role not in (Role.TEACHER, Role.COMPANY):
        return None
    query = _bookings_query()
    if user.role == Role.TEACHER:
        mine, other = Need.school_id == user.organisation_id, Side.COMPANY
    else:
        mine, other = Placement.company_id == user.organisation_id, Side.SCHOOL
    move = and_(
        col(Booking.status) == BookingStatus.ACTIVE,
        col(Booking.change_requested_side) == other,
    )
    if user.role == Role.TEACHER:
        attendance = and_(
            col(Booking.status).in_(BOOKING_HOLDS_PLACES),
            col(Booking.attendance).is_(None),
            col(Booking.start_date) <= today,
        )
        return query.where(mine).where(or_(move, attendance))
    return query.where(mine).where(move)


@dataclass(frozen=True)
class Waiting:
    """What the user's side has to answer or record, oldest first."""

    proposals: list[Pairing]
    bookings: list[BookingView]

    @property
    def count(self) -> int:
        return len(self.proposals) + len(self.bookings)


def waiting_for(
    session: Session, *, user: User, today: date, limit: int = 50
) -> Waiting:
    proposals_query = _proposals_waiting_query(user)
    bookings_query = _bookings_waiting_query(user, today=today)
    proposals = (
        [
            _pairing(session, proposal)
            for proposal in session.exec(
                proposals_query.order_by(col(MatchProposal.updated_at)).limit(limit)
            ).all()
        ]
        if proposals_query is not None
        else []
    )
    rows = (
        session.exec(
            bookings_query.order_by(col(Booking.start_date), col(Booking.id)).limit(
                limit
            )
        ).all()
        if bookings_query is not None
        else []
    )
    return Waiting(proposals=proposals, bookings=booking_views(session, user, rows))


@cache
def waiting_counts(role: Role) -> tuple[Any, ...]:
    """The menu count's parts for a role (proposals, bookings), as scalar
    subqueries with the organisation and the day as parameters
    (`organisation_id`, `today`); their sum is `waiting_count`. Built once per
    process: they run on every page (`moraspar.web.badges` selects them beside
    the unread count), and building them costs more than running them. Empty
    for a role that answers nothing."""
    side = _Side(role=role, organisation_id=bindparam("organisation_id"))
    return tuple(
        # count(*) over the same joins, not over a subquery of whole rows
        query.with_only_columns(func.count(), maintain_column_froms=True)
        .order_by(None)
        .scalar_subquery()
        for query in (
            _proposals_waiting_query(side),
            _bookings_waiting_query(side, today=bindparam("today")),
        )
        if query is not None
    )


def waiting_count(session: Session, *, user: User, today: date) -> int:
    """How many things wait for the user's side (for the menu): the proposals
    and the bookings counted in one statement."""
    if user.organisation_id is None or user.role not in (Role.TEACHER, Role.COMPANY):
        return 0
    row = session.exec(
        select(*waiting_counts(Role(user.role))),
        params={"organisation_id": user.organisation_id, "today": today},
    ).one()
    return sum(int(n) for n in row)
