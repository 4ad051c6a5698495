"""Placements through the test client: post, edit, pause, close, copy, access."""

from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from moraspar.models import AuditEvent, Organisation, Placement, Role


def _valid(**overrides: Any) -> dict[str, Any]:
    data = {
        "version": "1",  # what an edit form of a fresh placement carries
        "kind": "apl",
        "title": "APL i svetsverkstaden",
        "description": "Eleverna svetsar och bockar plåt.",
        "tasks": "MIG-svetsning, kapning",
        "skills": "Svetsning, truckkort",
        "places": "3",
        "start_date": "2027-01-11",
        "end_date": "2027-03-19",
        "locality": "Mora",
        "supervisor_name": "Kim Handledare",
        "supervisor_contact": "kim@svets.example",
        "supervisor_trained": "y",
        "requirements": "Skyddsskor",
    }
    data.update(overrides)
    return data


def _company(db: Any, user: Any) -> Organisation:
    company: Organisation = db.get(Organisation, user.organisation_id)
    return company


def _placements(db: Any) -> list[Placement]:
    db.expire_all()
    return list(db.exec(select(Placement)).all())


def test_post_a_placement(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    response = client.post_form("/company/placements/new", _valid())
    assert response.status_code == 302
    [placement] = _placements(db)
    assert placement.company_id == user.organisation_id
    assert placement.skills == ["Svetsning", "truckkort"]
    assert placement.places == 3
    assert placement.start_date == date(2027, 1, 11)
    assert placement.supervisor_trained is True
    assert (placement.lat, placement.lon) == (61.0047, 14.5372)
    assert placement.created_by_id == user.id
    # Stemmed search text with the company's name.
    assert " svets" in placement.search_text
    assert _company(db, user).name.split()[0].lower() in placement.search_text
    actions = [e.action for e in db.exec(select(AuditEvent)).all()]
    assert actions == ["placement.create"]
    listing = client.get("/company/placements").get_data(as_text=True)
    assert "APL i svetsverkstaden" in listing


def test_new_form_defaults_to_the_company_locality(
    client: Any, auth: Any, make_company: Any, make_user: Any
) -> None:
    company = make_company(locality="Orsa", lat=61.12, lon=14.616)
    auth.login(make_user(Role.COMPANY, company, language="en"))
    page = client.get("/company/placements/new").get_data(as_text=True)
    assert '<option selected value="Orsa">' in page or 'value="Orsa" selected' in page
    assert "js/tags.js" in page
    assert 'data-tags="skills"' in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_date": "2027-01-04"}, "The end date must not be before the start date"),
        ({"places": "0"}, "Offer at least one place"),
        ({"places": "101"}, "At most 100 places"),
        ({"title": "x" * 201}, "At most 200 characters"),
        ({"title": ""}, "Enter a title"),
        (
            {"supervisor_contact": "ring mig"},
            "Write an email address or a phone number",
        ),
        ({"description": "Eleven 050101-1234 kommer"}, "personal identity number"),
    ],
)
def test_invalid_placement_is_not_saved(
    client: Any, auth: Any, db: Any, overrides: dict[str, str], message: str
) -> None:
    auth.login(Role.COMPANY, language="en")
    response = client.post_form("/company/placements/new", _valid(**overrides))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "Kim Handledare" in page  # nothing typed is lost
    assert "Svetsning, truckkort" in page
    assert _placements(db) == []
    assert db.exec(select(AuditEvent)).all() == []


