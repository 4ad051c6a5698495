"""Users choose which notices they get by email; each one can be turned off
from the mail itself with a signed one-click link."""

import re
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from moraspar.models import Notification, OutboxMessage, Role, User
from moraspar.notifications import mail, unsubscribe
from moraspar.notifications.services import (
    Kind,
    notify,
    set_email_notices,
    turn_off_email,
)

SECRET = "test-secret-key"  # the app's SECRET_KEY in tests/conftest.py
PARAMS = {
    "proposal_id": 1,
    "need_title": "APL fordon åk 2",
    "programme": "Fordons- och transportprogrammet",
    "school": "Mora gymnasium",
    "company": "Verkstaden AB",
    "placement_title": "APL i bilverkstad",
    "start": "2027-02-01",
    "end": "2027-05-14",
}


def _outbox(db: Session, user: User) -> list[OutboxMessage]:
    return list(
        db.exec(select(OutboxMessage).where(OutboxMessage.to_address == user.email))
    )


def _checked(page: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert tag is not None
    return " checked" in tag.group(0)


def _notify(db: Session, user: User, kind: str = Kind.BOOKING_CREATED) -> None:
    notify(db, users=[user], kind=kind, params=PARAMS, link="/bookings/")
    db.commit()


def test_a_turned_off_kind_is_not_emailed_but_still_shown(
    db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TEACHER)
    set_email_notices(
        db, user=user, enabled={Kind.PROPOSAL_APPROVED, Kind.CONFIRMATION_NEEDED}
    )
    _notify(db, user, Kind.BOOKING_CREATED)
    assert _outbox(db, user) == []
    assert db.exec(select(Notification).where(Notification.user_id == user.id)).one()
    _notify(db, user, Kind.PROPOSAL_APPROVED)
    assert len(_outbox(db, user)) == 1


def test_notice_email_carries_a_one_click_unsubscribe_link(
    db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TEACHER)
    db.info[unsubscribe.SIGNING_INFO] = SECRET
    _notify(db, user)
    (message,) = _outbox(db, user)
    token = message.unsubscribe_url.rpartition("/unsubscribe/")[2]
    assert unsubscribe.load_token(SECRET, token) == (user.id, Kind.BOOKING_CREATED)
    email = mail.build_message(message, "Moraspår <noreply@mora.example>")
    assert email["List-Unsubscribe"] == f"<{message.unsubscribe_url}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.get_content_type() == "text/plain"


def test_unsubscribe_link_asks_on_get_and_turns_off_on_one_click_post(
    client: Any, db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TEACHER, language="en")
    token = unsubscribe.make_token(SECRET, user_id=user.id, kind=Kind.BOOKING_CREATED)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "A booking is made" in page.get_data(as_text=True)
    db.refresh(user)
    assert user.email_notices == {}  # a GET (a link scanner) changes nothing
    done = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "no longer get this notice" in done.get_data(as_text=True)
    db.refresh(user)
    assert user.email_notices == {Kind.BOOKING_CREATED: False}
    _notify(db, user)
    assert _outbox(db, user) == []


def test_unsubscribe_page_is_in_the_users_language(
    client: Any, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TEACHER, language="sv")
    token = unsubscribe.make_token(SECRET, user_id=user.id, kind=Kind.BOOKING_CREATED)
    page = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "En bokning har gjorts" in page


def test_a_forged_or_foreign_token_is_refused(
    client: Any, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TEACHER)
    forged = unsubscribe.make_token(
        "another-key", user_id=user.id, kind=Kind.BOOKING_CREATED
    )
    assert client.post(f"/unsubscribe/{forged}").status_code == 404
    assert client.post("/unsubscribe/not-a-token").status_code == 404


def test_profile_turns_kinds_off_and_on(client: Any, auth: Any, db: Session) -> None:
    user = auth.login(Role.TEACHER, language="en")
    page = client.get("/profile").get_data(as_text=True)
    assert "A booking is made" in page
    assert _checked(page, "notice_booking_created")
    response = client.post_form(
        "/profile",
        {
            "display_name": user.display_name,
            "language": "en",
            "notice_proposal_approved": "y",
        },
    )
    assert response.status_code == 302
    db.refresh(user)
    assert user.email_notices[Kind.PROPOSAL_APPROVED] is True
    assert user.email_notices[Kind.BOOKING_CREATED] is False
    page = client.get("/profile").get_data(as_text=True)
    assert not _checked(page, "notice_booking_created")
    assert _checked(page, "notice_proposal_approved")


def test_turn_off_email_leaves_other_kinds_on(
    db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TEACHER)
    turn_off_email(db, user=user, kind=Kind.EVALUATION_REQUESTED)
    db.commit()
    _notify(db, user, Kind.EVALUATION_REQUESTED)
    assert _outbox(db, user) == []
    _notify(db, user, Kind.CONFIRMATION_NEEDED)
    assert len(_outbox(db, user)) == 1
