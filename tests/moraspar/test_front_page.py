"""The public front page: what Moraspår is, for whom, how to start, sign-in."""

from typing import Any

import pytest
from flask import Flask

from moraspar.models import Role
from tests.conftest import PASSWORD


def test_a_visitor_gets_the_front_page_in_swedish(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Moraspår – där Moras skolor möter arbetslivet" in html
    for who in ("Skolor", "Företag", "Kompetensrådet", "Näringslivskontoret"):
        assert f"<dt>{who}</dt>" in html
    assert 'href="/register"' in html
    assert 'href="mailto:naringsliv@moraspar.example"' in html
    assert 'action="/login"' in html and 'name="password"' in html


def test_the_front_page_speaks_english_when_asked(client: Any) -> None:
    client.post_form("/language", {"language": "en", "next": "/"})
    html = client.get("/").get_data(as_text=True)
    assert "where Mora" in html and "schools meet working life" in html
    assert "Schools join by invitation from the business office." in html
    assert "Register your company" in html


def test_the_business_office_address_comes_from_the_configuration(
    app: Flask, client: Any
) -> None:
    app.config["BUSINESS_OFFICE_EMAIL"] = "skola@mora.example"
    html = client.get("/").get_data(as_text=True)
    assert 'href="mailto:skola@mora.example"' in html


def test_signing_in_from_the_front_page_lands_on_the_roles_home(
    client: Any, make_user: Any
) -> None:
    user = make_user(Role.COMPANY)
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 302
    assert home.headers["Location"].endswith("/company/")


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COUNCIL, Role.ADMIN])
def test_signed_in_users_still_go_to_their_own_page(
    client: Any, auth: Any, role: Role
) -> None:
    auth.login(role)
    response = client.get("/")
    assert response.status_code == 302
    assert "Moraspår – där" not in response.get_data(as_text=True)
