"""The optional second factor for company accounts."""

import re
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session, select

from moraspar import create_app
from moraspar.auth import totp
from moraspar.config import ConfigError
from moraspar.models import AuditEvent, Role, User
from tests.conftest import PASSWORD

SECRET = pyotp.random_base32()


def _code(secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).now()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_company_user_turns_two_step_sign_in_on_and_off(
    app: Any, client: Any, auth: Any, db: Session
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
    stored = db.get(User, user.id).totp_secret  # type: ignore[union-attr]
    assert stored and secret[1] not in stored  # encrypted, never in clear
    assert totp.secret_box(app.config).open(stored) == (secret[1], False)
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


def test_a_secret_stored_in_clear_is_encrypted_when_first_used(
    app: Any, client: Any, make_user: Any, db: Session
) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET)  # as an older version stored
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert client.post_form("/login/code", {"code": _code()}).status_code == 302
    db.expire_all()
    stored = db.get(User, user.id).totp_secret  # type: ignore[union-attr]
    assert stored and SECRET not in stored
    assert totp.secret_box(app.config).open(stored)[0] == SECRET


def test_keys_rotate(app: Any, client: Any, make_user: Any, db: Session) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = totp.secret_box({"TOTP_KEY": old}).seal(SECRET)
    user = make_user(Role.COMPANY, totp_secret=sealed)
    app.config["TOTP_KEY"] = f"{new},{old}"
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert client.post_form("/login/code", {"code": _code()}).status_code == 302
    db.expire_all()
    stored = db.get(User, user.id).totp_secret  # type: ignore[union-attr]
    assert stored is not None
    assert totp.secret_box({"TOTP_KEY": new}).open(stored) == (SECRET, False)


def test_production_refuses_to_start_without_a_totp_key(monkeypatch: Any) -> None:
    monkeypatch.setenv("MORASPAR_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("MORASPAR_BASE_URL", "https://moraspar.mora.se")
    monkeypatch.delenv("MORASPAR_TOTP_KEY", raising=False)
    with pytest.raises(ConfigError, match="TOTP_KEY"):
        create_app({"DATABASE_URL": "sqlite://", "ENV": "production"})


@pytest.mark.parametrize("code", ["٣٣٣٣٣٣", "①②③④⑤⑥", "１２３４５６"])
def test_digits_of_other_scripts_are_a_form_error(
    client: Any, auth: Any, make_user: Any, code: str
) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET, language="en")
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    response = client.post_form("/login/code", {"code": code})
    assert response.status_code == 200
    assert "siffrorna 0" in response.get_data(as_text=True)  # not signed in: sv
    assert client.get("/company/").status_code == 302
    setup = make_user(Role.COMPANY, language="en")
    auth.login(setup)
    client.get("/profile/two-factor")
    response = client.post_form("/profile/two-factor", {"code": code})
    assert response.status_code == 200
    assert "digits 0 to 9" in response.get_data(as_text=True)


def test_matching_step_refuses_digits_of_other_scripts() -> None:
    assert totp.matching_step(SECRET, "٣٣٣٣٣٣", datetime.now(UTC)) is None
