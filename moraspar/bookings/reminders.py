"""Reminders: a proposal no side has answered, a booking about to start, an
evaluation not yet given.

`send_due` is run daily by a job (and by `moraspar send-reminders`). Each
reminder has a key (kind, object id, side, due date) in `reminder_sent`, and
the key is inserted before anything is sent: an insert that finds the key
already there sends nothing, so the job may run twice, or on two workers at
the same moment, and each reminder still goes out once. The notices go
through `notify`, in-app and by email in the recipient's language, each kind
a notice the user may turn off by email.

Working days skip weekends and Swedish public holidays, and the three eves
that are days off in practice (midsummer, Christmas and New Year's Eve).

Plain functions: they flush and never commit, and import no Flask.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import holidays
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, or_, select

from moraspar import audit
from moraspar.bookings import links
from moraspar.bookings.services import (
    Pairing,
    Side,
    _bookings_query,
    _pairing,
    booking_path,
    company_contacts,
    evaluate_path,
    evaluated_sides,
    message_params,
    respond_path,
    school_contacts,
)
from moraspar.models import (
    BOOKING_HOLDS_PLACES,
    Booking,
    BookingStatus,
    LinkPurpose,
    MatchProposal,
    Need,
    Organisation,
    Placement,
    ProposalStatus,
    ReminderSent,
    User,
    utcnow,
)
from moraspar.notifications.services import Kind, notify
from moraspar.web.pagination import Page, paginate

# A reminder due while the job could not run is still sent this many days
# late, not later: an evaluation asked for a month after the fact only annoys.
CATCH_UP_DAYS = 14


class Reminder(enum.StrEnum):
    UNANSWERED = "unanswered"
    BOOKING_WEEK = "booking_week"
    BOOKING_DAY = "booking_day"
    EVALUATION = "evaluation"


# How long before a booking's start each reminder of it is due.
BOOKING_LEAD = {Reminder.BOOKING_WEEK: 7, Reminder.BOOKING_DAY: 1}


@dataclass(frozen=True)
class Settings:
    unanswered_workdays: int = 3
    evaluation_days: int = 7


@dataclass(frozen=True)
class Sent:
    """How many reminders one call sent, per kind."""

    unanswered: int = 0
    booking: int = 0
    evaluation: int = 0

    @property
    def total(self) -> int:
        return self.unanswered + self.booking + self.evaluation


# --- working days ---


@lru_cache(maxsize=8)
def _days_off(year: int) -> frozenset[date]:
    public = holidays.country_holidays("SE", years=year, include_sundays=False)
    eves = {date(year, 12, 24), date(year, 12, 31)}
    for day, name in public.items():
        if "Midsummer" in str(name) or "Midsommar" in str(name):
            eves.add(day - timedelta(days=1))
    return frozenset(public) | eves


def is_workday(day: date) -> bool:
    return day.weekday() < 5 and day not in _days_off(day.year)


def add_workdays(start: date, count: int) -> date:
    """The day `count` working days after `start` (start itself not counted)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_workday(day):
            count -= 1
    return day


def subtract_workdays(end: date, count: int) -> date:
    """The latest day from which `count` working days have passed by `end`."""
    day = end
    while count > 0:
        if is_workday(day):
            count -= 1
        day -= timedelta(days=1)
    return day


def workdays_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_workday(day):
            count += 1
    return count


# --- claiming a reminder ---


def _claim(
    session: Session, kind: Reminder, object_id: int, side: Side, due: date
) -> bool:
    """Insert the reminder's key; False when it was already there (sent, or
    being sent by another worker, whose transaction holds the key)."""
    values = {
        "kind": str(kind),
        "object_id": object_id,
        "side": str(side),
        "due_date": due,
        "sent_at": utcnow(),
    }
    keys = ["kind", "object_id", "side", "due_date"]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ReminderSent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(col(ReminderSent.id))
    )
    # RETURNING rather than rowcount, which psycopg leaves at -1 here.
    return session.exec(statement).first() is not None


def _contacts(
    session: Session, side: Side, *, need: Need, placement: Placement
) -> list[User]:
    if side is Side.SCHOOL:
        return school_contacts(session, need=need)
    return company_contacts(session, placement=placement)


# --- (a) an approved proposal a side has not answered ---


def waiting_since(proposal: MatchProposal) -> date:
    """The day the proposal began to wait for the sides: the council's approval,
    or its creation for a proposal made approved (a request or an offer)."""
    moment = proposal.decided_at or proposal.created_at
    return moment.date()


