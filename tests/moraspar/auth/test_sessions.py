"""How long a sign-in lasts, what remember-me may do, what reset links carry."""

import base64
import re
import time
from datetime import UTC, datetime
from typing import Any

import pyotp
from sqlmodel import Session, select

from moraspar.auth import sessions
from moraspar.models import OutboxMessage, Role, User
from tests.conftest import PASSWORD

SECRET = pyotp.random_base32()


def _cookie(client: Any, name: str) -> Any:
    return client.get_cookie(name, domain="moraspar.test")


def _age(client: Any, *, idle: int = 0, since_sign_in: int = 0) -> None:
    with client.session_transaction() as session:
        session[sessions.SEEN_AT] -= idle
        session[sessions.SIGNED_IN_AT] -= since_sign_in


def test_remember_me_lasts_at_most_30_days(client: Any, make_user: Any) -> None:
    user = make_user(Role.TEACHER)
    client.post_form(
        "/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    cookie = _cookie(client, "remember_token")
    assert cookie is not None
    expires = cookie.expires
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    days = (expires - datetime.now(UTC)).total_seconds() / 86400
    assert 29 < days <= 30


def test_session_ends_after_two_idle_hours(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    _age(client, idle=2 * 3600 - 120)
    assert client.get("/school/").status_code == 200  # still in, and seen now
    _age(client, idle=2 * 3600 + 1)
    response = client.get("/school/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_session_ends_twelve_hours_after_sign_in(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    _age(client, since_sign_in=12 * 3600 + 1)  # though active all along
    assert client.get("/school/").status_code == 302


def test_a_session_without_times_is_not_trusted(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    with client.session_transaction() as session:
        del session[sessions.SIGNED_IN_AT]
    assert client.get("/school/").status_code == 302


def test_remember_me_starts_a_new_session_after_the_timeout(
    client: Any, make_user: Any
) -> None:
    user = make_user(Role.TEACHER)
    client.post_form(
        "/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    _age(client, idle=3 * 3600, since_sign_in=3 * 3600)
    assert client.get("/school/").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session[sessions.SIGNED_IN_AT] < 60


def test_no_remember_me_past_a_second_factor(client: Any, make_user: Any) -> None:
    user = make_user(Role.COMPANY, totp_secret=SECRET)
    client.post_form(
        "/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    response = client.post_form("/login/code", {"code": pyotp.TOTP(SECRET).now()})
    assert response.status_code == 302
    assert client.get("/company/").status_code == 200
    assert _cookie(client, "remember_token") is None


def test_turning_on_the_second_factor_ends_remembered_sessions(
    app: Any, client: Any, make_user: Any
) -> None:
    user = make_user(Role.COMPANY)
    other = app.test_client()
    other.post_form(
        "/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    remembered = _cookie(other, "remember_token").value
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    page = client.get("/profile/two-factor").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page)
    assert secret
    turned_on = client.post_form(
        "/profile/two-factor", {"code": pyotp.TOTP(secret[1]).now()}
    )
    assert turned_on.status_code == 302
    assert client.get("/company/").status_code == 200  # this browser stays in
    replay = app.test_client()
    replay.set_cookie("remember_token", remembered, domain="moraspar.test")
    assert replay.get("/company/").status_code == 302


def _payload(token: str) -> str:
    data = token.split(".")[0]
    compressed = data.startswith(".")
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    assert not compressed
    return raw.decode("latin-1")


def test_reset_links_carry_no_session_secret(
    client: Any, make_user: Any, db: Session
) -> None:
    user = make_user(Role.TEACHER)
    client.post_form("/reset", {"email": user.email})
    body = db.exec(select(OutboxMessage.body_text)).one()
    token = re.search(r"/reset/(\S+)", body)[1]  # type: ignore[index]
    payload = _payload(token)
    assert user.session_token not in payload
    assert user.session_token[:16] not in payload
    assert str(user.password_hash) not in payload
    assert client.get(f"/reset/{token}").status_code == 200


def test_reset_link_dies_when_the_password_changes(
    client: Any, auth: Any, make_user: Any, db: Session
) -> None:
    user = make_user(Role.TEACHER)
    client.post_form("/reset", {"email": user.email})
    body = db.exec(select(OutboxMessage.body_text)).one()
    path = re.search(r"/reset/\S+", body)[0]  # type: ignore[index]
    stored = db.get(User, user.id)
    assert stored is not None
    stored.password_hash = "$argon2id$changed-elsewhere"
    db.add(stored)
    db.commit()
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/reset")
