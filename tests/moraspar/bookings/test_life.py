"""A booking's life after both sides confirmed: cancel, abort, move, attendance.

Service-level tests run on SQLite and, with MORASPAR_TEST_DATABASE_URL, on
PostgreSQL; every refused step leaves the booking row as it was.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, func, select

from moraspar.bookings import services, views
from moraspar.council.scope import EVERYTHING
from moraspar.models import (
    BOOKING_HOLDS_PLACES,
    Attendance,
    AuditEvent,
    Booking,
    BookingStatus,
    CancelReason,
    MatchProposal,
    MatchRun,
    Notification,
    OutboxMessage,
    Placement,
    ProposalStatus,
    Role,
    RunStatus,
    User,
)

BEFORE = date(2026, 12, 1)  # the factories' periods start in 2027
DURING = date(2027, 3, 1)  # within the booking's 1 Feb – 14 May 2027
AFTER = date(2027, 6, 1)
CANCEL = services.Cancellation(reason=CancelReason.SCHEDULE, comment="Krock med NP")


def _book(db: Session, pair: Any) -> Booking:
    services.respond(db, proposal_id=pair.proposal.id, user=pair.teacher, confirm=True)
    booking = services.respond(
        db, proposal_id=pair.proposal.id, user=pair.contact, confirm=True
    )
    db.commit()
    assert booking is not None
    return booking


@pytest.fixture
def booked(db: Session, make_pair: Any) -> Callable[..., Any]:
    def make(**kw: Any) -> Any:
        pair = make_pair(**kw)
        return pair, _book(db, pair)

    return make


def _held(db: Session, placement_id: int | None) -> int:
    total = db.exec(
        select(func.coalesce(func.sum(Booking.students), 0))
        .where(Booking.placement_id == placement_id)
        .where(col(Booking.status).in_(BOOKING_HOLDS_PLACES))
    ).one()
    return int(total)


def _kinds(db: Session, user: User) -> list[str]:
    return list(
        db.exec(select(Notification.kind).where(Notification.user_id == user.id)).all()
    )


def _row(db: Session, booking_id: int | None) -> dict[str, Any]:
    db.expire_all()
    booking = db.get(Booking, booking_id)
    assert booking is not None
    placement = db.get(Placement, booking.placement_id)
    assert placement is not None
    return {**booking.model_dump(), "places_booked": placement.places_booked}


# --- item 1: places_booked follows from the bookings -------------------------------


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("book"), st.integers(min_value=1, max_value=3)),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("move"), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("abort"), st.integers(min_value=0, max_value=9)),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=OPS)
def test_places_booked_is_the_sum_of_holding_bookings_after_any_sequence(
    db: Session,
    make_pair: Any,
    make_company: Any,
    make_user: Any,
    make_placement: Any,
    ops: list[tuple[str, int]],
) -> None:
    company = make_company()
    contact = make_user(Role.COMPANY, company, language="en")
    placement = make_placement(company, places=5)
    bookings: list[tuple[Any, int]] = []
    for op, n in ops:
        if op == "book":
            pair = make_pair(
                students=n,
                notify=False,
                placement=placement,
                company=company,
                contact=contact,
            )
            try:
                booking = _book(db, pair)
            except services.NoFreePlaces:
                db.rollback()
            else:
                bookings.append((pair, booking.id))
        elif bookings:
            pair, booking_id = bookings[n % len(bookings)]
            try:
                if op == "move":
                    services.request_date_change(
                        db,
                        booking_id=booking_id,
                        user=pair.teacher,
                        data=services.DateChange(date(2027, 3, 1), date(2027, 3, 12)),
                        today=BEFORE,
                    )
                    services.answer_date_change(
                        db,
                        booking_id=booking_id,
                        user=pair.contact,
                        accept=True,
                        today=BEFORE,
                    )
                else:
                    services.cancel(
                        db,
                        booking_id=booking_id,
                        user=pair.teacher if n % 2 else pair.contact,
                        data=CANCEL,
                        today=DURING if op == "abort" else BEFORE,
                    )
            except services.InvalidTransition:
                db.rollback()
            else:
                db.commit()
        db.expire_all()
        fresh = db.get(Placement, placement.id)
        assert fresh is not None
        assert fresh.places_booked == _held(db, placement.id)
        assert 0 <= fresh.places_booked <= fresh.places


def test_cancelled_places_can_be_booked_again(
    db: Session, make_pair: Any, make_company: Any, make_user: Any, make_placement: Any
) -> None:
    company = make_company()
    contact = make_user(Role.COMPANY, company, language="en")
    placement = make_placement(company, places=2)
    kw = {"placement": placement, "company": company, "contact": contact}
    first = make_pair(students=2, **kw)
    booking = _book(db, first)
    second = make_pair(students=2, **kw)
    with pytest.raises(services.NoFreePlaces):
        _book(db, second)
    db.rollback()
    services.cancel(
        db, booking_id=booking.id, user=first.teacher, data=CANCEL, today=BEFORE
    )
    db.commit()
    assert _book(db, second).students == 2
    db.expire_all()
    assert db.get(Placement, placement.id).places_booked == 2


# --- item 2: cancel, abort, move, attendance ---------------------------------------


def test_cancel_page_changes_nothing_on_get_and_cancels_on_post(
    client: Any, auth: Any, db: Session, booked: Any, make_user: Any
) -> None:
    pair, booking = booked()
    council = make_user(Role.COUNCIL)
    before = _row(db, booking.id)
    sent_before = db.exec(select(func.max(OutboxMessage.id))).one()
    auth.login(pair.teacher)
    page = client.get(f"/bookings/{booking.id}/cancel")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'name="reason"' in text and "Clash with the schedule" in text
    assert _row(db, booking.id) == before  # nothing changes on GET

    response = client.post_form(
        f"/bookings/{booking.id}/cancel",
        {"reason": "schedule", "comment": "Krock med nationella prov"},
    )
    assert response.status_code == 302
    after = _row(db, booking.id)
    assert after["status"] == BookingStatus.CANCELLED
    assert after["cancelled_side"] == "school"
    assert after["cancel_reason"] == "schedule"
    assert after["cancel_comment"] == "Krock med nationella prov"
    assert after["places_booked"] == 0  # freed at once
    for user in (pair.contact, council):
        assert "booking_cancelled" in _kinds(db, user)
    assert "booking_cancelled" not in _kinds(db, pair.teacher)
    mails = {
        m.to_address: m
        for m in db.exec(
            select(OutboxMessage).where(col(OutboxMessage.id) > sent_before)
        ).all()
    }
    assert set(mails) == {pair.contact.email, council.email}
    assert "called off" in mails[pair.contact.email].subject  # in English
    assert "Clash with the schedule" in mails[pair.contact.email].body_text
    assert "avbokad" in mails[council.email].subject  # in Swedish
    assert "Krockar med schemat" in mails[council.email].body_text
    assert db.exec(
        select(AuditEvent).where(AuditEvent.action == "booking.cancelled")
    ).one()
    # Past now, and not cancellable twice.
    page = client.get("/bookings/?when=past").get_data(as_text=True)
    assert pair.placement.title in page
    again = client.post_form(
        f"/bookings/{booking.id}/cancel", {"reason": "other"}, follow_redirects=True
    )
    assert "Nothing was changed" in again.get_data(as_text=True)


def test_cancel_needs_a_reason(
    client: Any, auth: Any, db: Session, booked: Any
) -> None:
    pair, booking = booked()
    auth.login(pair.contact)
    response = client.post_form(f"/bookings/{booking.id}/cancel", {"comment": "x"})
    assert response.status_code == 200
    assert "Choose a reason." in response.get_data(as_text=True)
    assert _row(db, booking.id)["status"] == BookingStatus.ACTIVE


def test_cancel_in_swedish(client: Any, auth: Any, db: Session, booked: Any) -> None:
    pair, booking = booked()
    pair.teacher.language = "sv"
    db.add(pair.teacher)
    db.commit()
    auth.login(pair.teacher)
    text = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "Krockar med schemat" in text
    assert "Avboka" in text


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.ADMIN])
def test_only_the_two_sides_may_cancel(
    client: Any, auth: Any, db: Session, booked: Any, role: str
) -> None:
    _pair, booking = booked()
    auth.login(role)
    assert client.get(f"/bookings/{booking.id}").status_code == 200
    response = client.post_form(f"/bookings/{booking.id}/cancel", {"reason": "other"})
    assert response.status_code == 403
    assert _row(db, booking.id)["status"] == BookingStatus.ACTIVE


def test_cancel_after_the_start_aborts(db: Session, booked: Any) -> None:
    pair, booking = booked()
    services.cancel(
        db, booking_id=booking.id, user=pair.contact, data=CANCEL, today=DURING
    )
    db.commit()
    row = _row(db, booking.id)
    assert (row["status"], row["cancelled_side"]) == (BookingStatus.ABORTED, "company")
    assert row["places_booked"] == 0


def test_abort_through_the_page(
    client: Any, auth: Any, db: Session, booked: Any, monkeypatch: Any
) -> None:
    pair, booking = booked()
    monkeypatch.setattr(views, "today", lambda: DURING)
    auth.login(pair.teacher)
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "aborted" in page
    client.post_form(f"/bookings/{booking.id}/cancel", {"reason": "illness"})
    assert _row(db, booking.id)["status"] == BookingStatus.ABORTED


def test_a_change_of_dates_needs_the_other_side(
    client: Any, auth: Any, db: Session, booked: Any
) -> None:
    pair, booking = booked()
    auth.login(pair.teacher)
    client.post_form(
        f"/bookings/{booking.id}/move", {"start": "2027-03-01", "end": "2027-03-19"}
    )
    row = _row(db, booking.id)
    assert (row["start_date"], row["end_date"]) == (date(2027, 2, 1), date(2027, 5, 14))
    assert row["proposed_start_date"] == date(2027, 3, 1)
    assert "date_change_requested" in _kinds(db, pair.contact)
    # The asking side cannot accept its own request.
    with pytest.raises(services.NotYourSide):
        services.answer_date_change(
            db, booking_id=booking.id, user=pair.teacher, accept=True, today=BEFORE
        )
    db.rollback()
    auth.logout()
    auth.login(pair.contact)
    assert "Accept the new dates" in client.get(f"/bookings/{booking.id}").get_data(
        as_text=True
    )
    client.post_form(f"/bookings/{booking.id}/move/answer", {"accept": "Accept"})
    row = _row(db, booking.id)
    assert (row["start_date"], row["end_date"]) == (date(2027, 3, 1), date(2027, 3, 19))
    assert row["change_requested_side"] is None
    assert "date_change_answered" in _kinds(db, pair.teacher)


def test_declined_change_keeps_the_dates(db: Session, booked: Any) -> None:
    pair, booking = booked()
    services.request_date_change(
        db,
        booking_id=booking.id,
        user=pair.contact,
        data=services.DateChange(date(2027, 4, 1), date(2027, 4, 9)),
        today=BEFORE,
    )
    services.answer_date_change(
        db, booking_id=booking.id, user=pair.teacher, accept=False, today=BEFORE
    )
    db.commit()
    row = _row(db, booking.id)
    assert (row["start_date"], row["proposed_start_date"]) == (date(2027, 2, 1), None)


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2027, 3, 9), date(2027, 3, 1)), (date(2026, 11, 1), date(2027, 3, 1))],
)
def test_bad_new_dates_are_refused(
    db: Session, booked: Any, start: date, end: date
) -> None:
    pair, booking = booked()
    before = _row(db, booking.id)
    with pytest.raises(services.InvalidDates):
        services.request_date_change(
            db,
            booking_id=booking.id,
            user=pair.teacher,
            data=services.DateChange(start, end),
            today=BEFORE,
        )
    db.rollback()
    assert _row(db, booking.id) == before


def test_bad_dates_on_the_page_say_why(
    client: Any, auth: Any, db: Session, booked: Any
) -> None:
    pair, booking = booked()
    auth.login(pair.teacher)
    page = client.post_form(
        f"/bookings/{booking.id}/move",
        {"start": "2027-03-09", "end": "2027-03-01"},
        follow_redirects=True,
    )
    assert "must not come before" in page.get_data(as_text=True)
    assert _row(db, booking.id)["proposed_start_date"] is None


def test_school_records_attendance_and_the_council_sees_no_shows(
    client: Any, auth: Any, db: Session, booked: Any, make_user: Any, monkeypatch: Any
) -> None:
    pair, booking = booked()
    monkeypatch.setattr(views, "today", lambda: DURING)
    auth.login(pair.teacher)
    index = client.get("/bookings/").get_data(as_text=True)
    assert "Record whether the students came" in index
    client.post_form(f"/bookings/{booking.id}/attendance", {"no_show": "x"})
    assert _row(db, booking.id)["attendance"] == Attendance.NO_SHOW
    auth.logout()
    auth.login(pair.contact)
    client.post_form(f"/bookings/{booking.id}/attendance", {"came": "x"})
    assert _row(db, booking.id)["attendance"] == Attendance.NO_SHOW  # school only
    auth.logout()
    auth.login(make_user(Role.COUNCIL))
    page = client.get("/bookings/").get_data(as_text=True)
    assert "Uteblivna elever per skola" in page
    assert pair.school.name in page


def test_no_shows_are_counted_per_school(db: Session, booked: Any) -> None:
    pair, booking = booked()
    services.record_attendance(
        db,
        booking_id=booking.id,
        user=pair.teacher,
        attendance=Attendance.NO_SHOW,
        today=DURING,
    )
    db.commit()
    rows = services.no_shows_by_school(db, scope=EVERYTHING)
    assert [(r.school.id, r.no_shows, r.recorded) for r in rows] == [
        (pair.school.id, 1, 1)
    ]


# --- item 4: an invalid step from every state is refused, nothing changes ----------


def _to_state(db: Session, pair: Any, booking: Booking, state: str) -> date:
    """Bring the booking into `state`; returns the day to act on."""
    if state == "cancelled":
        services.cancel(
            db, booking_id=booking.id, user=pair.teacher, data=CANCEL, today=BEFORE
        )
    elif state == "aborted":
        services.cancel(
            db, booking_id=booking.id, user=pair.teacher, data=CANCEL, today=DURING
        )
    elif state == "ended":
        services.request_evaluations(db, today=AFTER)
    elif state == "moving":
        services.request_date_change(
            db,
            booking_id=booking.id,
            user=pair.teacher,
            data=services.DateChange(date(2027, 3, 1), date(2027, 3, 5)),
            today=BEFORE,
        )
    db.commit()
    return {"ended": AFTER, "aborted": DURING}.get(state, BEFORE)


def _steps(pair: Any, booking_id: int | None, today: date) -> dict[str, Any]:
    later = services.DateChange(date(2027, 4, 1), date(2027, 4, 2))
    return {
        "cancel": lambda db: services.cancel(
            db, booking_id=booking_id, user=pair.contact, data=CANCEL, today=today
        ),
        "move": lambda db: services.request_date_change(
            db, booking_id=booking_id, user=pair.contact, data=later, today=today
        ),
        "answer": lambda db: services.answer_date_change(
            db, booking_id=booking_id, user=pair.contact, accept=True, today=today
        ),
        "attendance": lambda db: services.record_attendance(
            db,
            booking_id=booking_id,
            user=pair.teacher,
            attendance=Attendance.CAME,
            today=today,
        ),
        "respond": lambda db: services.respond(
            db, proposal_id=pair.proposal.id, user=pair.teacher, confirm=False
        ),
    }


INVALID = [
    ("active", "answer", services.InvalidTransition),  # nothing asked
    ("active", "attendance", services.InvalidTransition),  # not started
    ("active", "respond", services.NotAwaitingResponse),  # already booked
    ("moving", "move", services.InvalidTransition),  # one request at a time
    ("moving", "attendance", services.InvalidTransition),
    ("cancelled", "cancel", services.InvalidTransition),
    ("cancelled", "move", services.InvalidTransition),
    ("cancelled", "answer", services.InvalidTransition),
    ("cancelled", "attendance", services.InvalidTransition),
    ("aborted", "cancel", services.InvalidTransition),
    ("aborted", "move", services.InvalidTransition),
    ("aborted", "attendance", services.InvalidTransition),
    ("ended", "cancel", services.InvalidTransition),
    ("ended", "move", services.InvalidTransition),
    ("ended", "answer", services.InvalidTransition),
]


@pytest.mark.parametrize(("state", "step", "error"), INVALID)
def test_an_invalid_step_is_refused_and_changes_nothing(
    db: Session, booked: Any, state: str, step: str, error: type[Exception]
) -> None:
    pair, booking = booked()
    today = _to_state(db, pair, booking, state)
    before = _row(db, booking.id)
    notifications = db.exec(select(func.count()).select_from(Notification)).one()
    with pytest.raises(error) as raised:
        _steps(pair, booking.id, today)[step](db)
    db.rollback()
    assert _row(db, booking.id) == before
    assert db.exec(select(func.count()).select_from(Notification)).one() == (
        notifications
    )
    if isinstance(raised.value, services.InvalidTransition):
        assert raised.value.status in {state, "moving", booking.status}
        assert "cannot" in str(raised.value)


def test_every_state_has_an_invalid_step() -> None:
    states = {state for state, _step, _error in INVALID}
    assert {str(s) for s in BookingStatus} | {"moving"} <= states


# --- item 3: what waits for the user comes first -----------------------------------


def test_index_lists_waiting_proposals_first_with_a_count_in_the_menu(
    client: Any, auth: Any, db: Session, make_pair: Any
) -> None:
    first = make_pair()
    second = make_pair(company=first.company, contact=first.contact)
    auth.login(first.contact)
    page = client.get("/bookings/").get_data(as_text=True)
    assert "Waiting for you" in page
    assert page.count("Confirm or decline:") == 2
    assert f"/bookings/proposals/{first.proposal.id}" in page
    assert f"/bookings/proposals/{second.proposal.id}" in page
    assert page.index("Waiting for you") < page.index("No current or upcoming")
    assert '<span class="badge">2<span class="visually-hidden"> wait for you' in page
    # Answered: no longer waiting for this side.
    client.post_form(f"/bookings/proposals/{first.proposal.id}", {"confirm": "x"})
    page = client.get("/bookings/").get_data(as_text=True)
    assert page.count("Confirm or decline:") == 1
    assert '<span class="badge">1<span class="visually-hidden"> waits for you' in page


def test_empty_states_say_what_to_do_next(
    client: Any, auth: Any, make_user: Any
) -> None:
    auth.login(Role.TEACHER)
    page = client.get("/bookings/").get_data(as_text=True)
    assert "lägg upp ett behov från skolans sida" in page
    assert 'href="/school/"' in page
    past = client.get("/bookings/?when=past").get_data(as_text=True)
    assert "båda parter ombeds utvärdera" in past
    auth.logout()
    auth.login(Role.COMPANY)
    assert "erbjud platser från företagets sida" in client.get("/bookings/").get_data(
        as_text=True
    )
    auth.logout()
    auth.login(make_user(Role.COUNCIL))
    assert "/council/board" in client.get("/bookings/").get_data(as_text=True)


# --- item 5: the next-best proposal goes to the council ----------------------------


def test_cancel_offers_the_next_best_proposal_to_the_council(
    db: Session,
    make_pair: Any,
    make_company: Any,
    make_placement: Any,
    make_user: Any,
) -> None:
    council = make_user(Role.COUNCIL)
    run = MatchRun(status=RunStatus.DONE)
    db.add(run)
    db.commit()
    pair = make_pair()
    pair.proposal.run_id = run.id
    runner_up_company = make_company()
    full = make_placement(runner_up_company, places=1, places_booked=1)
    open_place = make_placement(runner_up_company, places=3)
    proposals = [
        MatchProposal(
            run_id=run.id, need_id=pair.need.id, placement_id=p.id, score=score
        )
        for p, score in ((full, 0.79), (open_place, 0.7))
    ]
    db.add_all([pair.proposal, *proposals])
    db.commit()
    booking = _book(db, pair)
    services.cancel(
        db, booking_id=booking.id, user=pair.contact, data=CANCEL, today=BEFORE
    )
    db.commit()
    (offer,) = db.exec(
        select(Notification)
        .where(Notification.user_id == council.id)
        .where(Notification.kind == "next_best_offered")
    ).all()
    # The full placement is skipped: the best one with a free place.
    assert offer.link == f"/council/proposals/{proposals[1].id}"
    assert offer.params["placement_title"] == open_place.title
    assert "next_best_offered" not in _kinds(db, pair.teacher)
    assert db.get(MatchProposal, proposals[1].id).status == ProposalStatus.PROPOSED


def test_the_cancel_page_of_an_ended_booking_says_why_and_offers_no_form(
    client: Any, auth: Any, db: Session, booked: Any
) -> None:
    pair, booking = booked(
        need_kw={"start_date": date(2024, 2, 5), "end_date": date(2024, 3, 15)},
        placement_kw={"start_date": date(2024, 2, 5), "end_date": date(2024, 3, 15)},
    )
    auth.login(pair.teacher)
    page = client.get(f"/bookings/{booking.id}/cancel")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Nothing was changed" in text and 'name="reason"' not in text
    assert _row(db, booking.id)["status"] == BookingStatus.ACTIVE
