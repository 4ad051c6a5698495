"""An admin turns a user's second factor off, e.g. after a lost phone."""

from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest
from babel.dates import format_date
from sqlmodel import Session, select

from moraspar.admin import services
from moraspar.models import AuditEvent, OutboxMessage, Role, User, utcnow
from moraspar.reference.locales import format_locale
from tests.conftest import PASSWORD

SECRET = pyotp.random_base32()


def _signed_in_with_code(app: Any, user: User) -> Any:
    browser = app.test_client()
    browser.post_form("/login", {"email": user.email, "password": PASSWORD})
    code = browser.post_form("/login/code", {"code": pyotp.TOTP(SECRET).now()})
    assert code.status_code == 302
    assert browser.get("/company/").status_code == 200
    return browser


def _stored(db: Session, user: User) -> User:
    db.expire_all()
    stored = db.get(User, user.id)
    assert stored is not None
    return stored


def test_admin_turns_it_off_and_the_user_is_signed_out(
    app: Any, client: Any, auth: Any, make_user: Any, db: Session
) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET, display_name="Kim Verkstad")
    browser = _signed_in_with_code(app, user)
    old_token = user.session_token
    admin = auth.login(Role.ADMIN, language="en")

    listing = client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{user.id}/two-factor" in listing

    response = client.post_form(f"/admin/users/{user.id}/two-factor")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/users")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Two-step sign-in is off for Kim Verkstad" in page

    stored = _stored(db, user)
    assert stored.totp_secret is None
    assert stored.session_token != old_token
    assert browser.get("/company/").status_code == 302  # signed out everywhere
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "user.totp_reset")
    ).one()
    assert (event.actor_id, event.entity, event.entity_id) == (
        admin.id,
        "user",
        user.id,
    )


def test_afterwards_the_password_alone_signs_in(
    app: Any, client: Any, auth: Any, make_user: Any
) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET)
    auth.login(Role.ADMIN)
    client.post_form(f"/admin/users/{user.id}/two-factor")

    browser = app.test_client()
    response = browser.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert not response.headers["Location"].endswith("/login/code")
    assert browser.get("/company/").status_code == 200


def _outbox(db: Session) -> list[OutboxMessage]:
    db.expire_all()
    return list(db.exec(select(OutboxMessage)).all())


def _today_in_mora(language: str) -> str:
    return format_date(
        utcnow().astimezone(ZoneInfo("Europe/Stockholm")),
        "long",
        locale=format_locale(language),
    )


@pytest.mark.parametrize(
    ("language", "subject", "sentences"),
    [
        (
            "sv",
            "Moraspår: tvåstegsinloggningen är avstängd för ditt konto",
            ["Näringslivskontoret i Mora kommun stängde av", "från din profilsida"],
        ),
        (
            "en",
            "Moraspår: two-step sign-in is turned off on your account",
            ["The business office of Mora municipality turned off", "profile page"],
        ),
    ],
)
def test_the_user_is_told_by_email_in_their_language(
    client: Any,
    auth: Any,
    make_user: Any,
    db: Session,
    language: str,
    subject: str,
    sentences: list[str],
) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET, language=language)
    other = "en" if language == "sv" else "sv"
    auth.login(Role.ADMIN, language=other)  # the admin's language must not leak
    before = _today_in_mora(language)

    client.post_form(f"/admin/users/{user.id}/two-factor")

    messages = _outbox(db)
    assert [(m.to_address, m.subject) for m in messages] == [(user.email, subject)]
    body = messages[0].body_text
    for sentence in sentences:
        assert sentence in body
    assert before in body or _today_in_mora(language) in body  # when it happened
    assert "http://127.0.0.1:5000/profile\n" in body
    assert SECRET not in body


def test_a_confirmation_page_comes_first(
    client: Any, auth: Any, make_user: Any, db: Session
) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET, display_name="Kim Verkstad")
    auth.login(Role.ADMIN)  # Swedish, the default
    page = client.get(f"/admin/users/{user.id}/two-factor")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Stäng av tvåstegsinloggning för Kim Verkstad?" in text
    assert 'name="csrf_token"' in text
    assert _stored(db, user).totp_secret == SECRET  # nothing happens on GET
    without_token = client.post(f"/admin/users/{user.id}/two-factor")
    assert without_token.status_code == 400
    assert _stored(db, user).totp_secret == SECRET


@pytest.mark.parametrize("role", [Role.COMPANY, Role.TEACHER, Role.COUNCIL])
def test_only_admins_may(
    client: Any, auth: Any, make_user: Any, db: Session, role: Role
) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET)
    auth.login(role)
    assert client.get(f"/admin/users/{user.id}/two-factor").status_code == 403
    assert client.post_form(f"/admin/users/{user.id}/two-factor").status_code == 403
    assert _stored(db, user).totp_secret == SECRET


def test_a_user_without_it_gets_a_message(
    client: Any, auth: Any, make_user: Any, db: Session
) -> None:
    user = make_user(Role.TEACHER, display_name="Alex Lärare")
    old_token = user.session_token
    auth.login(Role.ADMIN, language="en")
    assert f"/admin/users/{user.id}/two-factor" not in client.get(
        "/admin/users"
    ).get_data(as_text=True)
    for response in (
        client.get(f"/admin/users/{user.id}/two-factor", follow_redirects=True),
        client.post_form(f"/admin/users/{user.id}/two-factor", follow_redirects=True),
    ):
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "Alex Lärare does not use two-step sign-in" in text
    assert _stored(db, user).session_token == old_token
    events = db.exec(select(AuditEvent).where(AuditEvent.entity_id == user.id))
    assert events.all() == []
    assert _outbox(db) == []


def test_an_admin_turns_their_own_off_on_the_profile_page(
    client: Any, auth: Any, make_user: Any, db: Session
) -> None:
    admin = make_user(Role.ADMIN, totp_secret=SECRET, language="en")
    client.post_form("/login", {"email": admin.email, "password": PASSWORD})
    client.post_form("/login/code", {"code": pyotp.TOTP(SECRET).now()})
    response = client.post_form(
        f"/admin/users/{admin.id}/two-factor", follow_redirects=True
    )
    assert "on your profile page" in response.get_data(as_text=True)
    assert _stored(db, admin).totp_secret is not None  # still on
    assert _outbox(db) == []
    assert client.get("/admin/").status_code == 200  # still signed in


def test_unknown_user_is_not_found(client: Any, auth: Any) -> None:
    auth.login(Role.ADMIN)
    assert client.get("/admin/users/999999/two-factor").status_code == 404


def test_the_service_refuses_a_user_without_it(make_user: Any, db: Session) -> None:
    admin = make_user(Role.ADMIN)
    user = make_user(Role.COMPANY)
    with pytest.raises(services.TwoFactorNotOn):
        services.turn_off_two_factor(db, user=user, actor=admin)
    assert _outbox(db) == []
