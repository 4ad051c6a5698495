"""The needs browse, skill suggestions and the company page."""

from datetime import date
from typing import Any

from moraspar.models import Organisation, Role
from moraspar.reference.vocabulary import industry_label
from moraspar.search import index_text


def _need(make_need: Any, school: Organisation, **kw: Any) -> Any:
    values: dict[str, Any] = {
        "title": "APL fordon åk 2",
        "description": "Elever som läser personbilsinriktningen.",
        "skills": ["fordonsteknik"],
    }
    values.update(kw)
    values["search_text"] = index_text(
        values["title"], values["description"], values["skills"]
    )
    return make_need(school, **values)


def test_inflected_swedish_word_finds_the_need(
    client: Any, auth: Any, make_school: Any, make_need: Any, make_programme: Any
) -> None:
    school = make_school(name="Mora gymnasium")
    programme = make_programme(school, name="Industritekniska programmet")
    _need(
        make_need,
        school,
        title="Prao i svetsning",
        skills=["svetsning"],
        programme_id=programme.id,
    )
    _need(make_need, school, title="Studiebesök på bageri", skills=["bakning"])
    auth.login(Role.COMPANY, language="en")
    page = client.get("/company/needs?q=svetsare").get_data(as_text=True)
    assert "Prao i svetsning" in page
    assert "Studiebesök på bageri" not in page
    assert "Mora gymnasium" in page
    assert "Industritekniska programmet" in page
    assert "3 students" in page


def test_filters_kind_period_and_distance(
    client: Any,
    auth: Any,
    make_school: Any,
    make_need: Any,
    make_company: Any,
    make_user: Any,
) -> None:
    mora = make_school(locality="Mora", lat=61.0047, lon=14.5372)
    salen = make_school(locality="Sälen", lat=61.1580, lon=13.2660)
    for school, title, start, end in [
        (mora, "Nära vår", date(2027, 3, 1), date(2027, 4, 1)),
        (mora, "Nära höst", date(2027, 9, 1), date(2027, 10, 1)),
        (salen, "Långt bort", date(2027, 3, 1), date(2027, 4, 1)),
    ]:
        _need(make_need, school, title=title, start_date=start, end_date=end)
    _need(make_need, mora, title="Gästföreläsning", kind="guest_lecture")
    company = make_company(locality="Noret", lat=61.0105, lon=14.5560)
    auth.login(make_user(Role.COMPANY, company, language="en"))

    page = client.get("/company/needs?km=20").get_data(as_text=True)
    assert "Nära vår" in page and "Nära höst" in page
    assert "Långt bort" not in page  # Sälen is about 70 km away

    page = client.get("/company/needs?start=2027-02-01&end=2027-05-31").get_data(
        as_text=True
    )
    assert "Nära vår" in page and "Långt bort" in page
    assert "Nära höst" not in page
    assert "Gästföreläsning" in page  # no dates: any time overlaps

    page = client.get("/company/needs?kind=guest_lecture").get_data(as_text=True)
    assert "Gästföreläsning" in page and "Nära vår" not in page

    page = client.get("/company/needs?locality=Sälen").get_data(as_text=True)
    assert "Långt bort" in page and "Nära vår" not in page


def test_negative_distance_and_reversed_period_are_explained(
    client: Any, auth: Any
) -> None:
    auth.login(Role.COMPANY, language="en")
    page = client.get("/company/needs?km=-5").get_data(as_text=True)
    assert "The distance cannot be below zero" in page
    assert 'value="-5' in page
    page = client.get("/company/needs?start=2027-05-01&end=2027-04-01").get_data(
        as_text=True
    )
    assert "The end date must not be before the start date" in page


def test_closed_needs_are_not_shown(
    client: Any, auth: Any, make_school: Any, make_need: Any
) -> None:
    school = make_school()
    _need(make_need, school, title="Stängt behov", status="closed")
    auth.login(Role.COMPANY, language="en")
    page = client.get("/company/needs").get_data(as_text=True)
    assert "Stängt behov" not in page
    assert "No school has an open need right now" in page


