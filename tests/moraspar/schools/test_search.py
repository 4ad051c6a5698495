"""The placement search of school staff: text, filters, ranking, pages, queries."""

import re
from datetime import date
from typing import Any

import pytest

from moraspar.models import Role
from moraspar.reference.gazetteer import km_between
from moraspar.search import index_text

MORA = (61.0047, 14.5372)


@pytest.fixture
def teacher(auth: Any, make_school: Any) -> Any:
    school = make_school(locality="Mora", lat=MORA[0], lon=MORA[1])
    return auth.login(Role.TEACHER, organisation=school, language="en")


@pytest.fixture
def place(make_company: Any, make_placement: Any) -> Any:
    """A placement with its search_text filled, as the companies' service does."""
    companies: dict[str, Any] = {}

    def make(title: str, *, company: Any = None, **kw: Any) -> Any:
        if company is None:
            company = companies.get("default") or make_company(name="Verkstad AB")
            companies.setdefault("default", company)
        kw.setdefault("description", "")
        kw.setdefault("skills", [])
        kw["search_text"] = index_text(
            title, kw["description"], kw["skills"], company.name
        )
        return make_placement(company, title=title, **kw)

    return make


def _titles(page: str) -> list[str]:
    return re.findall(r"<h3>([^<]+)</h3>", page)


def test_inflected_swedish_word_finds_the_placement(
    client: Any, teacher: Any, place: Any
) -> None:
    place("Svetsning av stålkonstruktioner", skills=["MIG-svetsning"])
    place("Frisörsalong", description="Klippning och färgning.")
    page = client.get("/school/search?q=svetsare").get_data(as_text=True)
    assert _titles(page) == ["Svetsning av stålkonstruktioner"]
    assert "1 placement found" in page
    assert _titles(client.get("/school/search?q=klipper").get_data(as_text=True)) == [
        "Frisörsalong"
    ]


def test_only_open_placements_of_approved_companies(
    client: Any, teacher: Any, place: Any, make_company: Any
) -> None:
    place("Öppen svets")
    place("Pausad svets", status="paused")
    place("Stängd svets", status="closed")
    place("Ej godkänd svets", company=make_company(approved=False))
    page = client.get("/school/search?q=svets").get_data(as_text=True)
    assert _titles(page) == ["Öppen svets"]


def test_period_filter_keeps_overlapping_and_open_ended_placements(
    client: Any, teacher: Any, place: Any
) -> None:
    place("Vårtermin", start_date=date(2027, 1, 11), end_date=date(2027, 6, 4))
    place("Hösttermin", start_date=date(2027, 8, 16), end_date=date(2027, 12, 17))
    place("När som helst", start_date=None, end_date=None)
    place("Från mars", start_date=date(2027, 3, 20), end_date=None)
    page = client.get("/school/search?start=2027-03-01&end=2027-03-31")
    titles = _titles(page.get_data(as_text=True))
    assert sorted(titles) == ["Från mars", "När som helst", "Vårtermin"]
    # End before start is refused with its own message, not silently ignored.
    bad = client.get("/school/search?start=2027-03-31&end=2027-03-01")
    assert "The end date must not be before the start date." in bad.get_data(
        as_text=True
    )


def test_distance_filter_uses_the_exact_distance_from_the_school(
    client: Any, teacher: Any, place: Any, make_company: Any
) -> None:
    orsa = make_company(name="Orsa Snickeri", locality="Orsa", lat=61.12, lon=14.616)
    place("Snickeri i Orsa", company=orsa, lat=None, lon=None)  # company position
    north40 = (MORA[0] + 40 / 111.2, MORA[1])
    corner = (MORA[0] + 27 / 111.2, MORA[1] + 27 / 53.9)  # in the box, ~38 km away
    assert km_between(MORA, north40) == pytest.approx(40, abs=0.5)
    assert km_between(MORA, corner) > 30
    place("Fyrtio km norrut", lat=north40[0], lon=north40[1])
    place("Hörnet av rutan", lat=corner[0], lon=corner[1])
    page = client.get("/school/search?km=30").get_data(as_text=True)
    assert _titles(page) == ["Snickeri i Orsa"]
    assert "13.5 km from the school" in page
    wide = client.get("/school/search?km=50").get_data(as_text=True)
    assert len(_titles(wide)) == 3
    negative = client.get("/school/search?km=-1").get_data(as_text=True)
    assert "The distance cannot be below zero." in negative
    assert _titles(negative) == []


def test_kind_locality_industry_and_free_places_filters(
    client: Any, teacher: Any, place: Any, make_organisation: Any
) -> None:
    bygg = make_organisation("company", name="Bygg AB", locality="Orsa", sni_code="41")
    place("Prao bygg", company=bygg, kind="prao", locality="Orsa")
    place("APL fullbokad", places=2, places_booked=2)
    place("APL ledig", places=3, places_booked=1)
    assert _titles(client.get("/school/search?kind=prao").get_data(as_text=True)) == [
        "Prao bygg"
    ]
    orsa = client.get("/school/search?locality=Orsa").get_data(as_text=True)
    assert _titles(orsa) == ["Prao bygg"]
    industry = client.get("/school/search?industry=41").get_data(as_text=True)
    assert _titles(industry) == ["Prao bygg"]
    free = _titles(client.get("/school/search?free=y").get_data(as_text=True))
    assert "APL fullbokad" not in free and "APL ledig" in free
    page = client.get("/school/search?q=ledig").get_data(as_text=True)
    assert "2 of 3" in page  # free places of places


