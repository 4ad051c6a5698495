"""Asking for the password again (to change it, to turn off two-step sign-in,
to delete the account) is limited like signing in: a stolen session cannot
be used to guess the password."""

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from moraspar.auth import sessions
from moraspar.models import Role, User
from tests.conftest import PASSWORD

WRONG = "not the password at all"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NEW = "a brand new passphrase for me"

PAGES: dict[str, tuple[str, str, dict[str, str]]] = {
    # page: (role, password field, other fields)
    "/password": (
        Role.TEACHER,
        "current_password",
        {"password": NEW, "confirm": NEW},
    ),
    "/profile/two-factor/disable": (Role.COMPANY, "password", {}),
    "/my-data/delete": (Role.TEACHER, "password", {}),
}


MOMENT = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def still(app: Flask) -> None:
    app.extensions["moraspar.clock"] = lambda: MOMENT  # no delay runs out


@pytest.mark.parametrize("page", sorted(PAGES))
def test_password_reentry_is_limited_like_sign_in(
    page: str, client: Any, auth: Any, make_user: Any, db: Session, still: None
) -> None:
    role, field, extra = PAGES[page]
    user = make_user(role, totp_secret=SECRET if role == Role.COMPANY else None)
    with client.session_transaction() as session:
        session.clear()
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    if role == Role.COMPANY:  # the second step, straight into the session
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.session_token
            session["_fresh"] = True
            session[sessions.SIGNED_IN_AT] = int(MOMENT.timestamp())
            session[sessions.SEEN_AT] = int(MOMENT.timestamp())
    for _ in range(5):
        assert client.post_form(page, {field: WRONG, **extra}).status_code == 200
    refused = client.post_form(page, {field: PASSWORD, **extra})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    db.expire_all()
    kept = db.get(User, user.id)
    assert kept is not None and kept.active
    assert kept.totp_secret == (SECRET if role == Role.COMPANY else None)
