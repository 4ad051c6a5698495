"""The skills-gap picture: figures, the unaddressed mark, filters, the trend."""

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from moraspar.council.scope import EVERYTHING
from moraspar.gaps import services
from moraspar.models import ProgrammeGapMatch, Role

TAG = re.compile(r"<[^>]+>")


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table with table_id, as lists of cell texts."""
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert match, f"no table {table_id}"
    body = match.group(0).split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(TAG.sub(" ", c).split()) for c in cells])
    return rows


@pytest.fixture
def picture(
    make_company: Any, make_school: Any, make_programme: Any, make_skill_gap: Any
) -> dict[str, Any]:
    mora = make_company(name="Mora Bil AB", locality="Mora")
    orsa = make_company(name="Orsa Omsorg AB", locality="Orsa")
    school = make_school(name="Mora gymnasium")
    vehicles = make_programme(
        school, name="Fordonsprogrammet", skills=["Fordonsteknik"], places_per_year=16
    )
    make_programme(
        school, name="Nedlagt program", skills=["omvårdnad"], active=False
    )  # inactive: supplies nothing
    car = make_skill_gap(
        mora,
        title="Bilmekaniker",
        skills=["fordonsteknik", "diagnostik"],
        ssyk_code="7231",
        headcount=3,
    )
    care = make_skill_gap(
        orsa,
        title="Undersköterskor",
        skills=["omvårdnad"],
        ssyk_code="5321",
        headcount=4,
        horizon="now",
    )
    return {"car": car, "care": care, "vehicles": vehicles, "school": school}


def test_table_figures_match_the_data_and_unaddressed_gap_is_flagged(
    client: Any, auth: Any, picture: dict[str, Any]
) -> None:
    auth.login(Role.COUNCIL, language="en")
    html = client.get("/gaps/").get_data(as_text=True)

    rows = {row[0]: row for row in table_rows(html, "gap-table")}
    assert rows["7 Building and manufacturing"][1:5] == ["1", "3", "1", "16"]
    assert rows["7 Building and manufacturing"][5] == "–"
    care = rows["5 Service, care and sales"]
    assert care[1:5] == ["1", "4", "0", "0"]
    assert "⚠" in care[5] and "1 gap" in care[5]  # a mark and text, not colour

    unaddressed = table_rows(html, "unaddressed-table")
    assert len(unaddressed) == 1
    assert "Undersköterskor" in unaddressed[0][0]
    assert "Not addressed" in unaddressed[0][0]
    assert "Orsa Omsorg AB" in unaddressed[0][1]


def test_chart_is_inline_svg_with_a_text_alternative_and_no_inline_style(
    client: Any, auth: Any, picture: dict[str, Any]
) -> None:
    auth.login(Role.COUNCIL, language="en")
    html = client.get("/gaps/").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert svg
    assert 'role="img"' in svg.group(0)
    assert "<title" in svg.group(0)
    # Demand bar of 4 people is the longest: the full 320 units.
    assert 'width="320.0"' in svg.group(0)
    assert "style=" not in html
    assert "<script" not in html


def test_locality_filter_keeps_only_that_localitys_companies(
    client: Any, auth: Any, picture: dict[str, Any]
) -> None:
    auth.login(Role.COUNCIL, language="en")
    html = client.get("/gaps/?locality=Mora").get_data(as_text=True)
    assert "Bilmekaniker" not in html or "Undersköterskor" not in html
    rows = {row[0]: row for row in table_rows(html, "gap-table")}
    assert set(rows) == {"7 Building and manufacturing"}
    assert "unaddressed-table" not in html


def test_horizon_filter(db: Any, picture: dict[str, Any]) -> None:
    result = services.picture(
        db, filters=services.Filters(horizon="now"), scope=EVERYTHING
    )
    assert [g.title for g in result.gaps] == ["Undersköterskor"]


def test_run_scores_replace_the_shared_tags(
    db: Any, picture: dict[str, Any], make_programme: Any
) -> None:
    care_programme = make_programme(
        picture["school"], name="Vård och omsorg", skills=[], places_per_year=24
    )
    # The run found the vehicles programme too weak for the car gap, and the
    # care programme good enough for the care gap (no shared tags at all).
    db.add(
        ProgrammeGapMatch(
            programme_id=picture["vehicles"].id,
            skill_gap_id=picture["car"].id,
            score=services.SUPPLY_THRESHOLD - 0.1,
        )
    )
    db.add(
        ProgrammeGapMatch(
            programme_id=care_programme.id,
            skill_gap_id=picture["care"].id,
            score=0.62,
        )
    )
    db.commit()
    result = services.picture(db, filters=services.Filters(), scope=EVERYTHING)
    by_title = {g.title: g for g in result.gaps}
    assert not by_title["Bilmekaniker"].addressed
    assert [p.name for p in by_title["Undersköterskor"].programmes] == [
        "Vård och omsorg"
    ]
    assert result.scored_by_run == 2
    care_group = next(g for g in result.groups if g.key == "5")
    assert care_group.places == 24


def test_group_by_skill(db: Any, picture: dict[str, Any]) -> None:
    result = services.picture(
        db, filters=services.Filters(group="skill"), scope=EVERYTHING
    )
    groups = {g.label: g for g in result.groups}
    assert set(groups) == {"fordonsteknik", "diagnostik", "omvårdnad"}
    assert groups["omvårdnad"].headcount == 4
    assert groups["fordonsteknik"].places == 16
    assert groups["diagnostik"].places == 16  # the same gap's programme
    assert result.groups[0].label == "omvårdnad"  # most people first


def test_trend_counts_gaps_per_term(
    db: Any, make_company: Any, make_skill_gap: Any
) -> None:
    company = make_company()
    make_skill_gap(company, headcount=2, created_at=datetime(2026, 2, 10, tzinfo=UTC))
    make_skill_gap(
        company, headcount=5, created_at=datetime(2026, 6, 30, 12, tzinfo=UTC)
    )
    make_skill_gap(company, headcount=1, created_at=datetime(2026, 9, 1, tzinfo=UTC))
    make_skill_gap(
        company, headcount=9, created_at=datetime(2020, 9, 1, tzinfo=UTC)
    )  # too old
    terms = services.trend(
        db, filters=services.Filters(), today=date(2026, 10, 5), scope=EVERYTHING
    )
    assert [t.key for t in terms] == [
        "VT2024",
        "HT2024",
        "VT2025",
        "HT2025",
        "VT2026",
        "HT2026",
    ]
    assert [(t.gaps, t.headcount) for t in terms][-2:] == [(2, 7), (1, 1)]
    assert sum(t.gaps for t in terms) == 3


def test_empty_state(client: Any, auth: Any) -> None:
    auth.login(Role.COUNCIL, language="en")
    html = client.get("/gaps/").get_data(as_text=True)
    assert "No company has posted an open skill gap yet." in html


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY])
def test_only_council_and_admins(client: Any, auth: Any, role: Role) -> None:
    auth.login(role)
    assert client.get("/gaps/").status_code == 403


def test_admin_may_see_it(client: Any, auth: Any, picture: dict[str, Any]) -> None:
    auth.login(Role.ADMIN, language="en")
    assert client.get("/gaps/").status_code == 200


def test_a_skill_written_in_another_form_is_the_same_skill(
    db: Any,
    make_company: Any,
    make_school: Any,
    make_programme: Any,
    make_skill_gap: Any,
) -> None:
    """The gap picture reads "the same skill" as the ranker does (word stems),
    so "Svetsningar" in a programme meets a company's "svetsning"."""
    school = make_school(name="Mora gymnasium")
    make_programme(school, name="Industritekniska programmet", skills=["Svetsningar"])
    company = make_company(name="Mora Svets AB", locality="Mora")
    make_skill_gap(company, title="Svetsare", skills=["svetsning"], ssyk_code="7212")

    result = services.picture(db, filters=services.Filters(), scope=EVERYTHING)

    gap = next(g for g in result.gaps if g.title == "Svetsare")
    assert gap.addressed
    assert [p.name for p in gap.programmes] == ["Industritekniska programmet"]
