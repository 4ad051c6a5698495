"""A company answers a request from the emailed link, without signing in.

The pages speak Swedish here: the reader of a link has no account language.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer
from sqlmodel import Session, func, select

from moraspar.bookings import links
from moraspar.models import (
    ActionLink,
    AuditEvent,
    Booking,
    MatchProposal,
    Need,
    Organisation,
    OutboxMessage,
    Placement,
    ProposalStatus,
    Role,
    User,
    utcnow,
)

LINK = re.compile(r"http://moraspar\.test(/bookings/answer/\S+)")


@dataclass
class Asked:
    teacher: User
    company: Organisation
    need: Need
    placement: Placement
    path: str

    @property
    def token(self) -> str:
        return self.path.rsplit("/", 1)[1]


@pytest.fixture
def asked(
    client: Any,
    auth: Any,
    db: Session,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_need: Callable[..., Need],
    make_placement: Callable[..., Placement],
) -> Asked:
    """A teacher's request sent through the placement page to a company that
    has no account, only a contact address; then the teacher signs out."""
    school = make_school()
    teacher = make_user(Role.TEACHER, school)
    company = make_company(contact_email="kontakt@snickeri.example")
    need = make_need(school, kind="study_visit", students=4)
    placement = make_placement(company, kind="study_visit", places=3)
    auth.login(teacher)
    response = client.post_form(
        f"/school/placements/{placement.id}/request",
        {"need": str(need.id), "students": "3", "message": "Vi kommer med buss."},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    auth.logout()
    (mail,) = db.exec(
        select(OutboxMessage).where(
            OutboxMessage.to_address == "kontakt@snickeri.example"
        )
    ).all()
    match = LINK.search(mail.body_text)
    assert match, mail.body_text
    return Asked(teacher, company, need, placement, match.group(1))


def _proposal(db: Session) -> MatchProposal:
    db.expire_all()
    return db.exec(select(MatchProposal)).one()


def _link(db: Session) -> ActionLink:
    db.expire_all()
    return db.exec(select(ActionLink)).one()


def _bookings(db: Session) -> int:
    return int(db.exec(select(func.count()).select_from(Booking)).one())


def test_get_shows_the_request_and_changes_nothing(
    client: Any, db: Session, asked: Asked
) -> None:
    for _ in range(2):
        response = client.get(asked.path)
        assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert asked.need.title in page
    assert asked.placement.title in page
    assert "Vi kommer med buss." in page
    assert 'name="csrf_token"' in page
    proposal = _proposal(db)
    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.company_confirmed is None
    assert _link(db).used_at is None


def test_post_answers_once_and_books(client: Any, db: Session, asked: Asked) -> None:
    response = client.post_form(asked.path, {"confirm": "Confirm"})
    assert response.status_code == 200
    assert "bokningen är gjord" in response.get_data(as_text=True)
    proposal = _proposal(db)
    assert proposal.status == ProposalStatus.BOOKED
    assert proposal.company_confirmed is True
    booking = db.exec(select(Booking)).one()
    assert booking.students == 3
    db.refresh(asked.placement)
    assert asked.placement.places_booked == 3
    assert _link(db).used_at is not None
    assert db.exec(
        select(AuditEvent).where(AuditEvent.action == "action_link.use")
    ).one()

    again = client.post_form(asked.path, {"decline": "Decline"})
    assert again.status_code == 410
    assert "redan använd" in again.get_data(as_text=True)
    assert client.get(asked.path).status_code == 410
    assert _bookings(db) == 1
    assert _proposal(db).status == ProposalStatus.BOOKED


def test_decline_needs_a_reason_and_is_recorded(
    client: Any, db: Session, asked: Asked
) -> None:
    refused = client.post_form(asked.path, {"decline": "Decline"})
    assert refused.status_code == 200
    assert "Välj varför du tackar nej" in refused.get_data(as_text=True)
    assert _link(db).used_at is None

    response = client.post_form(
        asked.path,
        {"decline": "Decline", "decline_reason": "no_supervisor", "reason": "Semester"},
    )
    assert response.status_code == 200
    proposal = _proposal(db)
    assert proposal.status == ProposalStatus.WITHDRAWN
    assert proposal.decline_reason == "no_supervisor"
    assert _link(db).used_at is not None
    assert _bookings(db) == 0


def test_an_expired_link_is_refused(client: Any, db: Session, asked: Asked) -> None:
    link = _link(db)
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.add(link)
    db.commit()
    assert client.get(asked.path).status_code == 410
    response = client.post_form(asked.path, {"confirm": "Confirm"})
    assert response.status_code == 410
    assert "gått ut" in response.get_data(as_text=True)
    assert _proposal(db).company_confirmed is None
    assert _link(db).used_at is None


def test_the_link_lasts_action_link_days(db: Session, asked: Asked) -> None:
    link = _link(db)
    lifetime = links._aware(link.expires_at) - links._aware(link.created_at)
    assert timedelta(days=13, hours=23) < lifetime <= timedelta(days=14)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" + token,
        lambda token: "not-a-token",
    ],
    ids=["signature", "payload", "garbage"],
)
def test_a_tampered_link_is_refused(
    client: Any, db: Session, asked: Asked, mangle: Callable[[str], str]
) -> None:
    path = f"/bookings/answer/{mangle(asked.token)}"
    assert client.get(path).status_code == 400
    response = client.post_form(path, {"confirm": "Confirm"})
    assert response.status_code == 400
    assert "inte giltig" in response.get_data(as_text=True)
    assert _proposal(db).company_confirmed is None


def test_a_link_for_another_purpose_is_refused(
    app: Flask, client: Any, db: Session, asked: Asked
) -> None:
    # The same random token, signed for another purpose, opens nothing here.
    raw = URLSafeSerializer(str(app.secret_key), salt=links.SALT).loads(asked.token)[1]
    other = links.sign(str(app.secret_key), purpose="evaluate", raw=raw)
    response = client.post_form(f"/bookings/answer/{other}", {"confirm": "Confirm"})
    assert response.status_code == 400
    assert _proposal(db).company_confirmed is None


def test_post_without_the_csrf_token_changes_nothing(
    client: Any, db: Session, asked: Asked
) -> None:
    response = client.post(asked.path, data={"confirm": "Confirm"})
    assert response.status_code in (200, 400)
    assert _proposal(db).company_confirmed is None
    assert _link(db).used_at is None


def test_an_answer_the_company_gave_after_signing_in_closes_the_link(
    client: Any,
    auth: Any,
    db: Session,
    asked: Asked,
    make_user: Callable[..., User],
) -> None:
    contact = make_user(Role.COMPANY, asked.company)
    auth.login(contact)
    proposal = _proposal(db)
    client.post_form(f"/bookings/proposals/{proposal.id}", {"confirm": "Confirm"})
    auth.logout()
    assert _proposal(db).status == ProposalStatus.BOOKED
    response = client.post_form(asked.path, {"confirm": "Confirm"})
    assert response.status_code == 410
    assert _bookings(db) == 1


def test_the_link_pages_are_rate_limited(app: Flask, client: Any, asked: Asked) -> None:
    app.config["ACTION_LINK_LIMIT_IP"] = 3
    codes = [client.get("/bookings/answer/guess").status_code for _ in range(5)]
    assert codes == [400, 400, 400, 429, 429]


def test_a_full_placement_books_nothing_and_keeps_the_link(
    client: Any, db: Session, asked: Asked
) -> None:
    placement = db.get(Placement, asked.placement.id)
    assert placement is not None
    placement.places = 0
    db.add(placement)
    db.commit()
    response = client.post_form(asked.path, {"confirm": "Confirm"})
    assert response.status_code == 409
    assert "lediga platser" in response.get_data(as_text=True)
    assert _bookings(db) == 0
    assert _link(db).used_at is None
    assert _proposal(db).status == ProposalStatus.APPROVED


def test_the_audit_trail_names_the_answer_link(
    client: Any, auth: Any, db: Session, asked: Asked
) -> None:
    client.post_form(asked.path, {"confirm": "Confirm"})
    auth.login(Role.ADMIN, language="en")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Answered through an emailed link" in page
    assert "Answer link" in page
