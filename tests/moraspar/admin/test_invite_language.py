"""Every email is written in its recipient's language, not the sender's."""

from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.models import OutboxMessage, Role

INVITED = "ny.larare@noret.example"


@pytest.mark.parametrize(
    ("admin_language", "invited_language", "subject"),
    [
        ("en", "sv", "Du är inbjuden till Moraspår"),
        ("sv", "en", "You are invited to Moraspår"),
    ],
)
def test_invitation_is_in_the_invited_users_language(
    client: Any,
    auth: Any,
    db: Session,
    make_school: Any,
    admin_language: str,
    invited_language: str,
    subject: str,
) -> None:
    school = make_school(name="Noretskolan")
    auth.login(Role.ADMIN, language=admin_language)
    response = client.post_form(
        "/admin/users/invite",
        {
            "email": INVITED,
            "display_name": "Ny Lärare",
            "role": "teacher",
            "organisation_id": school.id,
            "language": invited_language,
        },
    )
    assert response.status_code == 302
    message = db.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == INVITED)
    ).one()
    assert message.subject == subject
    greeting = "Hej Ny Lärare" if invited_language == "sv" else "Hello Ny Lärare"
    assert greeting in message.body_text


def test_password_reset_is_in_the_account_language(
    client: Any, db: Session, make_user: Any
) -> None:
    user = make_user(Role.TEACHER, language="en")
    with client.session_transaction() as browser:
        browser["lang"] = "sv"  # the page is Swedish, the account English
    response = client.post_form("/reset", {"email": user.email})
    assert response.status_code == 302
    message = db.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == user.email)
    ).one()
    assert message.subject == "Reset your Moraspår password"


def test_the_invite_form_picks_no_organisation_and_asks_for_one(
    client: Any, auth: Any, db: Session, make_school: Any
) -> None:
    make_school(name="Noretskolan")
    auth.login(Role.ADMIN, language="sv")
    form = client.get("/admin/users/invite").get_data(as_text=True)
    assert '<option selected value="">Välj en organisation</option>' in form

    response = client.post_form(
        "/admin/users/invite",
        {
            "email": INVITED,
            "display_name": "Ny Lärare",
            "role": "teacher",
            "organisation_id": "",
            "language": "sv",
        },
    )

    assert response.status_code == 200
    assert "Välj användarens organisation." in response.get_data(as_text=True)
    assert (
        db.exec(
            select(OutboxMessage).where(OutboxMessage.to_address == INVITED)
        ).first()
        is None
    )
