"""Needs of a school: post, validate, edit, pause, close, copy, list, export."""

from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.models import AuditEvent, Need, PostingStatus, Role


def _valid(programme_id: int | str = "") -> dict[str, Any]:
    return {
        "kind": "apl",
        "programme_id": str(programme_id),
        "title": "APL svetsning åk 2",
        "description": "Elever som läser svetsteknik, andra året.",
        "skills": "svetsning, ritningsläsning",
        "students": "4",
        "start_date": "2027-02-01",
        "end_date": "2027-03-12",
        "locality": "Orsa",
        "max_km": "30",
        "requirements": "Skyddsskor",
    }


@pytest.fixture
def teacher(auth: Any, make_school: Any) -> Any:
    school = make_school(name="Mora gymnasium")
    user = auth.login(Role.TEACHER, organisation=school, language="en")
    return user, school


def test_teacher_posts_a_need(
    client: Any, db: Session, teacher: Any, make_programme: Any
) -> None:
    user, school = teacher
    programme = make_programme(school, name="Industritekniska programmet")
    response = client.post_form("/school/needs/new", _valid(programme.id))
    assert response.status_code == 302
    need = db.exec(select(Need)).one()
    assert response.headers["Location"].endswith(f"/school/needs/{need.id}")
    assert need.school_id == school.id and need.programme_id == programme.id
    assert need.status == PostingStatus.OPEN and need.created_by_id == user.id
    assert need.skills == ["svetsning", "ritningsläsning"]
    assert (need.students, need.max_km, need.locality) == (4, 30.0, "Orsa")
    assert need.lat == pytest.approx(61.12) and need.lon == pytest.approx(14.616)
    assert need.start_date == date(2027, 2, 1) and need.end_date == date(2027, 3, 12)
    # search_text holds the stems of title, skills, locality and programme.
    for stem in (" svets", " ors ", " industriteknisk", " skyddssk"):
        assert stem in need.search_text
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "need.create")).one()
    assert event.entity_id == need.id and event.actor_id == user.id
    page = client.get(f"/school/needs/{need.id}").get_data(as_text=True)
    assert "APL svetsning åk 2" in page and "Industritekniska programmet" in page


def test_form_defaults_to_school_locality_and_warns_about_personal_data(
    client: Any, teacher: Any, make_programme: Any, make_school: Any
) -> None:
    _, school = teacher
    make_programme(school, name="Vård- och omsorgsprogrammet")
    make_programme(make_school(), name="Annan skolas program")
    page = client.get("/school/needs/new").get_data(as_text=True)
    assert '<option selected value="Mora">' in page
    assert "Vård- och omsorgsprogrammet" in page
    assert "Annan skolas program" not in page
    assert "personal identity numbers" in page


INVALID = [
    (
        {"start_date": "2027-03-01", "end_date": "2027-02-01"},
        "The end date must not be before the start date.",
    ),
    ({"students": "0"}, "At least one student."),
    ({"students": "501"}, "At most 500 students."),
    ({"max_km": "-5"}, "The distance cannot be below zero."),
    ({"title": "x" * 201}, "At most 200 characters."),
    ({"title": ""}, "Enter a title."),
    (
        {"description": "Elev 050101-1234 behöver anpassning."},
        "This looks like a personal identity number.",
    ),
    ({"requirements": "Elev 200501011234"}, "This looks like a personal identity"),
    (
        {"start_date": "2027-02-01", "end_date": "2027-02-03"},
        "at least 5 weekdays",
    ),
    ({"start_date": "", "end_date": ""}, "APL and prao need a start and an end date."),
    (
        {"kind": "prao", "start_date": "2027-02-06", "end_date": "2027-02-10"},
        "at least 5 weekdays",
    ),
    (
        {"start_date": "2025-01-01", "end_date": "2025-03-01"},
        "The end date has already passed.",
    ),
    ({"locality": "Stockholm"}, "Pick a locality from the list."),
]


