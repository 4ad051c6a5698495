"""The demo accounts sign in over HTTP and reach their Swedish home pages."""

from typing import Any

import pytest

DEMO_HOMES = {
    "teacher@moraspar.example": ("/school/", "Mora gymnasium"),
    "company@moraspar.example": ("/company/", "Färnäs Bygg &amp; Montage AB"),
    "council@moraspar.example": ("/council/", "Kompetensråd"),
    "admin@moraspar.example": ("/admin/", "Administration"),
}


@pytest.fixture
def demo_client(app: Any, client: Any, runner: Any) -> Any:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "teacher@moraspar.example" in result.output
    return client


@pytest.mark.parametrize("email", sorted(DEMO_HOMES))
def test_demo_account_signs_in_to_its_home(demo_client: Any, email: str) -> None:
    login_page = demo_client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in login_page
    response = demo_client.post_form(
        "/login", {"email": email, "password": "moraspar-demo"}, follow_redirects=True
    )
    home, heading = DEMO_HOMES[email]
    assert response.status_code == 200
    assert response.request.path == home
    page = response.get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert heading in page
    assert "Logga ut" in page


def test_seeding_twice_duplicates_nothing(runner: Any, db: Any) -> None:
    from sqlmodel import func, select

    from moraspar.models import Organisation, Placement

    runner.invoke(args=["seed-demo"])
    counts = (
        db.exec(select(func.count()).select_from(Organisation)).one(),
        db.exec(select(func.count()).select_from(Placement)).one(),
    )
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    again = (
        db.exec(select(func.count()).select_from(Organisation)).one(),
        db.exec(select(func.count()).select_from(Placement)).one(),
    )
    assert counts == again
    assert counts[0] >= 40
