"""Security headers on every kind of response, set by the app itself."""

from typing import Any

import pytest

from moraspar import create_app
from moraspar.models import Role

EXPECTED = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _assert_headers(response: Any) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("url", ["/login", "/register", "/reset", "/privacy"])
def test_public_pages_carry_every_header(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    _assert_headers(response)
    assert response.headers["Cache-Control"] == "no-store"  # the CSRF token


def test_authenticated_pages_are_not_stored(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    for url in ("/school/", "/profile"):
        response = client.get(url)
        assert response.status_code == 200
        _assert_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_authenticated_json_is_not_stored(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    response = client.get("/healthz")
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"


def test_error_pages_carry_the_headers(client: Any, auth: Any) -> None:
    _assert_headers(client.get("/no-such-page"))
    auth.login(Role.COMPANY)
    response = client.get("/admin/")
    assert response.status_code == 403
    _assert_headers(response)


def test_static_files_stay_cacheable(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_hsts_only_in_production(client: Any, monkeypatch: Any) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setenv("MORASPAR_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("MORASPAR_TOTP_KEY", "k" * 43 + "=")
    app = create_app(
        {
            "DATABASE_URL": "sqlite://",
            "ENV": "production",
            "BASE_URL": "https://moraspar.test",
        }
    )
    with app.app_context():
        from sqlmodel import SQLModel

        from moraspar.db import get_engine

        SQLModel.metadata.create_all(get_engine())
    response = app.test_client().get("/login", base_url="https://moraspar.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_nul_bytes_in_a_form_are_refused(client: Any, make_user: Any) -> None:
    user = make_user(Role.TEACHER)
    response = client.post_form("/login", {"email": user.email, "password": "a\x00b"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.COUNCIL, "/council/board?locality=%00x"),
        (Role.COUNCIL, "/gaps/?locality=%00"),
        (Role.ADMIN, "/admin/users?q=a%00b"),
        (Role.ADMIN, "/admin/audit?entity=%00"),
        (Role.TEACHER, "/school/needs?x%00=1"),
        (None, "/login?next=%00"),
    ],
)
def test_nul_bytes_in_a_query_string_are_refused(
    client: Any, auth: Any, role: Any, url: str
) -> None:
    if role is not None:
        auth.login(role)
    response = client.get(url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "nolltecken" in page
    assert "site-header" in page  # the site's own layout, not a bare error


def test_nul_bytes_in_a_query_string_of_a_post_are_refused(
    client: Any, auth: Any, db: Any
) -> None:
    user = auth.login(Role.TEACHER)
    response = client.post_form("/language?x=%00", {"language": "en"})
    assert response.status_code == 400
    db.expire_all()
    assert db.get(type(user), user.id).language == "sv"
