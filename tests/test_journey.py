"""The whole journey, through the web as a browser would walk it.

A teacher posts a need, a company posts a placement, the council runs the
matching and approves the proposed pair, both sides confirm, the booking
exists and the placement's free places went down, the calendar file
downloads, and after the period the evaluation is recorded and shows on the
company's page. Only two steps are not HTTP: the programme comes from a
factory (the need form picks one of the school's programmes), and time moves
on by setting the booking's period in the past before `moraspar
request-evaluations` runs.
"""

from datetime import date, timedelta
from typing import Any

import icalendar
from sqlmodel import Session, select

from moraspar.models import (
    Booking,
    Evaluation,
    MatchProposal,
    Need,
    Notification,
    OutboxMessage,
    Placement,
    ProposalStatus,
    Role,
)


def _monday_in(days: int) -> date:
    day = date.today() + timedelta(days=days)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _as(client: Any, auth: Any, user: Any) -> None:
    auth.logout()
    auth.login(user)


def test_from_need_to_evaluation(
    client: Any,
    auth: Any,
    db: Session,
    runner: Any,
    make_school: Any,
    make_company: Any,
    make_user: Any,
    make_programme: Any,
) -> None:
    start = _monday_in(60)
    end = start + timedelta(days=25)  # four school weeks, Monday to Friday
    school = make_school(name="Mora gymnasium")
    programme = make_programme(school)
    company = make_company(name="Verkstaden i Mora AB")
    teacher = make_user(Role.TEACHER, school, language="en")
    contact = make_user(Role.COMPANY, company, language="en")
    council = make_user(Role.COUNCIL, language="en")

    # 1. The teacher posts a need.
    auth.login(teacher)
    response = client.post_form(
        "/school/needs/new",
        {
            "kind": "apl",
            "programme_id": str(programme.id),
            "title": "APL fordon åk 2",
            "description": "Elever som läser personbilsinriktningen.",
            "skills": "fordonsteknik, däckbyte",
            "students": "2",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "locality": "Mora",
            "max_km": "30",
            "requirements": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    need = db.exec(select(Need)).one()

    # 2. The company posts a placement with three places.
    _as(client, auth, contact)
    response = client.post_form(
        "/company/placements/new",
        {
            "kind": "apl",
            "title": "APL i bilverkstad",
            "description": "Service och reparation av personbilar.",
            "tasks": "Däckbyte, service, felsökning.",
            "skills": "fordonsteknik, service",
            "places": "3",
            "start_date": (start - timedelta(days=7)).isoformat(),
            "end_date": (end + timedelta(days=14)).isoformat(),
            "locality": "Mora",
            "supervisor_name": "Kim Handledare",
            "supervisor_contact": "kim@verkstad.example",
            "requirements": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    placement = db.exec(select(Placement)).one()

    # 3. The council runs the matching, which proposes the pair ...
    _as(client, auth, council)
    assert client.post_form("/council/runs/new").status_code == 302
    proposal = db.exec(
        select(MatchProposal)
        .where(MatchProposal.need_id == need.id)
        .where(MatchProposal.placement_id == placement.id)
    ).one()
    assert proposal.status == ProposalStatus.PROPOSED

    # 4. ... and approves it; both sides are told, in the app and by email.
    response = client.post_form(
        f"/council/proposals/{proposal.id}/decide", {"action": "approve"}
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(MatchProposal, proposal.id).status == ProposalStatus.APPROVED
    for user in (teacher, contact):
        kinds = db.exec(
            select(Notification.kind).where(Notification.user_id == user.id)
        ).all()
        assert "proposal_approved" in kinds
    recipients = set(db.exec(select(OutboxMessage.to_address)).all())
    assert {teacher.email, contact.email} <= recipients

    # 5. Both confirm.
    respond = f"/bookings/proposals/{proposal.id}"
    _as(client, auth, teacher)
    assert "Please confirm or decline" in client.get("/notifications/").get_data(
        as_text=True
    )
    assert client.post_form(respond, {"confirm": "Confirm"}).status_code == 302
    _as(client, auth, contact)
    assert client.post_form(respond, {"confirm": "Confirm"}).status_code == 302

    # 6. The booking exists, and the free places went down.
    db.expire_all()
    booking = db.exec(select(Booking)).one()
    assert booking.students == 2
    assert (booking.start_date, booking.end_date) == (start, end)
    assert db.get(Placement, placement.id).places_booked == 2
    assert db.get(MatchProposal, proposal.id).status == ProposalStatus.BOOKED
    page = client.get(f"/company/{company.id}").get_data(as_text=True)
    assert "1 free place" in page  # of three

    # 7. The calendar file downloads and parses.
    response = client.get(f"/bookings/{booking.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    (event,) = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == end + timedelta(days=1)
    assert "Verkstaden i Mora AB" in str(event["summary"])

    # 8. Time moves on: the period is over, both sides are asked ...
    booking.start_date = date.today() - timedelta(days=40)
    booking.end_date = date.today() - timedelta(days=12)
    db.add(booking)
    db.commit()
    result = runner.invoke(args=["request-evaluations"])
    assert "1 bookings" in result.output, result.output

    # ... and the teacher evaluates.
    _as(client, auth, teacher)
    page = client.get("/notifications/").get_data(as_text=True)
    assert f"/bookings/{booking.id}/evaluate" in page
    response = client.post_form(
        f"/bookings/{booking.id}/evaluate",
        {"overall": "5", "supervision": "4", "preparation": "4", "comment": "Bra!"},
    )
    assert response.status_code == 302
    evaluation = db.exec(select(Evaluation)).one()
    assert (evaluation.side, evaluation.overall) == ("school", 5)

    # The company's page shows the schools' ratings.
    page = client.get(f"/company/{company.id}").get_data(as_text=True)
    assert "Average of 1 evaluation" in page
