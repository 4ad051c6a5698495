"""Both sides confirm or decline an approved proposal; both confirmations book."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask, url_for
from sqlmodel import Session, col, select

from moraspar.bookings import services
from moraspar.models import (
    AuditEvent,
    Booking,
    Council,
    MatchProposal,
    Notification,
    OutboxMessage,
    Placement,
    ProposalStatus,
    Role,
    User,
)


def _notifications(db: Session, user: User, kind: str | None = None) -> list[Any]:
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.exec(query).all())


def _url(pair: Any) -> str:
    return f"/bookings/proposals/{pair.proposal.id}"


def test_approval_notifies_both_sides_in_app_and_by_email(
    db: Session, make_pair: Any, make_user: Callable[..., User]
) -> None:
    pair = make_pair(notify=False)
    colleague = make_user(Role.TEACHER, pair.school)
    stranger = make_user(Role.TEACHER)  # another school
    make_user(Role.COUNCIL)
    services.on_proposal_approved(db, proposal=pair.proposal, actor=None)
    db.commit()

    for user in (pair.teacher, colleague, pair.contact):
        (notification,) = _notifications(db, user)
        assert notification.kind == "proposal_approved"
        assert notification.link == _url(pair)
        assert notification.params["need_title"] == pair.need.title
        assert notification.params["company"] == pair.company.name
    assert _notifications(db, stranger) == []
    mails = db.exec(select(OutboxMessage)).all()
    assert sorted(m.to_address for m in mails) == sorted(
        [pair.teacher.email, colleague.email, pair.contact.email]
    )
    mail = next(m for m in mails if m.to_address == pair.teacher.email)
    assert pair.need.title in mail.subject
    assert pair.company.name in mail.body_text
    assert f"{_url(pair)}" in mail.body_text
    assert "Fordons- och transportprogrammet" in mail.body_text  # the programme
    assert "2027" in mail.body_text  # the period
    # Group-level facts only: the need's free text never goes out by email.
    assert pair.need.description not in mail.body_text


def test_links_agree_with_the_routes(app: Flask) -> None:
    with app.test_request_context():
        assert services.respond_path(7) == url_for("bookings.respond", proposal_id=7)
        assert services.index_path() == url_for("bookings.index")
        assert services.evaluate_path(7) == url_for("bookings.evaluate", booking_id=7)


def test_respond_page_shows_the_summary_to_a_side(
    client: Any, auth: Any, pair: Any
) -> None:
    auth.login(pair.teacher)
    page = client.get(_url(pair)).get_data(as_text=True)
    assert pair.need.title in page
    assert pair.placement.title in page
    assert 'name="confirm"' in page and 'name="decline"' in page


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY, Role.COUNCIL, Role.ADMIN])
def test_outsiders_get_403(client: Any, auth: Any, pair: Any, role: str) -> None:
    auth.login(role)  # a user of another organisation
    assert client.get(_url(pair)).status_code == 403
    assert client.post_form(_url(pair), {"confirm": "Confirm"}).status_code == 403


def test_unknown_proposal_is_404(client: Any, auth: Any, pair: Any) -> None:
    auth.login(pair.teacher)
    assert client.get("/bookings/proposals/999999").status_code == 404


def test_one_confirmation_asks_the_other_side(
    client: Any, auth: Any, db: Session, pair: Any
) -> None:
    auth.login(pair.teacher)
    response = client.post_form(_url(pair), {"confirm": "Confirm"})
    assert response.status_code == 302
    db.expire_all()
    proposal = db.get(MatchProposal, pair.proposal.id)
    assert proposal.school_confirmed is True and proposal.company_confirmed is None
    assert proposal.status == ProposalStatus.APPROVED
    assert len(_notifications(db, pair.contact, "confirmation_needed")) == 1
    assert _notifications(db, pair.teacher, "confirmation_needed") == []
    assert db.exec(select(Booking)).all() == []
    # A second answer from the same side changes nothing.
    page = client.post_form(
        _url(pair),
        {"decline": "Decline", "decline_reason": "other"},
        follow_redirects=True,
    )
    assert "already answered" in page.get_data(as_text=True)
    db.expire_all()
    assert db.get(MatchProposal, pair.proposal.id).school_confirmed is True


def test_both_confirmations_book_and_take_places(
    client: Any, auth: Any, db: Session, pair: Any
) -> None:
    auth.login(pair.teacher)
    client.post_form(_url(pair), {"confirm": "Confirm"})
    auth.logout()
    auth.login(pair.contact)
    response = client.post_form(_url(pair), {"confirm": "Confirm"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/bookings/")

    db.expire_all()
    (booking,) = db.exec(select(Booking)).all()
    assert booking.proposal_id == pair.proposal.id
    assert booking.students == 2
    # The overlap of need (1 Feb – 14 May) and placement (11 Jan – 4 Jun).
    assert (booking.start_date, booking.end_date) == (
        date(2027, 2, 1),
        date(2027, 5, 14),
    )
    placement = db.get(Placement, pair.placement.id)
    assert placement.places_booked == 2
    assert db.get(MatchProposal, pair.proposal.id).status == ProposalStatus.BOOKED
    for user in (pair.teacher, pair.contact):
        assert len(_notifications(db, user, "booking_created")) == 1
    actions = set(db.exec(select(AuditEvent.action)).all())
    assert {"proposal.confirm", "booking.create"} <= actions

    page = client.get("/bookings/").get_data(as_text=True)
    assert pair.placement.title in page
    assert f"/bookings/{booking.id}.ics" in page


def test_ranked_only_proposal_books_what_fits(db: Session, make_pair: Any) -> None:
    pair = make_pair(students=0, need_kw={"students": 5}, placement_kw={"places": 3})
    services.respond(db, proposal_id=pair.proposal.id, user=pair.teacher, confirm=True)
    booking = services.respond(
        db, proposal_id=pair.proposal.id, user=pair.contact, confirm=True
    )
    db.commit()
    assert booking is not None and booking.students == 3
    db.expire_all()
    assert db.get(Placement, pair.placement.id).places_booked == 3


def test_full_placement_books_nothing(
    client: Any, auth: Any, db: Session, make_pair: Any
) -> None:
    # One of the two places is taken by a booking of another need.
    taken = make_pair(students=1, placement_kw={"places": 2})
    services.respond(
        db, proposal_id=taken.proposal.id, user=taken.teacher, confirm=True
    )
    services.respond(
        db, proposal_id=taken.proposal.id, user=taken.contact, confirm=True
    )
    db.commit()
    pair = make_pair(
        placement=taken.placement, company=taken.company, contact=taken.contact
    )
    auth.login(pair.teacher)
    client.post_form(_url(pair), {"confirm": "Confirm"})
    auth.logout()
    auth.login(pair.contact)
    page = client.post_form(_url(pair), {"confirm": "Confirm"}, follow_redirects=True)
    assert "no free places" in page.get_data(as_text=True)
    db.expire_all()
    assert len(db.exec(select(Booking)).all()) == 1
    assert db.get(Placement, pair.placement.id).places_booked == 1
    proposal = db.get(MatchProposal, pair.proposal.id)
    # Rolled back: the company's confirmation was not half-written.
    assert proposal.company_confirmed is None
    assert proposal.status == ProposalStatus.APPROVED


def test_decline_withdraws_and_tells_the_other_side_and_the_council(
    client: Any, auth: Any, db: Session, pair: Any, make_user: Callable[..., User]
) -> None:
    council = make_user(Role.COUNCIL)
    elsewhere = Council(name="Annat råd")
    db.add(elsewhere)
    db.commit()
    other_council = make_user(Role.COUNCIL, councils=[elsewhere])
    auth.login(pair.contact)
    response = client.post_form(
        _url(pair),
        {
            "decline": "Decline",
            "decline_reason": "no_supervisor",
            "reason": "Our supervisor is on leave.",
        },
    )
    assert response.status_code == 302
    db.expire_all()
    proposal = db.get(MatchProposal, pair.proposal.id)
    assert proposal.status == ProposalStatus.WITHDRAWN
    assert proposal.company_confirmed is False
    for user in (pair.teacher, council):
        (notification,) = _notifications(db, user, "proposal_declined_by_party")
        assert notification.params["side"] == "company"
    assert _notifications(db, pair.contact, "proposal_declined_by_party") == []
    # Only the councils whose area has the school are told.
    assert _notifications(db, other_council, "proposal_declined_by_party") == []
    assert db.exec(
        select(AuditEvent).where(AuditEvent.action == "proposal.decline")
    ).one()
    # The teacher can no longer confirm.
    auth.logout()
    auth.login(pair.teacher)
    page = client.post_form(_url(pair), {"confirm": "Confirm"}, follow_redirects=True)
    assert "no longer waiting" in page.get_data(as_text=True)
    assert db.exec(select(Booking)).all() == []


def test_decline_reason_refuses_a_personal_number(
    client: Any, auth: Any, db: Session, pair: Any
) -> None:
    auth.login(pair.teacher)
    response = client.post_form(
        _url(pair),
        {
            "decline": "Decline",
            "decline_reason": "other",
            "reason": "Elev 20080101-1234 är sjuk",
        },
    )
    assert response.status_code == 200
    assert "personal identity number" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(MatchProposal, pair.proposal.id).status == ProposalStatus.APPROVED


def test_booking_period_overlap_or_the_placements() -> None:
    from moraspar.models import Need

    need = Need(
        school_id=1,
        kind="apl",
        title="x",
        start_date=date(2027, 1, 1),
        end_date=date(2027, 1, 31),
    )
    placement = Placement(
        company_id=1,
        kind="apl",
        title="y",
        start_date=date(2027, 1, 15),
        end_date=date(2027, 3, 1),
    )
    assert services.booking_period(need, placement) == (
        date(2027, 1, 15),
        date(2027, 1, 31),
    )
    need.end_date = date(2027, 1, 10)  # no overlap: the placement's period
    assert services.booking_period(need, placement) == (
        date(2027, 1, 15),
        date(2027, 3, 1),
    )
    need.start_date = need.end_date = None
    assert services.booking_period(need, placement) == (
        date(2027, 1, 15),
        date(2027, 3, 1),
    )


def test_proposal_rows_stay_consistent(db: Session, pair: Any) -> None:
    with pytest.raises(services.NotAParty):
        services.respond(
            db,
            proposal_id=pair.proposal.id,
            user=User(
                email="x",
                display_name="x",
                role=Role.TEACHER,
                organisation_id=pair.company.id,
                session_token="t",
            ),
            confirm=True,
        )
    assert db.exec(select(col(MatchProposal.status))).all() == [ProposalStatus.APPROVED]
