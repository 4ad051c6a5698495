"""Links in emails come from BASE_URL, and requests for other hosts are refused.

A link built from the request's Host header would let anyone who can send a
request (with someone's email address) get a valid reset token mailed as a
link to their own site.
"""

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, select

from moraspar import create_app
from moraspar.models import OutboxMessage, Role
from moraspar.web.links import external_url
from tests.conftest import AuthActions, Client

EVIL = {"Host": "evil.example"}


@pytest.fixture
def site(engine: sa.Engine, tmp_path: Any) -> Flask:
    """The app as deployed at https://moraspar.example, but opened (in
    development) as localhost, a host it trusts without being the site's.
    The forms' CSRF check is off, so that a request for a foreign host is
    refused for its host, not for a cookie the test client keeps per host."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": str(engine.url),
            "DATABASE_ENGINE": engine,
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "BASE_URL": "https://moraspar.example",
            "WTF_CSRF_ENABLED": False,
        }
    )
    app.test_client_class = Client
    return app


@pytest.fixture
def local(site: Flask) -> Client:
    return site.test_client()  # type: ignore[return-value]


REGISTRATION = {
    "company_name": "Östnor Svets AB",
    "org_number": "556036-0793",
    "locality": "Östnor",
    "contact_name": "Anna Svetsare",
    "email": "anna@ostnorsvets.example",
    "password": "svetsning är kul",
    "confirm": "svetsning är kul",
}


def _bodies(db: Session) -> list[str]:
    return [m.body_text for m in db.exec(select(OutboxMessage)).all()]


def test_reset_for_a_foreign_host_is_refused_and_mails_nothing(
    local: Client, make_user: Any, db: Session
) -> None:
    user = make_user(Role.TEACHER)
    response = local.post_form("/reset", {"email": user.email}, headers=EVIL)
    assert response.status_code == 400
    assert "Felaktig begäran" in response.get_data(as_text=True)
    assert _bodies(db) == []


def test_registration_for_a_foreign_host_is_refused_and_mails_nothing(
    local: Client, make_user: Any, db: Session
) -> None:
    make_user(Role.ADMIN)
    response = local.post_form("/register", REGISTRATION, headers=EVIL)
    assert response.status_code == 400
    assert _bodies(db) == []
    assert not any("evil.example" in body for body in _bodies(db))


def test_a_foreign_host_gets_a_400_on_any_page(client: Any) -> None:
    for url in ("/login", "/healthz", "/static/css/app.css", "/no-such-page"):
        response = client.get(url, headers=EVIL)
        assert response.status_code == 400, url


def test_the_reset_link_is_built_from_base_url(
    local: Client, make_user: Any, db: Session
) -> None:
    user = make_user(Role.TEACHER)
    response = local.post_form("/reset", {"email": user.email})
    assert response.status_code == 302
    [body] = _bodies(db)
    assert "https://moraspar.example/reset/" in body
    assert "localhost" not in body


def test_the_registration_mail_links_to_base_url(
    local: Client, make_user: Any, db: Session
) -> None:
    make_user(Role.ADMIN)
    response = local.post_form("/register", REGISTRATION)
    assert response.status_code == 302
    bodies = _bodies(db)  # the admins' notice and the company's own receipt
    assert any("https://moraspar.example/admin/organisations" in b for b in bodies)
    assert not any("localhost" in b for b in bodies)


def test_the_invitation_link_is_built_from_base_url(
    local: Client, make_user: Any, db: Session, make_school: Any
) -> None:
    school = make_school()
    AuthActions(local, make_user).login(Role.ADMIN)
    response = local.post_form(
        "/admin/users/invite",
        {
            "email": "ny.larare@noret.example",
            "display_name": "Ny Lärare",
            "role": "teacher",
            "organisation_id": school.id,
            "language": "sv",
        },
    )
    assert response.status_code == 302
    [body] = _bodies(db)
    assert "https://moraspar.example/invite/" in body
    assert "localhost" not in body


def test_external_url_needs_no_request_and_keeps_a_path_prefix(app: Flask) -> None:
    with app.app_context():
        assert external_url("auth.login") == "http://moraspar.test/login"
        app.config["BASE_URL"] = "https://kommun.example/moraspar"
        assert external_url("auth.reset_password", token="t") == (
            "https://kommun.example/moraspar/reset/t"
        )


def test_no_link_is_built_from_the_request_host() -> None:
    """Every absolute link goes through web.links.external_url (BASE_URL)."""
    from pathlib import Path

    package = Path(__file__).resolve().parents[3] / "moraspar"
    offenders = [
        str(source.relative_to(package))
        for source in package.rglob("*.py")
        if source.name != "links.py"
        and "_external=True" in source.read_text(encoding="utf-8")
    ]
    assert offenders == []