def test_programmes_tab_searches_name_and_skills(
    client: Any, auth: Any, make_school: Any, make_programme: Any
) -> None:
    school = make_school(name="Mora gymnasium")
    make_programme(school, name="Bygg- och anläggningsprogrammet", skills=["murning"])
    make_programme(school, name="Industritekniska programmet", skills=["svetsning"])
    auth.login(Role.COMPANY, language="en")
    page = client.get("/company/needs?what=programmes&q=svetsare").get_data(
        as_text=True
    )
    assert "Industritekniska programmet" in page
    assert "Bygg- och anläggningsprogrammet" not in page
    export = client.get("/company/needs?what=programmes&q=svetsare&format=csv")
    text = export.get_data().decode("utf-8-sig")
    assert "Industritekniska programmet" in text
    assert "Bygg- och" not in text


def test_needs_export_has_all_matching_rows(
    client: Any, auth: Any, make_school: Any, make_need: Any
) -> None:
    school = make_school(name="Mora gymnasium")
    for n in range(3):
        _need(make_need, school, title=f"Svetsning {n}")
    _need(make_need, school, title="Bageri")
    auth.login(Role.COMPANY, language="en")
    page = client.get("/company/needs?q=svets").get_data(as_text=True)
    assert "format=xlsx" in page and "q=svets" in page
    response = client.get("/company/needs?q=svets&format=csv")
    text = response.get_data().decode("utf-8-sig")
    assert [line.split(";")[0] for line in text.strip().split("\r\n")[1:]] == [
        "Svetsning 0",
        "Svetsning 1",
        "Svetsning 2",
    ]


def test_needs_query_count_does_not_grow_with_rows(
    client: Any,
    auth: Any,
    make_school: Any,
    make_need: Any,
    make_programme: Any,
    count_queries: Any,
) -> None:
    auth.login(Role.COMPANY, language="en")
    school = make_school()
    programme = make_programme(school)
    _need(make_need, school, programme_id=programme.id)
    before = count_queries.count
    assert client.get("/company/needs").status_code == 200
    one_row = count_queries.count - before
    for n in range(15):
        other = make_school()
        _need(
            make_need, other, title=f"Behov {n}", programme_id=make_programme(other).id
        )
    before = count_queries.count
    response = client.get("/company/needs")
    assert "Behov 14" in response.get_data(as_text=True)
    assert count_queries.count - before == one_row


def test_skill_suggestions(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER, language="en")
    response = client.get("/vocabulary/skills?q=svets")
    assert response.status_code == 200
    assert response.is_json
    labels = response.get_json()
    assert 0 < len(labels) <= 15
    assert any(label.startswith("Svets") for label in labels)
    assert client.get("/vocabulary/skills?q=s").get_json() == []
    assert client.get("/vocabulary/skills").get_json() == []


def test_skill_suggestions_need_sign_in(client: Any) -> None:
    response = client.get("/vocabulary/skills?q=svets")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_company_page_for_a_teacher(
    client: Any,
    auth: Any,
    make_company: Any,
    make_placement: Any,
    make_skill_gap: Any,
) -> None:
    company = make_company(
        name="Mora Bil AB",
        contact_name="Eva Kontakt",
        contact_email="eva@morabil.example",
        contact_phone="0250-100 00",
        description="Bilverkstad i Noret.",
    )
    make_placement(company, title="APL i bilverkstad", places=3, places_booked=1)
    make_placement(company, title="Stängd plats", status="closed")
    make_skill_gap(company, title="Fordonstekniker")
    auth.login(Role.TEACHER, language="en")
    page = client.get(f"/company/{company.id}").get_data(as_text=True)
    assert "Mora Bil AB" in page
    assert "Eva Kontakt" in page and "eva@morabil.example" in page
    assert "0250-100 00" in page
    assert industry_label("16") in page
    assert "APL i bilverkstad" in page
    assert "2 free places" in page
    assert "Stängd plats" not in page
    assert "Fordonstekniker" in page


def test_company_page_404s(
    client: Any, auth: Any, make_company: Any, make_school: Any, make_user: Any
) -> None:
    hidden = make_company(approved=False)
    school = make_school()
    auth.login(Role.TEACHER, language="en")
    assert client.get("/company/999999").status_code == 404
    assert client.get(f"/company/{hidden.id}").status_code == 404
    assert client.get(f"/company/{school.id}").status_code == 404
    auth.logout()
    auth.login(make_user(Role.COMPANY, hidden, language="en"))
    assert client.get(f"/company/{hidden.id}").status_code == 200
    auth.logout()
    auth.login(Role.ADMIN, language="en")
    assert client.get(f"/company/{hidden.id}").status_code == 200