def test_ranked_by_relevance_then_soonest_start(
    client: Any, teacher: Any, place: Any
) -> None:
    place("Lager sent", description="truck", start_date=date(2027, 9, 1))
    place("Lager tidigt", description="truck", start_date=date(2027, 2, 1))
    place("Gaffeltruck", description="Lagret", start_date=date(2027, 1, 1))
    place("Truckkort och lager", description="", start_date=date(2027, 5, 1))
    place("Bara lager", start_date=date(2027, 1, 1))  # lacks a word: no hit
    titles = _titles(client.get("/school/search?q=lager+truck").get_data(as_text=True))
    # Title matches come first (both words, then one), a whole word before
    # the start of a longer one ("lagret"); equal scores go by the soonest start.
    assert titles == [
        "Truckkort och lager",
        "Lager tidigt",
        "Lager sent",
        "Gaffeltruck",
    ]


def test_results_paginate_and_keep_the_filters(
    client: Any, teacher: Any, place: Any
) -> None:
    for n in range(25):
        place(f"Svets {n:02d}", start_date=date(2027, 1, 1 + n))
    place("Frisör")
    first = client.get("/school/search?q=svets&kind=apl").get_data(as_text=True)
    assert _titles(first) == [f"Svets {n:02d}" for n in range(20)]
    assert "25 placements found" in first
    assert "q=svets&amp;kind=apl&amp;page=2" in first
    second = client.get("/school/search?q=svets&kind=apl&page=2").get_data(as_text=True)
    assert _titles(second) == [f"Svets {n:02d}" for n in range(20, 25)]


def test_distance_search_paginates_after_the_exact_filter(
    client: Any, teacher: Any, place: Any
) -> None:
    for n in range(23):
        place(f"Nära {n:02d}", start_date=date(2027, 2, 1 + n))
    for n in range(5):
        place(f"Långt {n}", lat=MORA[0] + 0.6, lon=MORA[1])  # ~67 km
    first = client.get("/school/search?km=20").get_data(as_text=True)
    assert "23 placements found" in first and "Page 1 of 2" in first
    second = client.get("/school/search?km=20&page=2").get_data(as_text=True)
    assert _titles(second) == ["Nära 20", "Nära 21", "Nära 22"]


def test_company_name_links_to_the_company_page(
    client: Any, teacher: Any, place: Any, make_company: Any
) -> None:
    company = make_company(name="Dalasvets AB")
    place("Svetsning", company=company)
    page = client.get("/school/search?q=dalasvets").get_data(as_text=True)
    assert "Dalasvets AB" in page  # a company's name is searched too
    assert f'href="/company/{company.id}"' in page


def test_export_of_search_results(client: Any, teacher: Any, place: Any) -> None:
    for n in range(25):
        place(f"Svets {n:02d}")
    place("Frisör")
    page = client.get("/school/search?q=svets").get_data(as_text=True)
    assert "/school/search?format=csv&amp;q=svets" in page
    response = client.get("/school/search?q=svets&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    assert text.count("Svets ") == 25 and "Frisör" not in text
    assert "Verkstad AB" in text
    xlsx = client.get("/school/search?q=svets&km=30&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"


@pytest.mark.parametrize("query", ["q=svets", "q=svets&km=30"])
def test_query_count_does_not_grow_with_results(
    client: Any,
    teacher: Any,
    place: Any,
    make_company: Any,
    count_queries: Any,
    query: str,
) -> None:
    def statements() -> int:
        before = count_queries.count
        response = client.get(f"/school/search?{query}")
        assert response.status_code == 200
        return count_queries.count - before

    for _ in range(3):
        place("Svets", company=make_company())
    few = statements()
    assert (
        len(_titles(client.get(f"/school/search?{query}").get_data(as_text=True))) == 3
    )
    for _ in range(27):
        place("Svets", company=make_company())
    many = statements()
    assert (
        len(_titles(client.get(f"/school/search?{query}").get_data(as_text=True))) == 20
    )
    assert few == many


def test_company_role_cannot_search_as_school(client: Any, auth: Any) -> None:
    auth.login(Role.COMPANY)
    assert client.get("/school/search").status_code == 403


def test_search_without_words_lists_every_open_placement(
    client: Any, teacher: Any, place: Any
) -> None:
    page = client.get("/school/search").get_data(as_text=True)
    assert 'name="q"' in page and "No open placement matches." in page
    place("Svets", start_date=date(2027, 3, 1))
    place("Frisör", start_date=date(2027, 2, 1))
    page = client.get("/school/search").get_data(as_text=True)
    assert _titles(page) == ["Frisör", "Svets"]