def test_edit_a_placement(client: Any, auth: Any, db: Any, make_placement: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    placement = make_placement(_company(db, user))
    response = client.post_form(
        f"/company/placements/{placement.id}/edit", _valid(title="Ny titel")
    )
    assert response.status_code == 302
    [saved] = _placements(db)
    assert saved.title == "Ny titel"
    event = db.exec(select(AuditEvent)).one()
    assert event.action == "placement.update"
    assert "title" in event.details["fields"]


def test_places_below_booked_is_refused(
    client: Any, auth: Any, db: Any, make_placement: Any
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    placement = make_placement(_company(db, user), places=4, places_booked=3)
    response = client.post_form(
        f"/company/placements/{placement.id}/edit", _valid(places="2", title="Ändrad")
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "3 places are already booked" in page
    assert 'value="Ändrad"' in page
    [saved] = _placements(db)
    assert (saved.places, saved.title) == (4, "APL i bilverkstad")


def test_another_company_may_not_change_a_placement(
    client: Any, auth: Any, db: Any, make_company: Any, make_placement: Any
) -> None:
    placement = make_placement(make_company())
    auth.login(Role.COMPANY, language="en")
    base = f"/company/placements/{placement.id}"
    assert client.get(f"{base}/edit").status_code == 403
    assert client.post_form(f"{base}/edit", _valid()).status_code == 403
    assert client.post_form(f"{base}/close").status_code == 403
    assert client.post_form(f"{base}/copy").status_code == 403
    status = client.post_form(f"{base}/status", {"status": "paused"})
    assert status.status_code == 403
    [saved] = _placements(db)
    assert (saved.title, saved.status) == ("APL i bilverkstad", "open")
    assert db.exec(select(AuditEvent)).all() == []


def test_admin_may_change_any_placement(
    client: Any, auth: Any, db: Any, make_company: Any, make_placement: Any
) -> None:
    placement = make_placement(make_company())
    auth.login(Role.ADMIN, language="en")
    response = client.post_form(
        f"/company/placements/{placement.id}/edit", _valid(title="Admin rättade")
    )
    assert response.status_code == 302
    assert _placements(db)[0].title == "Admin rättade"


def test_teacher_gets_403_on_company_routes(
    client: Any, auth: Any, make_company: Any, make_placement: Any
) -> None:
    placement = make_placement(make_company())
    auth.login(Role.TEACHER, language="en")
    for url in (
        "/company/",
        "/company/placements",
        "/company/placements/new",
        f"/company/placements/{placement.id}/edit",
        f"/company/placements/{placement.id}/close",
        "/company/skill-gaps",
        "/company/skill-gaps/new",
        "/company/needs",
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post_form(f"/company/placements/{placement.id}/copy").status_code == 403
    )


def test_close_needs_confirmation_and_is_audited(
    client: Any, auth: Any, db: Any, make_placement: Any
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    placement = make_placement(_company(db, user))
    url = f"/company/placements/{placement.id}/close"
    page = client.get(url)
    assert page.status_code == 200
    assert "Close the placement" in page.get_data(as_text=True)
    assert _placements(db)[0].status == "open"  # a GET changes nothing
    response = client.post_form(url)
    assert response.status_code == 302
    [saved] = _placements(db)
    assert saved.status == "closed"
    assert saved.closed_at is not None
    event = db.exec(select(AuditEvent)).one()
    assert (event.action, event.entity_id) == ("placement.closed", placement.id)


def test_pause_and_resume(client: Any, auth: Any, db: Any, make_placement: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    placement = make_placement(_company(db, user))
    url = f"/company/placements/{placement.id}/status"
    assert client.post_form(url, {"status": "paused"}).status_code == 302
    assert _placements(db)[0].status == "paused"
    assert client.post_form(url, {"status": "open"}).status_code == 302
    assert _placements(db)[0].status == "open"
    assert client.post_form(url, {"status": "closed"}).status_code == 400
    actions = [e.action for e in db.exec(select(AuditEvent)).all()]
    assert sorted(actions) == ["placement.open", "placement.paused"]


def test_copy_makes_a_new_open_placement(
    client: Any, auth: Any, db: Any, make_placement: Any
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    placement = make_placement(
        _company(db, user), status="closed", places_booked=2, skills=["svetsning"]
    )
    response = client.post_form(f"/company/placements/{placement.id}/copy")
    assert response.status_code == 302
    rows = _placements(db)
    assert len(rows) == 2
    copy = next(p for p in rows if p.id != placement.id)
    assert response.headers["Location"].endswith(f"/placements/{copy.id}/edit")
    assert (copy.status, copy.places_booked, copy.title) == (
        "open",
        0,
        "APL i bilverkstad",
    )
    assert copy.skills == ["svetsning"]
    event = db.exec(select(AuditEvent)).one()
    assert event.action == "placement.copy"


def test_unapproved_company_cannot_post(
    client: Any,
    auth: Any,
    db: Any,
    make_company: Any,
    make_user: Any,
    make_placement: Any,
) -> None:
    company = make_company(approved=False)
    placement = make_placement(company)
    auth.login(make_user(Role.COMPANY, company, language="en"))
    home = client.get("/company/").get_data(as_text=True)
    assert "Waiting for approval" in home
    form = client.get("/company/placements/new")
    assert form.status_code == 403
    assert "waiting for approval" in form.get_data(as_text=True)
    assert client.post_form("/company/placements/new", _valid()).status_code == 403
    copy = client.post_form(f"/company/placements/{placement.id}/copy")
    assert copy.status_code == 403
    assert len(_placements(db)) == 1
    assert db.exec(select(AuditEvent)).all() == []


def test_list_filters_by_status_and_kind(
    client: Any, auth: Any, db: Any, make_placement: Any
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    company = _company(db, user)
    make_placement(company, title="Öppen APL")
    make_placement(company, title="Pausad prao", kind="prao", status="paused")
    page = client.get("/company/placements?status=paused").get_data(as_text=True)
    assert "Pausad prao" in page and "Öppen APL" not in page
    page = client.get("/company/placements?kind=apl").get_data(as_text=True)
    assert "Öppen APL" in page and "Pausad prao" not in page
    assert "format=csv" in page and "kind=apl" in page


def test_export_passes_the_filters(
    client: Any, auth: Any, db: Any, make_placement: Any
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    company = _company(db, user)
    make_placement(company, title="=HYPERLINK(1)")
    make_placement(company, title="Prao", kind="prao")
    response = client.get("/company/placements?kind=apl&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    assert "Prao" not in text.split("\r\n", 1)[1]
    xlsx = client.get("/company/placements?format=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.get_data()[:2] == b"PK"
    assert client.get("/company/placements?format=pdf").status_code == 400


def test_list_query_count_does_not_grow_with_rows(
    client: Any, auth: Any, db: Any, make_placement: Any, count_queries: Any
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    company = _company(db, user)
    make_placement(company)
    before = count_queries.count
    assert client.get("/company/placements").status_code == 200
    one_row = count_queries.count - before
    for n in range(19):
        make_placement(company, title=f"Plats {n}")
    before = count_queries.count
    response = client.get("/company/placements")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('/edit"') == 20
    assert count_queries.count - before == one_row


def test_list_paginates(client: Any, auth: Any, db: Any, make_placement: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    company = _company(db, user)
    for n in range(25):
        make_placement(company, title=f"Plats {n:02d}")
    response = client.get("/company/placements?page=2")
    assert response.status_code == 200
    assert "Page 2 of 2" in response.get_data(as_text=True)
