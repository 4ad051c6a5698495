"""Programmes of a school: create, edit, deactivate, ownership."""

from typing import Any

from sqlmodel import Session, select

from moraspar.models import AuditEvent, Programme, Role

VALID = {
    "version": "1",  # what an edit form of a fresh programme carries
    "name": "El- och energiprogrammet",
    "code": "EE",
    "orientation": "Elteknik",
    "level": "gymnasium",
    "description": "Elinstallation i bostäder.",
    "skills": "elinstallation, ritningsläsning",
    "places_per_year": "16",
}


def test_teacher_adds_a_programme(
    client: Any, auth: Any, db: Session, make_school: Any
) -> None:
    school = make_school()
    user = auth.login(Role.TEACHER, organisation=school, language="en")
    response = client.post_form("/school/programmes/new", VALID)
    assert response.status_code == 302
    programme = db.exec(select(Programme)).one()
    assert programme.school_id == school.id
    assert programme.skills == ["elinstallation", "ritningsläsning"]
    assert programme.places_per_year == 16
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "programme.create")
    ).one()
    assert event.actor_id == user.id and event.entity_id == programme.id
    page = client.get("/school/programmes").get_data(as_text=True)
    assert "El- och energiprogrammet" in page
    assert "Upper secondary school" in page


def test_invalid_programme_keeps_input_and_writes_nothing(
    client: Any, auth: Any, db: Session
) -> None:
    auth.login(Role.TEACHER, language="en")
    data = {**VALID, "name": "", "places_per_year": "-3", "level": "university"}
    response = client.post_form("/school/programmes/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter the name of the programme." in page
    assert "The number cannot be below zero." in page
    assert "Pick a level from the list." in page
    assert "elinstallation, ritningsläsning" in page  # kept
    assert db.exec(select(Programme)).all() == []


def test_edit_and_deactivate_with_confirmation(
    client: Any, auth: Any, db: Session, make_school: Any, make_programme: Any
) -> None:
    school = make_school()
    programme = make_programme(school)
    auth.login(Role.TEACHER, organisation=school, language="en")
    url = f"/school/programmes/{programme.id}"
    assert "Fordons- och transportprogrammet" in client.get(f"{url}/edit").get_data(
        as_text=True
    )
    response = client.post_form(f"{url}/edit", {**VALID, "name": "Fordon"})
    assert response.status_code == 302
    confirm = client.get(f"{url}/active")
    assert confirm.status_code == 200
    assert "Deactivate Fordon?" in confirm.get_data(as_text=True)
    db.expire_all()
    assert db.get(Programme, programme.id).active is True  # GET changes nothing
    assert client.post_form(f"{url}/active").status_code == 302
    db.expire_all()
    assert db.get(Programme, programme.id).name == "Fordon"
    assert db.get(Programme, programme.id).active is False
    actions = db.exec(select(AuditEvent.action)).all()
    assert "programme.update" in actions and "programme.deactivate" in actions
    client.post_form(f"{url}/active")
    db.expire_all()
    assert db.get(Programme, programme.id).active is True


def test_other_school_cannot_edit_programme(
    client: Any, auth: Any, db: Session, make_school: Any, make_programme: Any
) -> None:
    programme = make_programme(make_school())
    auth.login(Role.TEACHER)  # a teacher of another school
    url = f"/school/programmes/{programme.id}"
    assert client.get(f"{url}/edit").status_code == 403
    assert client.post_form(f"{url}/edit", VALID).status_code == 403
    assert client.post_form(f"{url}/active").status_code == 403
    db.expire_all()
    assert db.get(Programme, programme.id).active is True


def test_company_cannot_open_programmes(client: Any, auth: Any) -> None:
    auth.login(Role.COMPANY)
    assert client.get("/school/programmes").status_code == 403
    assert client.post_form("/school/programmes/new", VALID).status_code == 403