def waiting_sides(proposal: MatchProposal) -> list[Side]:
    sides = []
    if proposal.school_confirmed is None:
        sides.append(Side.SCHOOL)
    if proposal.company_confirmed is None:
        sides.append(Side.COMPANY)
    return sides


def unanswered_query(*, today: date, workdays: int, query: Any = None) -> Any:
    """Approved proposals a side has not answered for `workdays` working days
    or more, longest waiting first (`query`: what to select, by default the
    proposals)."""
    latest = subtract_workdays(today, workdays)
    cutoff = datetime.combine(latest + timedelta(days=1), time(), tzinfo=UTC)
    since = func.coalesce(col(MatchProposal.decided_at), col(MatchProposal.created_at))
    return (
        (query if query is not None else select(MatchProposal))
        .where(MatchProposal.status == ProposalStatus.APPROVED)
        .where(
            or_(
                col(MatchProposal.school_confirmed).is_(None),
                col(MatchProposal.company_confirmed).is_(None),
            )
        )
        .where(since < cutoff)
        .order_by(since, col(MatchProposal.id))
    )


def _remind_unanswered(session: Session, *, today: date, workdays: int) -> int:
    sent = 0
    proposals = session.exec(unanswered_query(today=today, workdays=workdays)).all()
    for proposal in proposals:
        assert proposal.id is not None
        due = add_workdays(waiting_since(proposal), workdays)
        pairing: Pairing | None = None
        for side in waiting_sides(proposal):
            if not _claim(session, Reminder.UNANSWERED, proposal.id, side, due):
                continue
            pairing = pairing or _pairing(session, proposal)
            notify(
                session,
                users=_contacts(
                    session, side, need=pairing.need, placement=pairing.placement
                ),
                kind=Kind.REMINDER_UNANSWERED,
                params=message_params(
                    pairing,
                    side=str(side),
                    days=workdays_between(waiting_since(proposal), today),
                ),
                link=respond_path(proposal.id),
            )
            audit.record(
                session,
                proposal,
                actor=None,
                action="reminder.unanswered",
                side=str(side),
                due=due.isoformat(),
            )
            sent += 1
    return sent


# --- (b) a booking starts in a week, and tomorrow ---


def _booking_params(
    booking: Booking, row: tuple[Any, ...], **extra: Any
) -> dict[str, Any]:
    _, need, placement, school, company = row
    return {
        "booking_id": booking.id,
        "need_title": need.title,
        "school": school.name,
        "company": company.name,
        "placement_title": placement.title,
        "students": booking.students,
        "start": booking.start_date.isoformat() if booking.start_date else None,
        "end": booking.end_date.isoformat() if booking.end_date else None,
        **extra,
    }


def _remind_starts(session: Session, *, today: date) -> int:
    longest = max(BOOKING_LEAD.values())
    rows = session.exec(
        _bookings_query()
        .where(Booking.status == BookingStatus.ACTIVE)
        .where(col(Booking.start_date) > today)
        .where(col(Booking.start_date) <= today + timedelta(days=longest))
        .order_by(col(Booking.start_date), col(Booking.id))
    ).all()
    sent = 0
    for row in rows:
        booking, need, placement = row[0], row[1], row[2]
        assert booking.id is not None and booking.start_date is not None
        days_left = (booking.start_date - today).days
        # The nearest reminder that is due: a booking made four days before its
        # start gets no "in a week", and one the job missed gets the next.
        kind = min(
            (k for k, lead in BOOKING_LEAD.items() if days_left <= lead),
            key=lambda k: BOOKING_LEAD[k],
        )
        due = booking.start_date - timedelta(days=BOOKING_LEAD[kind])
        if booking.created_at.date() > due:
            continue
        for side in (Side.SCHOOL, Side.COMPANY):
            if not _claim(session, kind, booking.id, side, due):
                continue
            notify(
                session,
                users=_contacts(session, side, need=need, placement=placement),
                kind=Kind.REMINDER_BOOKING_STARTS,
                params=_booking_params(booking, row, side=str(side), days=days_left),
                link=booking_path(booking.id),
            )
            audit.record(
                session,
                booking,
                actor=None,
                action=f"reminder.{kind}",
                side=str(side),
                due=due.isoformat(),
            )
            sent += 1
    return sent


# --- (c) an evaluation not given ---


