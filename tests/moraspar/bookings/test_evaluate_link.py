"""A company evaluates an ended booking from the emailed link, without
signing in.

The pages speak Swedish here: the reader of a link has no account language.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer
from sqlmodel import Session, delete, func, select

from moraspar.bookings import links, services
from moraspar.models import (
    ActionLink,
    AuditEvent,
    Booking,
    Evaluation,
    LinkPurpose,
    Notification,
    Organisation,
    OutboxMessage,
    User,
    utcnow,
)

PAST = {"start_date": date(2024, 2, 5), "end_date": date(2024, 3, 15)}
LINK = re.compile(r"http://moraspar\.test(/bookings/evaluate/\S+)")
ANSWERS = {"overall": "4", "supervision": "5", "preparation": "3"}


@dataclass
class Ended:
    booking: Booking
    teacher: User
    contact: User
    company: Organisation
    path: str

    @property
    def token(self) -> str:
        return self.path.rsplit("/", 1)[1]


def _mail_to(db: Session, address: str) -> list[OutboxMessage]:
    db.expire_all()
    return list(
        db.exec(
            select(OutboxMessage)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id)  # type: ignore[arg-type]
        ).all()
    )


@pytest.fixture
def make_ended(
    db: Session, runner: Any, make_pair: Any, make_company: Any
) -> Callable[..., Ended]:
    """A booking whose period has ended, and the evaluation requests sent by
    the daily command; with `users=False` the company has no active user,
    only a contact address."""

    def make(*, users: bool = True) -> Ended:
        company = make_company(contact_email="kontakt@snickeri.example")
        pair = make_pair(
            need_kw=dict(PAST), placement_kw=dict(PAST), company=company, notify=False
        )
        services.respond(
            db, proposal_id=pair.proposal.id, user=pair.teacher, confirm=True
        )
        booking = services.respond(
            db, proposal_id=pair.proposal.id, user=pair.contact, confirm=True
        )
        assert booking is not None
        if not users:
            pair.contact.active = False
            db.add(pair.contact)
        db.commit()
        db.exec(delete(OutboxMessage))  # the mail of the booking itself
        db.commit()
        result = runner.invoke(args=["request-evaluations", "--today", "2024-03-20"])
        assert result.exit_code == 0, result.output
        address = pair.contact.email if users else "kontakt@snickeri.example"
        (mail,) = _mail_to(db, address)
        match = LINK.search(mail.body_text)
        assert match, mail.body_text
        return Ended(booking, pair.teacher, pair.contact, company, match.group(1))

    return make


@pytest.fixture
def ended(make_ended: Callable[..., Ended]) -> Ended:
    return make_ended()


def _evaluations(db: Session) -> list[Evaluation]:
    db.expire_all()
    return list(db.exec(select(Evaluation)).all())


def _link(db: Session) -> ActionLink:
    db.expire_all()
    return db.exec(
        select(ActionLink).where(ActionLink.purpose == LinkPurpose.EVALUATE)
    ).one()


def test_the_company_email_carries_the_link_and_the_school_email_does_not(
    db: Session, ended: Ended
) -> None:
    (to_teacher,) = _mail_to(db, ended.teacher.email)
    assert "/bookings/evaluate/" not in to_teacher.body_text
    assert f"/bookings/{ended.booking.id}/evaluate" in to_teacher.body_text
    # In the app the contact still finds the signed-in page.
    notice = db.exec(
        select(Notification)
        .where(Notification.user_id == ended.contact.id)
        .where(Notification.kind == "evaluation_requested")
    ).one()
    assert notice.link == f"/bookings/{ended.booking.id}/evaluate"
    link = _link(db)
    assert link.organisation_id == ended.company.id
    assert link.proposal_id == ended.booking.proposal_id
    assert link.used_at is None


def test_a_company_without_users_is_asked_at_its_contact_address(
    client: Any, db: Session, make_ended: Callable[..., Ended]
) -> None:
    ended = make_ended(users=False)
    (mail,) = _mail_to(db, "kontakt@snickeri.example")
    assert "hur gick det" in mail.subject.lower()
    assert _mail_to(db, ended.contact.email) == []
    response = client.post_form(ended.path, ANSWERS)
    assert response.status_code == 200
    (evaluation,) = _evaluations(db)
    assert evaluation.side == "company"


def test_get_shows_the_form_and_changes_nothing(
    client: Any, db: Session, ended: Ended
) -> None:
    for _ in range(2):
        response = client.get(ended.path)
        assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert 'name="overall"' in page and 'name="comment"' in page
    assert ended.company.name in page
    assert _evaluations(db) == []
    assert _link(db).used_at is None


def test_post_evaluates_once(client: Any, db: Session, ended: Ended) -> None:
    response = client.post_form(ended.path, {**ANSWERS, "comment": " Bra grupp. "})
    assert response.status_code == 200
    assert "Tack för din utvärdering." in response.get_data(as_text=True)
    (evaluation,) = _evaluations(db)
    assert (evaluation.booking_id, evaluation.side) == (ended.booking.id, "company")
    assert (evaluation.overall, evaluation.supervision, evaluation.preparation) == (
        4,
        5,
        3,
    )
    assert evaluation.comment == "Bra grupp."
    assert evaluation.created_by_id is None
    assert _link(db).used_at is not None
    assert db.exec(
        select(AuditEvent).where(AuditEvent.action == "action_link.evaluate")
    ).one()

    again = client.post_form(ended.path, {**ANSWERS, "overall": "1"})
    assert again.status_code == 410
    assert "redan använts" in again.get_data(as_text=True)
    assert client.get(ended.path).status_code == 410
    (still,) = _evaluations(db)
    assert still.overall == 4


def test_invalid_ratings_give_a_form_error_and_keep_the_link(
    client: Any, db: Session, ended: Ended
) -> None:
    out_of_range = {**ANSWERS, "overall": "9"}
    for answers, error in (
        (out_of_range, "Inte ett giltigt val"),
        ({}, "Välj ett betyg från 1 till 5."),
    ):
        response = client.post_form(ended.path, answers)
        assert response.status_code == 200
        assert error in response.get_data(as_text=True)
    assert _evaluations(db) == []
    assert _link(db).used_at is None
    assert client.post_form(ended.path, ANSWERS).status_code == 200
    assert len(_evaluations(db)) == 1


def test_an_expired_link_is_refused(client: Any, db: Session, ended: Ended) -> None:
    link = _link(db)
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.add(link)
    db.commit()
    assert client.get(ended.path).status_code == 410
    response = client.post_form(ended.path, ANSWERS)
    assert response.status_code == 410
    assert "gått ut" in response.get_data(as_text=True)
    assert _evaluations(db) == []
    assert _link(db).used_at is None


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
    client: Any, db: Session, ended: Ended, mangle: Callable[[str], str]
) -> None:
    path = f"/bookings/evaluate/{mangle(ended.token)}"
    assert client.get(path).status_code == 400
    response = client.post_form(path, ANSWERS)
    assert response.status_code == 400
    assert "inte giltig" in response.get_data(as_text=True)
    assert _evaluations(db) == []


def test_a_link_for_another_purpose_is_refused(
    app: Flask, client: Any, db: Session, ended: Ended
) -> None:
    secret = str(app.secret_key)
    raw = URLSafeSerializer(secret, salt=links.SALT).loads(ended.token)[1]
    # The evaluation token re-signed as an answer: refused by its signature
    # here, and by the stored purpose on the answer page.
    as_answer = links.sign(secret, purpose=LinkPurpose.ANSWER_PROPOSAL, raw=raw)
    assert (
        client.post_form(f"/bookings/evaluate/{as_answer}", ANSWERS).status_code == 400
    )
    answer = client.post_form(f"/bookings/answer/{as_answer}", {"confirm": "Confirm"})
    assert answer.status_code == 400
    assert _evaluations(db) == []
    assert _link(db).used_at is None


def test_a_booking_the_company_evaluated_after_signing_in_closes_the_link(
    client: Any, auth: Any, db: Session, ended: Ended
) -> None:
    auth.login(ended.contact)
    response = client.post_form(f"/bookings/{ended.booking.id}/evaluate", ANSWERS)
    assert response.status_code == 302
    auth.logout()
    for response in (client.get(ended.path), client.post_form(ended.path, ANSWERS)):
        assert response.status_code == 410
        assert "redan utvärderat" in response.get_data(as_text=True)
    assert len(_evaluations(db)) == 1
    assert _link(db).used_at is None


def test_post_without_the_csrf_token_changes_nothing(
    client: Any, db: Session, ended: Ended
) -> None:
    response = client.post(ended.path, data=ANSWERS)
    assert response.status_code in (200, 400)
    assert _evaluations(db) == []
    assert _link(db).used_at is None


def test_the_evaluation_link_is_rate_limited(
    app: Flask, client: Any, ended: Ended
) -> None:
    app.config["ACTION_LINK_LIMIT_IP"] = 3
    codes = [client.get("/bookings/evaluate/guess").status_code for _ in range(5)]
    assert codes == [400, 400, 400, 429, 429]
    assert client.get(ended.path).status_code == 429


def test_the_reminder_carries_a_fresh_link_for_the_company_only(
    client: Any, runner: Any, db: Session, ended: Ended
) -> None:
    result = runner.invoke(args=["send-reminders", "--today", "2024-03-22"])
    assert result.exit_code == 0, result.output
    assert "2 of evaluations" in result.output
    _first, reminder = _mail_to(db, ended.contact.email)
    match = LINK.search(reminder.body_text)
    assert match and match.group(1) != ended.path
    (_, to_teacher) = _mail_to(db, ended.teacher.email)
    assert "/bookings/evaluate/" not in to_teacher.body_text
    assert client.post_form(match.group(1), ANSWERS).status_code == 200
    # The booking is evaluated: the first link now shows a clear page.
    assert client.get(ended.path).status_code == 410
    count = db.exec(select(func.count()).select_from(Evaluation)).one()
    assert count == 1
