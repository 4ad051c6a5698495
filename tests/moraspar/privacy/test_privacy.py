"""Own-data download, self-service deletion, retention purge."""

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.models import AuditEvent, MatchProposal, Role, User, utcnow
from moraspar.privacy import services
from tests.conftest import PASSWORD


def test_user_downloads_own_data_without_secrets(
    client: Any, auth: Any, make_school: Any, make_need: Any, db: Session
) -> None:
    school = make_school()
    user = auth.login(Role.TEACHER, organisation=school)
    make_need(school, created_by_id=user.id, title="APL bygg vt27")
    response = client.get("/my-data/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["user"]["email"] == user.email
    assert data["organisation"]["name"] == school.name
    assert [n["title"] for n in data["needs"]] == ["APL bygg vt27"]
    body = response.get_data(as_text=True)
    assert user.password_hash not in body
    assert user.session_token not in body
    assert "password_hash" not in data["user"]


def test_other_users_data_is_not_in_the_export(
    client: Any, auth: Any, make_user: Any, make_school: Any, make_need: Any
) -> None:
    school = make_school()
    other = make_user(Role.TEACHER, organisation=school)
    make_need(school, created_by_id=other.id, title="Someone else's need")
    auth.login(Role.TEACHER, organisation=school)
    data = client.get("/my-data/export.json").get_json()
    assert data["needs"] == []


def test_deletion_needs_the_password_and_anonymises(
    app: Any, client: Any, auth: Any, db: Session, make_company: Any
) -> None:
    user = auth.login(Role.COMPANY, organisation=make_company())
    email = user.email
    wrong = client.post_form("/my-data/delete", {"password": "not my password"})
    assert wrong.status_code == 200
    db.expire_all()
    assert db.get(User, user.id).active is True  # type: ignore[union-attr]

    response = client.post_form("/my-data/delete", {"password": PASSWORD})
    assert response.status_code == 302
    db.expire_all()
    gone = db.get(User, user.id)
    assert gone is not None
    assert gone.email != email and gone.email.endswith("@invalid.example")
    assert gone.display_name == "Borttagen användare"
    assert gone.password_hash is None and gone.active is False
    assert gone.anonymised_at is not None
    assert client.get("/company/").status_code == 302  # signed out
    relogin = app.test_client().post_form(
        "/login", {"email": email, "password": PASSWORD}
    )
    assert relogin.status_code == 200
    actions = db.exec(select(AuditEvent.action)).all()
    assert "user.anonymise" in actions


def test_last_admin_cannot_delete_themselves(
    client: Any, auth: Any, db: Session
) -> None:
    admin = auth.login(Role.ADMIN, language="en")
    response = client.post_form(
        "/my-data/delete", {"password": PASSWORD}, follow_redirects=True
    )
    assert "You are the last administrator" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, admin.id).active is True  # type: ignore[union-attr]


def test_an_admin_may_go_while_another_active_one_stays(
    make_user: Any, db: Session
) -> None:
    admin = make_user(Role.ADMIN)
    make_user(Role.ADMIN, active=False)  # a deactivated one does not count
    with pytest.raises(services.LastAdmin):
        services.anonymise_user(db, user=admin, actor=admin)
    make_user(Role.ADMIN)
    services.anonymise_user(db, user=admin, actor=admin)
    assert admin.active is False


def test_purge_blanks_old_contacts_only(
    runner: Any,
    db: Session,
    make_company: Any,
    make_school: Any,
    make_placement: Any,
    make_need: Any,
) -> None:
    company = make_company()
    old = make_placement(
        company, status="closed", closed_at=utcnow() - timedelta(days=800)
    )
    recent = make_placement(
        company, status="closed", closed_at=utcnow() - timedelta(days=30)
    )
    open_one = make_placement(company)
    need = make_need(make_school())
    proposal = MatchProposal(
        need_id=need.id,
        placement_id=old.id,
        status="declined",
        comment="Ring Kim på 070-123 45 67",
        updated_at=utcnow() - timedelta(days=800),
    )
    db.add(proposal)
    db.commit()

    result = runner.invoke(args=["purge", "--months", "24"])
    assert result.exit_code == 0, result.output
    assert "1 placements" in result.output
    db.expire_all()
    assert db.get(type(old), old.id).supervisor_name == ""  # type: ignore[union-attr]
    assert db.get(type(recent), recent.id).supervisor_name == "Kim Handledare"  # type: ignore[union-attr]
    assert db.get(type(open_one), open_one.id).supervisor_contact != ""  # type: ignore[union-attr]
    assert db.get(MatchProposal, proposal.id).comment == ""  # type: ignore[union-attr]