def _remind_evaluations(session: Session, *, today: date, days: int) -> int:
    latest_end = today - timedelta(days=days)
    rows = session.exec(
        _bookings_query()
        .where(col(Booking.status).in_(BOOKING_HOLDS_PLACES))
        .where(col(Booking.end_date) <= latest_end)
        .where(col(Booking.end_date) > latest_end - timedelta(days=CATCH_UP_DAYS))
        .order_by(col(Booking.end_date), col(Booking.id))
    ).all()
    done = evaluated_sides(session, [row[0].id for row in rows])
    sent = 0
    for row in rows:
        booking, need, placement = row[0], row[1], row[2]
        assert booking.id is not None and booking.end_date is not None
        due = booking.end_date + timedelta(days=days)
        for side in (Side.SCHOOL, Side.COMPANY):
            if side in done.get(booking.id, frozenset()):
                continue
            if not _claim(session, Reminder.EVALUATION, booking.id, side, due):
                continue
            params = _booking_params(booking, row, side=str(side))
            if side is Side.COMPANY:
                # As with the first request: a signed link to evaluate without
                # signing in, at the contact address if the company has no users.
                links.ask_company(
                    session,
                    company=row[4],
                    contacts=company_contacts(session, placement=placement),
                    proposal_id=booking.proposal_id,
                    kind=Kind.REMINDER_EVALUATION,
                    params=params,
                    in_app_link=evaluate_path(booking.id),
                    purpose=LinkPurpose.EVALUATE,
                )
            else:
                notify(
                    session,
                    users=school_contacts(session, need=need),
                    kind=Kind.REMINDER_EVALUATION,
                    params=params,
                    link=evaluate_path(booking.id),
                )
            audit.record(
                session,
                booking,
                actor=None,
                action="reminder.evaluation",
                side=str(side),
                due=due.isoformat(),
            )
            sent += 1
    return sent


def send_due(session: Session, *, today: date, settings: Settings) -> Sent:
    """Send every reminder due by `today` that has not gone out. Flushes."""
    sent = Sent(
        unanswered=_remind_unanswered(
            session, today=today, workdays=settings.unanswered_workdays
        ),
        booking=_remind_starts(session, today=today),
        evaluation=_remind_evaluations(
            session, today=today, days=settings.evaluation_days
        ),
    )
    session.flush()
    return sent


def sent_counts(
    session: Session, object_ids: Iterable[int], kind: Reminder
) -> dict[int, int]:
    """How many reminders of a kind went out per object (for the lists)."""
    ids = list(object_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(ReminderSent.object_id, func.count(col(ReminderSent.id)))
        .where(ReminderSent.kind == kind)
        .where(col(ReminderSent.object_id).in_(ids))
        .group_by(col(ReminderSent.object_id))
    ).all()
    return {int(object_id): int(count) for object_id, count in rows}


# --- the business office's list of unanswered proposals ---


@dataclass(frozen=True)
class Unanswered:
    """An approved proposal waiting for an answer, as the list shows it."""

    proposal: MatchProposal
    need: Need
    placement: Placement
    school: Organisation
    company: Organisation
    waiting: tuple[Side, ...]
    workdays: int
    reminders: int


_School = aliased(Organisation, name="school_org")
_Company = aliased(Organisation, name="company_org")


def unanswered(
    session: Session, *, today: date, workdays: int, page: int, per_page: int
) -> Page[Unanswered]:
    """One page of the approved proposals a side has left unanswered for
    `workdays` working days or more, longest waiting first."""
    query = (
        select(MatchProposal, Need, Placement, _School, _Company)  # type: ignore[call-overload]
        .join(Need, col(Need.id) == MatchProposal.need_id)
        .join(Placement, col(Placement.id) == MatchProposal.placement_id)
        .join(_School, col(_School.id) == Need.school_id)
        .join(_Company, col(_Company.id) == Placement.company_id)
    )
    found = paginate(
        session,
        unanswered_query(today=today, workdays=workdays, query=query),
        page=page,
        per_page=per_page,
    )
    counts = sent_counts(
        session, [row[0].id for row in found.items], Reminder.UNANSWERED
    )
    items = [
        Unanswered(
            proposal=proposal,
            need=need,
            placement=placement,
            school=school,
            company=company,
            waiting=tuple(waiting_sides(proposal)),
            workdays=workdays_between(waiting_since(proposal), today),
            reminders=counts.get(proposal.id, 0),
        )
        for proposal, need, placement, school, company in found.items
    ]
    return Page(
        items=items, page=found.page, per_page=found.per_page, total=found.total
    )