@pytest.mark.parametrize(("change", "message"), INVALID)
def test_invalid_need_is_refused_with_input_kept(
    client: Any, db: Session, teacher: Any, change: dict[str, str], message: str
) -> None:
    data = {**_valid(), **change}
    response = client.post_form("/school/needs/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "svetsning, ritningsläsning" in page  # what was typed is still there
    assert "Elever som läser svetsteknik" in page or "description" in change
    assert db.exec(select(Need)).all() == []


def test_study_visit_may_leave_the_dates_open(
    client: Any, db: Session, teacher: Any
) -> None:
    data = {**_valid(), "kind": "study_visit", "start_date": "", "end_date": ""}
    data["max_km"] = ""
    assert client.post_form("/school/needs/new", data).status_code == 302
    need = db.exec(select(Need)).one()
    assert need.start_date is None and need.max_km is None


def test_programme_of_another_school_is_a_form_error(
    client: Any, db: Session, teacher: Any, make_school: Any, make_programme: Any
) -> None:
    foreign = make_programme(make_school(), name="Annan skolas program")
    response = client.post_form("/school/needs/new", _valid(foreign.id))
    assert response.status_code == 200
    assert "Pick one of your school&#39;s programmes." in response.get_data(
        as_text=True
    ) or "Pick one of your school's programmes." in response.get_data(as_text=True)
    assert db.exec(select(Need)).all() == []


def test_teacher_edits_a_need(
    client: Any, db: Session, teacher: Any, make_need: Any
) -> None:
    _, school = teacher
    need = make_need(school)
    form = client.get(f"/school/needs/{need.id}/edit").get_data(as_text=True)
    assert "APL fordon åk 2" in form
    assert 'name="max_km" type="number" value="30"' in form
    data = {**_valid(), "title": "APL fordon vår", "students": "6", "version": "1"}
    response = client.post_form(f"/school/needs/{need.id}/edit", data)
    assert response.status_code == 302
    db.expire_all()
    changed = db.get(Need, need.id)
    assert (changed.title, changed.students) == ("APL fordon vår", 6)
    assert " vår " in changed.search_text
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "need.update")).one()


def test_pause_resume_and_close_with_confirmation(
    client: Any, db: Session, teacher: Any, make_need: Any
) -> None:
    _, school = teacher
    need = make_need(school)
    base = f"/school/needs/{need.id}"
    assert client.post_form(f"{base}/pause").status_code == 302
    db.expire_all()
    assert db.get(Need, need.id).status == PostingStatus.PAUSED
    client.post_form(f"{base}/resume")
    db.expire_all()
    assert db.get(Need, need.id).status == PostingStatus.OPEN

    # Closing: GET only asks; POST without the CSRF token changes nothing.
    confirm = client.get(f"{base}/close")
    assert confirm.status_code == 200
    assert "Close APL fordon åk 2?" in confirm.get_data(as_text=True)
    assert client.post(f"{base}/close").status_code == 400
    db.expire_all()
    assert db.get(Need, need.id).status == PostingStatus.OPEN
    assert client.post_form(f"{base}/close").status_code == 302
    db.expire_all()
    closed = db.get(Need, need.id)
    assert closed.status == PostingStatus.CLOSED and closed.closed_at is not None
    actions = db.exec(
        select(AuditEvent.action).where(AuditEvent.entity_id == need.id)
    ).all()
    assert {"need.paused", "need.open", "need.closed"} <= set(actions)
    # Closed is final: no editing, no resuming.
    assert client.get(f"{base}/edit").status_code == 302
    client.post_form(f"{base}/resume")
    db.expire_all()
    assert db.get(Need, need.id).status == PostingStatus.CLOSED


