"""Session fixation: signing in starts a fresh session."""

from typing import Any

from moraspar.models import Role
from tests.conftest import PASSWORD


def test_sign_in_discards_whatever_the_session_held(
    client: Any, make_user: Any
) -> None:
    user = make_user(Role.TEACHER)
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["_user_id"] = "forged-token"
    before = client.get_cookie("session", domain="moraspar.test").value
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    after = client.get_cookie("session", domain="moraspar.test").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == user.session_token


def test_sign_out_clears_the_session(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    with client.session_transaction() as session:
        session["planted"] = "left behind"
    auth.logout()
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "_user_id" not in session
