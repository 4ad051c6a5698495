"""The application shell: health, languages, error pages, configuration."""

import re
from typing import Any

import pytest

from moraspar import create_app
from moraspar.config import ConfigError
from moraspar.models import Role


def test_healthz_answers_json(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_pages_are_swedish_by_default(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "Logga in" in page


def test_language_switch_to_english(client: Any) -> None:
    response = client.post_form("/language", {"language": "en", "next": "/login"})
    assert response.status_code == 302
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in" in page


def test_user_language_follows_the_user(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER, language="en")
    page = client.get("/school/").get_data(as_text=True)
    assert '<html lang="en">' in page


def test_404_page_is_friendly_and_swedish(client: Any) -> None:
    response = client.get("/login/does-not-exist")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Sidan finns inte" in page
    assert "Traceback" not in page


def test_403_page_for_wrong_role(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "behörighet" in response.get_data(as_text=True)


def test_500_page_hides_the_stack_trace(app: Any, client: Any) -> None:
    def broken() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", "main.broken", broken)
    from moraspar.web import access

    access.RULES["main.broken"] = access.Access.PUBLIC  # type: ignore[index]
    try:
        response = client.get("/broken")
    finally:
        del access.RULES["main.broken"]  # type: ignore[attr-defined]
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page
    assert "Något gick fel" in page


def test_production_refuses_the_default_secret(monkeypatch: Any) -> None:
    monkeypatch.setenv("MORASPAR_ENV", "production")
    monkeypatch.delenv("MORASPAR_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app({"DATABASE_URL": "sqlite://"})
    monkeypatch.setenv("MORASPAR_SECRET_KEY", "x" * 40)
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_session_cookie_flags(client: Any, make_user: Any) -> None:
    from tests.conftest import PASSWORD

    user = make_user(Role.TEACHER)
    response = client.post_form(
        "/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    cookies = response.headers.getlist("Set-Cookie")
    for name in ("session", "remember_token"):
        cookie = next(c for c in cookies if c.startswith(name + "="))
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


_EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.mark.parametrize("role", [None, *list(Role)])
def test_no_page_references_an_external_host(
    app: Any, client: Any, auth: Any, role: Any
) -> None:
    if role is not None:
        auth.login(role)
    urls = ["/login", "/register", "/reset", "/privacy", "/accessibility"]
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and not rule.arguments:
            urls.append(rule.rule)
    for url in sorted(set(urls)):
        response = client.get(url)
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        assert not _EXTERNAL.search(page), f"{url} links to an external host"
