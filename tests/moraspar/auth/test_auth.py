"""Sign-in, sign-out, session invalidation, passwords, registration."""

import re
from typing import Any

from sqlmodel import Session, select

from moraspar.models import AuditEvent, Organisation, OutboxMessage, Role, User
from tests.conftest import PASSWORD

HOMES = {
    Role.TEACHER: "/school/",
    Role.COMPANY: "/company/",
    Role.COUNCIL: "/council/",
    Role.ADMIN: "/admin/",
}


def test_each_role_lands_on_its_own_home(client: Any, auth: Any) -> None:
    for role, home in HOMES.items():
        auth.login(role)
        response = client.get("/")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(home)
        assert client.get(home).status_code == 200
        auth.logout()


def test_wrong_password_is_refused_in_swedish(client: Any, make_user: Any) -> None:
    user = make_user(Role.TEACHER)
    response = client.post_form("/login", {"email": user.email, "password": "nope" * 4})
    assert response.status_code == 200
    assert "Fel e-postadress eller lösenord" in response.get_data(as_text=True)
    assert client.get("/school/").status_code == 302


def test_email_is_case_insensitive(client: Any, make_user: Any) -> None:
    make_user(Role.TEACHER, email="larare@skola.example")
    response = client.post_form(
        "/login", {"email": "  LARARE@Skola.Example ", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_next_parameter_only_allows_local_paths(client: Any, make_user: Any) -> None:
    user = make_user(Role.ADMIN)
    response = client.post_form(
        "/login?next=https://evil.example/",
        {"email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"
    client.post_form("/logout")
    response = client.post_form(
        "/login?next=/admin/users", {"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/admin/users"


def test_login_without_csrf_token_is_refused(client: Any, make_user: Any) -> None:
    user = make_user(Role.TEACHER)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/school/").status_code == 302


def _cookie(client: Any, name: str) -> str | None:
    cookie = client.get_cookie(name, domain="moraspar.test")
    return cookie.value if cookie else None


def test_logout_invalidates_old_session_and_remember_cookie(
    app: Any, client: Any, make_user: Any
) -> None:
    user = make_user(Role.TEACHER)
    client.post_form(
        "/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    old_session = _cookie(client, "session")
    old_remember = _cookie(client, "remember_token")
    assert old_session and old_remember
    client.post_form("/logout")

    replay = app.test_client()
    replay.set_cookie("session", old_session, domain="moraspar.test")
    replay.set_cookie("remember_token", old_remember, domain="moraspar.test")
    response = replay.get("/school/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_password_change_signs_out_other_devices(
    app: Any, client: Any, make_user: Any
) -> None:
    user = make_user(Role.COMPANY)
    other = app.test_client()
    other.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert other.get("/company/").status_code == 200

    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    response = client.post_form(
        "/password",
        {
            "current_password": PASSWORD,
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/company/").status_code == 200  # this browser stays in
    assert other.get("/company/").status_code == 302  # the other one is out


def test_password_change_validates(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    page = client.post_form(
        "/password",
        {"current_password": "wrong one here", "password": "short", "confirm": "x"},
    ).get_data(as_text=True)
    assert "minst 12 tecken" in page or "12 till 256" in page
    assert "stämmer inte" in page


def test_deactivation_ends_sessions(
    app: Any, client: Any, make_user: Any, db: Session
) -> None:
    teacher = make_user(Role.TEACHER)
    teacher_client = app.test_client()
    teacher_client.post_form("/login", {"email": teacher.email, "password": PASSWORD})
    admin = make_user(Role.ADMIN)
    client.post_form("/login", {"email": admin.email, "password": PASSWORD})
    confirm = client.get(f"/admin/users/{teacher.id}/active")
    assert confirm.status_code == 200  # a confirmation step first
    response = client.post_form(f"/admin/users/{teacher.id}/active")
    assert response.status_code == 302
    assert teacher_client.get("/school/").status_code == 302
    again = app.test_client().post_form(
        "/login", {"email": teacher.email, "password": PASSWORD}
    )
    assert again.status_code == 200
    db.expire_all()
    assert db.get(User, teacher.id).active is False  # type: ignore[union-attr]
    actions = db.exec(select(AuditEvent.action)).all()
    assert "user.deactivate" in actions


def _link_from_outbox(db: Session, to: str, pattern: str) -> str:
    message = db.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == to)
    ).first()
    assert message is not None
    match = re.search(pattern, message.body_text)
    assert match, message.body_text
    return match.group(0)


def test_password_reset_by_emailed_token(
    app: Any, client: Any, make_user: Any, db: Session
) -> None:
    user = make_user(Role.COMPANY)
    response = client.post_form("/reset", {"email": user.email.upper()})
    assert response.status_code == 302
    link = _link_from_outbox(db, user.email, r"http://moraspar\.test/reset/\S+")
    path = link.removeprefix("http://moraspar.test")
    assert client.get(path).status_code == 200
    response = client.post_form(
        path, {"password": "my new long password", "confirm": "my new long password"}
    )
    assert response.status_code == 302
    # The link is single-use: the token rotated with the password.
    assert client.get(path).status_code == 302
    assert (
        client.post_form(
            "/login", {"email": user.email, "password": "my new long password"}
        ).status_code
        == 302
    )


def test_reset_for_unknown_email_says_the_same(client: Any, db: Session) -> None:
    response = client.post_form("/reset", {"email": "nobody@example.se"})
    assert response.status_code == 302
    assert db.exec(select(OutboxMessage)).first() is None


def test_company_registers_and_waits_for_approval(client: Any, db: Session) -> None:
    data = {
        "company_name": "Östnor Svets AB",
        "org_number": "556036-0793",
        "locality": "Östnor",
        "contact_name": "Anna Svetsare",
        "email": "anna@ostnorsvets.example",
        "password": "svetsning är kul",
        "confirm": "svetsning är kul",
    }
    response = client.post_form("/register", data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    welcome = db.exec(select(OutboxMessage)).one()
    assert welcome.to_address == "anna@ostnorsvets.example"
    client.post_form("/login", {"email": data["email"], "password": data["password"]})
    page = client.get("/company/").get_data(as_text=True)
    assert "Väntar på godkännande" in page
    company = db.exec(
        select(Organisation).where(Organisation.name == "Östnor Svets AB")
    ).one()
    assert company.approved is False
    assert company.org_number == "556036-0793"
    assert company.lat is not None  # placed by the gazetteer


def _registration(email: str, org_number: str = "556036-0793") -> dict[str, str]:
    return {
        "company_name": "Östnor Svets AB",
        "org_number": org_number,
        "locality": "Östnor",
        "contact_name": "Anna Svetsare",
        "email": email,
        "password": "svetsning är kul",
        "confirm": "svetsning är kul",
    }


def test_registration_does_not_tell_whether_an_address_has_an_account(
    app: Any, client: Any, make_user: Any, db: Session
) -> None:
    owner = make_user(Role.TEACHER)
    free = client.post_form(
        "/register", _registration("ny@ostnorsvets.example"), follow_redirects=True
    )
    taken = app.test_client().post_form(
        "/register",
        _registration(owner.email.upper(), org_number="556677-8899"),
        follow_redirects=True,
    )
    assert free.status_code == taken.status_code == 200

    def answer(response: Any, email: str) -> str:
        page = response.get_data(as_text=True).replace(email, "EMAIL")
        return re.sub(r'name="csrf_token"[^>]*>', "", page)  # differs per visitor

    assert answer(free, "ny@ostnorsvets.example") == answer(taken, owner.email)
    assert db.exec(select(Organisation)).all()[-1].org_number == "556036-0793"
    assert len(db.exec(select(Organisation)).all()) == 2  # the owner's and the new
    told = db.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == owner.email)
    ).one()
    assert "already has an account" in told.body_text or "redan ett konto" in (
        told.body_text
    )


def test_registration_is_limited_per_address(
    app: Any, client: Any, db: Session
) -> None:
    app.config["REGISTER_LIMIT_IP"] = 2
    numbers = ["556036-0793", "556677-8899", "556016-0680"]
    codes = [
        client.post_form(
            "/register", _registration(f"n{i}@example.se", org_number=number)
        ).status_code
        for i, number in enumerate(numbers)
    ]
    assert codes == [302, 302, 429]
    assert len(db.exec(select(Organisation)).all()) == 2


def test_registration_reports_each_bad_field(client: Any, db: Session) -> None:
    response = client.post_form(
        "/register",
        {
            "company_name": "Felaktiga AB",
            "org_number": "556036-0794",
            "locality": "Mora",
            "contact_name": "X",
            "email": "inte-en-adress",
            "password": "kort",
            "confirm": "annat",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "kontrollsiffran" in page.lower()
    assert "giltig e-postadress" in page
    assert 'value="Felaktiga AB"' in page  # nothing the user typed is lost
    assert db.exec(select(Organisation)).first() is None


def test_invited_user_sets_password_and_signs_in(
    client: Any, auth: Any, db: Session, make_school: Any
) -> None:
    school = make_school(name="Noretskolan")
    auth.login(Role.ADMIN)
    response = client.post_form(
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
    auth.logout()
    link = _link_from_outbox(
        db, "ny.larare@noret.example", r"http://moraspar\.test/invite/\S+"
    )
    path = link.removeprefix("http://moraspar.test")
    response = client.post_form(
        path, {"password": "ett långt lösenord", "confirm": "ett långt lösenord"}
    )
    assert response.status_code == 302
    assert client.get("/school/").status_code == 200