def test_copy_opens_the_edit_form_of_an_open_copy(
    client: Any, db: Session, teacher: Any, make_need: Any
) -> None:
    _, school = teacher
    need = make_need(school, status=PostingStatus.CLOSED)
    response = client.post_form(f"/school/needs/{need.id}/copy")
    assert response.status_code == 302
    copy = db.exec(select(Need).where(Need.id != need.id)).one()
    assert response.headers["Location"].endswith(f"/school/needs/{copy.id}/edit")
    assert copy.status == PostingStatus.OPEN
    assert (copy.title, copy.skills, copy.school_id) == (
        need.title,
        need.skills,
        school.id,
    )
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "need.copy")).one()
    assert event.entity_id == copy.id and event.details["source_id"] == need.id
    assert "APL fordon åk 2" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_other_school_gets_403(
    client: Any, auth: Any, db: Session, make_school: Any, make_need: Any
) -> None:
    need = make_need(make_school())
    auth.login(Role.TEACHER)  # a teacher at another school
    base = f"/school/needs/{need.id}"
    assert client.get(base).status_code == 403
    assert client.get(f"{base}/edit").status_code == 403
    assert client.post_form(f"{base}/edit", _valid()).status_code == 403
    assert client.post_form(f"{base}/pause").status_code == 403
    assert client.post_form(f"{base}/resume").status_code == 403
    assert client.get(f"{base}/close").status_code == 403
    assert client.post_form(f"{base}/close").status_code == 403
    assert client.post_form(f"{base}/copy").status_code == 403
    db.expire_all()
    assert db.exec(select(Need)).one().status == PostingStatus.OPEN
    assert db.exec(select(AuditEvent)).all() == []


def test_company_gets_403(
    client: Any, auth: Any, make_school: Any, make_need: Any
) -> None:
    need = make_need(make_school())
    auth.login(Role.COMPANY)
    assert client.get("/school/needs").status_code == 403
    assert client.post_form("/school/needs/new", _valid()).status_code == 403
    assert client.post_form(f"/school/needs/{need.id}/close").status_code == 403


def test_admin_may_close_any_school_need(
    client: Any, auth: Any, db: Session, make_school: Any, make_need: Any
) -> None:
    need = make_need(make_school())
    auth.login(Role.ADMIN)
    assert client.post_form(f"/school/needs/{need.id}/close").status_code == 302
    db.expire_all()
    assert db.get(Need, need.id).status == PostingStatus.CLOSED


def test_list_filters_by_status_and_kind_and_paginates(
    client: Any, teacher: Any, make_need: Any, make_school: Any
) -> None:
    _, school = teacher
    for n in range(23):
        make_need(school, title=f"APL nummer {n:02d}")
    make_need(school, title="Pausad prao", kind="prao", status="paused")
    make_need(make_school(), title="Annan skolas behov")
    first = client.get("/school/needs?kind=apl").get_data(as_text=True)
    assert "23 needs" in first
    assert "Pausad prao" not in first and "Annan skolas behov" not in first
    assert "Page 1 of 2" in first
    assert "/school/needs?kind=apl&amp;page=2" in first
    second = client.get("/school/needs?kind=apl&page=2").get_data(as_text=True)
    assert second.count("APL nummer") == 3
    paused = client.get("/school/needs?status=paused").get_data(as_text=True)
    assert "Pausad prao" in paused and "APL nummer" not in paused
    assert "1 need" in paused


def test_export_needs_as_csv_with_the_filters(
    client: Any, teacher: Any, make_need: Any
) -> None:
    _, school = teacher
    for n in range(25):
        make_need(school, title=f"APL nummer {n:02d}")
    make_need(school, title="=HYPERLINK(1)", kind="prao")
    page = client.get("/school/needs?kind=apl").get_data(as_text=True)
    assert "/school/needs?format=csv&amp;kind=apl" in page
    response = client.get("/school/needs?kind=apl&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    assert text.count("APL nummer") == 25  # every row, not one page
    assert "HYPERLINK" not in text
    everything = client.get("/school/needs?format=csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in everything
    xlsx = client.get("/school/needs?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert client.get("/school/needs?format=pdf").status_code == 400


def test_dashboard_shows_counts_and_latest_needs(
    client: Any, teacher: Any, make_need: Any
) -> None:
    _, school = teacher
    make_need(school, title="Öppet behov")
    make_need(school, title="Stängt behov", status="closed")
    page = client.get("/school/").get_data(as_text=True)
    assert "Öppet behov" in page and "Stängt behov" in page
    assert "Post a need" in page
