"""The optional second factor for company accounts."""

import re
from datetime import UTC, datetime
from typing import Any

import pyotp
from sqlmodel import Session, select

from moraspar.models import AuditEvent, Role, User
from tests.conftest import PASSWORD

SECRET = pyotp.random_base32()


def _code(secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).now()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_company_user_turns_two_step_sign_in_on_and_off(
    client: Any, auth: Any, db: Session
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    page = client.get("/profile/two-factor")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", text)
    assert secret, "the key is shown as text"
    assert "otpauth://totp/" in text
    assert 'src="data:image/svg+xml;base64,' in text  # the QR code, no script

    wrong = client.post_form("/profile/two-factor", {"code": _wrong(_code(secret[1]))})
    assert wrong.status_code == 200
    assert "does not match" in wrong.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, user.id).totp_secret is None  # type: ignore[union-attr]

    right = client.post_form("/profile/two-factor", {"code": _code(secret[1])})
    assert right.status_code == 302
    db.expire_all()
    assert db.get(User, user.id).totp_secret == secret[1]  # type: ignore[union-attr]
    assert "on" in client.get("/profile").get_data(as_text=True)

    refused = client.post_form("/profile/two-factor/disable", {"password": "nope"})
    assert refused.status_code == 200
    assert "password is wrong" in refused.get_data(as_text=True)
    off = client.post_form("/profile/two-factor/disable", {"password": PASSWORD})
    assert off.status_code == 302
    db.expire_all()
    assert db.get(User, user.id).totp_secret is None  # type: ignore[union-attr]
    actions = set(db.exec(select(AuditEvent.action)).all())
    assert {"user.totp_enable", "user.totp_disable"} <= actions


def test_teachers_have_no_second_factor_page(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    assert client.get("/profile/two-factor").status_code == 403


def test_sign_in_asks_for_the_code(client: Any, make_user: Any) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET, language="en")
    response = client.post_form(
        "/login?next=/company/placements", {"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login/code")
    assert client.get("/company/").status_code == 302  # not signed in yet

    wrong = client.post_form("/login/code", {"code": _wrong(_code())})
    assert wrong.status_code == 200
    # The visitor is not signed in yet: the page is in the session language (sv).
    assert "Koden är fel eller har gått ut" in wrong.get_data(as_text=True)
    assert client.get("/company/").status_code == 302

    right = client.post_form("/login/code", {"code": _code()})
    assert right.status_code == 302
    assert right.headers["Location"] == "/company/placements"
    assert client.get("/company/").status_code == 200


def test_a_code_works_only_once(client: Any, auth: Any, make_user: Any) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET)
    code = _code()
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert client.post_form("/login/code", {"code": code}).status_code == 302
    auth.logout()
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    replay = client.post_form("/login/code", {"code": code})
    assert replay.status_code == 200
    assert client.get("/company/").status_code == 302


def test_code_step_is_rate_limited(app: Any, client: Any, make_user: Any) -> None:
    moment = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    app.extensions["moraspar.clock"] = lambda: moment  # no delay runs out
    user = make_user(Role.COMPANY, totp_secret=SECRET)
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    wrong = _wrong(_code())
    for _ in range(5):
        assert client.post_form("/login/code", {"code": wrong}).status_code == 200
    response = client.post_form("/login/code", {"code": _code()})
    assert response.status_code == 429
    # Entering the password again does not reset the count of guessed codes.
    again = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert again.status_code == 429


def test_code_page_without_a_password_step_sends_back(client: Any) -> None:
    response = client.get("/login/code")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_pending_step_dies_when_the_session_token_rotates(
    client: Any, make_user: Any, db: Session
) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET)
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    stored = db.get(User, user.id)
    assert stored is not None
    stored.session_token = "rotated-" + stored.session_token[:40]
    db.add(stored)
    db.commit()
    response = client.post_form("/login/code", {"code": _code()})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert client.get("/company/").status_code == 302
